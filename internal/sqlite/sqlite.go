// Package sqlite stores myapi's data in an embedded SQLite file (pure Go,
// no cgo): the zero-setup default engine.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"myapi/internal/sqlstore"
	"myapi/migrations"
)

// DB is an open SQLite database. SQLite allows one writer at a time, so
// writes go through a single connection (no "database is locked" errors
// under load) while reads use a pool and run in parallel thanks to WAL.
// The statements it runs for users, items, sessions and reset tokens are
// sqlstore's.
type DB struct {
	*sqlstore.Store
	write *sql.DB
	read  *sql.DB
}

// Open opens (creating if needed) the database file at path.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: create directory: %w", err)
		}
	}
	pragmas := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(5000)", "synchronous(NORMAL)"} {
		pragmas.Add("_pragma", p)
	}
	dsn := "file:" + path + "?" + pragmas.Encode()

	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	db := &DB{write: write, read: read}
	db.Store = sqlstore.New(engine{db})
	if err := db.Ping(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// PathFromURL returns the file path in a SQLite URL, following
// SQLAlchemy's convention so that a seed .env keeps working:
// "sqlite:///data/x.db" is relative, "sqlite:////var/x.db" absolute.
// "file:path" is accepted too.
func PathFromURL(raw string) (path string, ok bool) {
	switch {
	case strings.HasPrefix(raw, "file:"):
		path = strings.TrimPrefix(raw, "file:")
	case strings.HasPrefix(raw, "sqlite://"), strings.HasPrefix(raw, "sqlite+aiosqlite://"):
		_, rest, _ := strings.Cut(raw, "://")
		path = strings.TrimPrefix(rest, "/")
	default:
		return "", false
	}
	path, _, _ = strings.Cut(path, "?")
	return path, path != ""
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", classify(err))
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Migrations returns the goose provider for this database.
func (db *DB) Migrations() (*goose.Provider, error) {
	return migrations.NewProvider(migrations.SQLite, db.write)
}

// Engine implements storage.Store.
func (db *DB) Engine() string { return "sqlite" }
