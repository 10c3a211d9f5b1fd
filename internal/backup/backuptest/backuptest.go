// Package backuptest reads a database's tables row by row, every column,
// so that tests can compare a restored database with the original byte for
// byte on either engine.
package backuptest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/postgres"
	"myapi/internal/storage"
)

// Tables are the tables holding what clients wrote.
var Tables = []string{"users", "items"}

// Dump returns every row of tables (ordered by id, every column) in the
// database dbURL names, one line a row, values in Go syntax.
func Dump(t testing.TB, dbURL string, tables ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b strings.Builder
	if postgres.IsURL(dbURL) {
		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("application_name", "myapi-test-dump") // not a server
		u.RawQuery = q.Encode()
		conn, err := pgx.Connect(ctx, u.String())
		if err != nil {
			t.Fatalf("dump: %v", err)
		}
		defer conn.Close(context.Background())
		for _, table := range tables {
			rows, err := conn.Query(ctx, "SELECT * FROM "+pgx.Identifier{table}.Sanitize()+" ORDER BY id")
			if err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatalf("dump %s: %v", table, err)
				}
				fmt.Fprintf(&b, "%s %#v\n", table, vals)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
		}
		return b.String()
	}
	path, err := storage.SQLitePath(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatalf("dump: %v", err)
	}
	defer db.Close()
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM "`+table+`" ORDER BY id`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			fmt.Fprintf(&b, "%s %#v\n", table, vals)
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		_ = rows.Close()
	}
	return b.String()
}

// PrivateAppName gives a PostgreSQL URL an application_name of its own,
// so that a restore looks only for the servers of this test, not for those
// of other tests sharing the database; SQLite URLs are returned as they are.
func PrivateAppName(t testing.TB, dbURL string) string {
	t.Helper()
	if !postgres.IsURL(dbURL) {
		return dbURL
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "myapi_"+q.Get("search_path"))
	u.RawQuery = q.Encode()
	return u.String()
}
