// Package postgres stores myapi's data in PostgreSQL through a pgx pool: the
// production engine, shared by every instance.
package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"myapi/internal/sqlstore"
	"myapi/migrations"
)

// Options size and observe the pool.
type Options struct {
	// MaxConns caps the pool (DB_POOL_SIZE + DB_MAX_OVERFLOW).
	MaxConns int32
	// MinConns are kept open while idle (DB_POOL_SIZE).
	MinConns int32
	// Tracer, if set, sees every query (DB_ECHO).
	Tracer pgx.QueryTracer
}

// AppName is the application_name of myapi's connections when
// DATABASE_URL sets none.
const AppName = "myapi"

// DB is a PostgreSQL connection pool. The statements it runs for users,
// items, sessions and reset tokens are sqlstore's.
type DB struct {
	*sqlstore.Store
	pool   *pgxpool.Pool
	engine engine
}

// IsURL reports whether raw names a PostgreSQL database.
func IsURL(raw string) bool {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	scheme, _, _ = strings.Cut(scheme, "+") // the seed's "postgresql+asyncpg"
	return scheme == "postgres" || scheme == "postgresql"
}

// Open connects to the database at url ("postgres://", "postgresql://" or
// the seed's "postgresql+asyncpg://") and checks that it answers.
func Open(ctx context.Context, url string, opts Options) (*DB, error) {
	if scheme, rest, ok := strings.Cut(url, "://"); ok {
		scheme, _, _ = strings.Cut(scheme, "+")
		url = scheme + "://" + rest
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.MinConns > 0 && opts.MinConns <= cfg.MaxConns {
		cfg.MinConns = opts.MinConns
	}
	if opts.Tracer != nil {
		cfg.ConnConfig.Tracer = opts.Tracer
	}
	// Servers are recognised by it in pg_stat_activity (a restore refuses
	// to run while one is connected).
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = AppName
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", classify(err))
	}
	db := newDB(pool)
	if err := db.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", classify(err))
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// Pool exposes the pool to parts that need pgx itself (job queue, metrics).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Migrations returns the goose provider for this database. The *sql.DB it
// uses borrows from the pool and is closed with it.
func (db *DB) Migrations() (*goose.Provider, error) {
	return migrations.NewProvider(migrations.Postgres, stdlib.OpenDBFromPool(db.pool))
}

// Engine implements storage.Store.
func (db *DB) Engine() string { return "postgres" }
