// Package migrations embeds the versioned schema of each database engine and
// applies it with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect names an engine's migration folder.
type Dialect string

// The engines myapi stores in.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// NewProvider returns a goose provider for db. On PostgreSQL it takes a
// session advisory lock, so instances starting together migrate once.
func NewProvider(dialect Dialect, db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(files, string(dialect))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	var opts []goose.ProviderOption
	gooseDialect := goose.DialectSQLite3
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		lockID, err := postgresLockID(db)
		if err != nil {
			return nil, err
		}
		// goose's default retries the lock every 5 s; instances (and
		// parallel tests) waiting on one another's migration should not
		// idle that long, so retry every second, still for up to 5 minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	return p, nil
}

// postgresLockID returns the advisory lock that serialises migrations of the
// schema db works in. Each schema has its own goose version table, so
// migrations of different schemas need not wait for each other; the public
// schema keeps goose's default lock, shared with the goose CLI.
func postgresLockID(db *sql.DB) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT coalesce(current_schema(), '')").Scan(&schema); err != nil {
		return 0, fmt.Errorf("migration lock: current schema: %w", err)
	}
	if schema == "public" || schema == "" {
		return lock.DefaultLockID, nil
	}
	return int64(crc32.ChecksumIEEE([]byte("goose:" + schema))), nil
}

// Run executes a migrate command ("up", "down" or "status") and writes
// what it did to out.
func Run(ctx context.Context, p *goose.Provider, command string, out io.Writer) error {
	switch command {
	case "up":
		results, err := p.Up(ctx)
		for _, r := range results {
			fmt.Fprintf(out, "applied %s (%s)\n", r.Source.Path, r.Duration.Round(1000))
		}
		if err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		if len(results) == 0 {
			fmt.Fprintln(out, "no migrations to apply")
		}
	case "down":
		r, err := p.Down(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: %w", err)
		}
		fmt.Fprintf(out, "rolled back %s\n", r.Source.Path)
	case "status":
		statuses, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("migrate status: %w", err)
		}
		for _, s := range statuses {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
			}
			fmt.Fprintf(out, "%-40s %s\n", s.Source.Path, applied)
		}
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down or status", command)
	}
	return nil
}
