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
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for Exec

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
		conn, err := pgx.Connect(ctx, withAppName(t, dbURL))
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
// of other tests sharing the database, and drops at the end of t the
// schemas restores set aside; SQLite URLs are returned as they are.
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
	schema := q.Get("search_path")
	q.Set("application_name", "myapi_"+schema)
	u.RawQuery = q.Encode()
	// What restores of this schema leave beside it (the replaced schema,
	// kept aside) goes with it.
	t.Cleanup(func() {
		Exec(t, dbURL, `DO $$ DECLARE s text; BEGIN
			FOR s IN SELECT nspname FROM pg_namespace WHERE nspname LIKE '`+schema+`\_%' LOOP
				EXECUTE format('DROP SCHEMA %I CASCADE', s);
			END LOOP; END $$`)
	})
	return u.String()
}

// Exec runs statements on the database dbURL names, in order.
func Exec(t testing.TB, dbURL string, stmts ...string) {
	t.Helper()
	driver, dsn := "pgx", withAppName(t, dbURL)
	if !postgres.IsURL(dbURL) {
		path, err := storage.SQLitePath(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		driver, dsn = "sqlite", "file:"+path+"?_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, stmt := range stmts {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// Fill migrates the database dbURL names and adds a user owning n items,
// written in SQL at once (for tests that need a database of some size).
func Fill(t testing.TB, dbURL string, n int) {
	t.Helper()
	db := testdbOpen(t, dbURL)
	_ = db.Close()
	user := `INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		VALUES ('filler@example.com', 'filler@example.com', 'filler', 'filler', 'x', true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`
	items := fmt.Sprintf(`INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
		SELECT 'filler ' || i, 'a description long enough to make pages: ' || i, i, (SELECT max(id) FROM users), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
		FROM generate_series(1, %d) AS s(i)`, n)
	if !postgres.IsURL(dbURL) {
		items = fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
		INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
		SELECT 'filler ' || i, 'a description long enough to make pages: ' || i, i, (SELECT max(id) FROM users), CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
		FROM s`, n)
	}
	Exec(t, dbURL, user, items)
}

// testdbOpen opens and migrates the database dbURL names.
func testdbOpen(t testing.TB, dbURL string) storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := storage.Open(ctx, dbURL, storage.Options{PoolSize: 1, MaxOverflow: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storage.MigrateUp(ctx, db); err != nil {
		_ = db.Close()
		t.Fatal(err)
	}
	return db
}

// withAppName gives a PostgreSQL URL the application_name of test tools,
// which a restore does not take for a server.
func withAppName(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "myapi-test-dump")
	u.RawQuery = q.Encode()
	return u.String()
}
