// Package storage opens the database engine a URL names: PostgreSQL for a
// postgres URL, the embedded SQLite file otherwise. Both engines satisfy
// one Store contract and pass one test suite (internal/storetest).
package storage

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"
	"github.com/prometheus/client_golang/prometheus"

	"myapi/internal/admin"
	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/postgres"
	"myapi/internal/riverdb"
	"myapi/internal/sqlite"
	"myapi/internal/tracing"
	"myapi/internal/users"
)

// DefaultSQLitePath is where the embedded database lives when the URL is
// empty.
const DefaultSQLitePath = "data/myapi.db"

// Resources are every resource's store, as the HTTP handlers use them
// (httpapi.Deps.Store). A new resource adds its store here: both engines
// provide it through internal/sqlstore, or do not compile.
type Resources interface {
	users.Store
	items.Store
	auth.ResetStore
}

// Store is what every engine provides.
type Store interface {
	Resources
	auth.SessionStore
	// The job queue runs on the same database (riverdb).
	riverdb.Engine
	// What the admin console needs besides: searches, a user's
	// sessions, its own sessions and audit log.
	users.Searcher
	items.Searcher
	auth.SessionLister
	admin.Store
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the connections.
	Close() error
	// Migrations returns the engine's schema migrations.
	Migrations() (*goose.Provider, error)
	// Engine names the engine: "postgres" or "sqlite".
	Engine() string
	// Collectors are the engine's own metrics (PostgreSQL's pool).
	Collectors() []prometheus.Collector
}

// Options tune the PostgreSQL pool; SQLite ignores them.
type Options struct {
	PoolSize    int
	MaxOverflow int
	// Echo logs every SQL statement at debug level (DB_ECHO).
	Echo *slog.Logger
	// Tracer, if set, also sees every PostgreSQL query (OpenTelemetry
	// spans: tracing.NewQueryTracer).
	Tracer pgx.QueryTracer
}

// Open opens the database url names.
func Open(ctx context.Context, url string, opts Options) (Store, error) {
	if postgres.IsURL(url) {
		pgOpts := postgres.Options{
			MaxConns: int32(opts.PoolSize + opts.MaxOverflow),
			MinConns: int32(min(opts.PoolSize, 2)),
		}
		var echo pgx.QueryTracer
		if opts.Echo != nil {
			echo = postgres.EchoTracer{Log: opts.Echo}
		}
		pgOpts.Tracer = tracing.ChainQueryTracers(opts.Tracer, echo)
		return postgres.Open(ctx, url, pgOpts)
	}
	path, err := SQLitePath(url)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, path)
}

// SQLitePath is the file of the SQLite database url names (not a
// PostgreSQL URL): DefaultSQLitePath when url is empty.
func SQLitePath(url string) (string, error) {
	if url == "" {
		return DefaultSQLitePath, nil
	}
	p, ok := sqlite.PathFromURL(url)
	if !ok {
		return "", fmt.Errorf("DATABASE_URL: cannot find a file path in %q", url)
	}
	return p, nil
}

// MigrateUp applies every pending migration, the application's then the
// job queue's (riverdb.Engine's MigrateRiver), and returns the migrations applied.
func MigrateUp(ctx context.Context, s Store) ([]string, error) {
	p, err := s.Migrations()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	applied := make([]string, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Path)
	}
	if err != nil {
		return applied, fmt.Errorf("migrate up: %w", err)
	}
	river, err := s.MigrateRiver(ctx)
	return append(applied, river...), err
}
