// Package testdb gives tests a fresh, migrated database of each engine:
// SQLite always, PostgreSQL when TEST_DATABASE_URL is set. With CI=true a
// missing TEST_DATABASE_URL fails the test instead of skipping it.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/storage"
)

// Engine is one database engine a suite runs against.
type Engine struct {
	// Name is "sqlite" or "postgres", for subtest names.
	Name string
	// Open returns a new empty, migrated database, closed at the end of t.
	Open func(t testing.TB) storage.Store
	// URL returns a DATABASE_URL for a new empty (unmigrated) database,
	// for tests that start the whole program.
	URL func(t testing.TB) string
}

// Engines lists the engines available to this run.
func Engines(t testing.TB) []Engine {
	engines := []Engine{{Name: "sqlite", Open: openSQLite, URL: sqliteURL}}
	if PostgresURL(t) != "" {
		engines = append(engines, Engine{Name: "postgres", Open: openPostgres, URL: postgresSchemaURL})
	}
	return engines
}

// PostgresURL returns TEST_DATABASE_URL. It is empty on a developer's
// machine without PostgreSQL; under CI=true its absence fails t, because CI
// must never skip the PostgreSQL suites silently.
func PostgresURL(t testing.TB) string {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL suites must run in CI")
	}
	return url
}

func sqliteURL(t testing.TB) string {
	return "sqlite:///" + filepath.Join(t.TempDir(), "test.db")
}

func openSQLite(t testing.TB) storage.Store {
	return Open(t, sqliteURL(t))
}

func openPostgres(t testing.TB) storage.Store {
	return Open(t, postgresSchemaURL(t))
}

// Open opens the database at url, migrated, closed at the end of t;
// several servers (or tests) may open one url.
func Open(t testing.TB, url string) storage.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := storage.Open(ctx, url, storage.Options{PoolSize: 2, MaxOverflow: 8})
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := storage.MigrateUp(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// postgresSchemaURL creates a schema of its own for t in the test database
// (dropped at the end) and returns a URL whose search_path points at it, so
// tests run in parallel without seeing each other's rows.
func postgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping PostgreSQL (set it to run this against a real server)")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
