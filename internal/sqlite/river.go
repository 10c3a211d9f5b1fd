package sqlite

import (
	"context"
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"myapi/internal/riverdb"
	"myapi/internal/sqldb"
)

// NewJobClient implements riverdb.Engine. River's reads and writes all go
// through the single writer connection: SQLite allows one writer, and
// River's own advice is a pool of one, so there is never a "database is
// locked"; a job enqueued in a transaction commits with it.
func (db *DB) NewJobClient(cfg *river.Config) (riverdb.Client, error) {
	native := func(t sqldb.Tx) (*sql.Tx, bool) {
		own, ok := t.(tx)
		return own.tx, ok
	}
	return riverdb.NewClient(riversqlite.New(db.write), cfg, native, conn{db.write})
}

// MigrateRiver implements riverdb.Engine, through the single writer.
func (db *DB) MigrateRiver(ctx context.Context) ([]string, error) {
	return riverdb.Migrate(ctx, riversqlite.New(db.write))
}

// Collectors are the engine's metrics: none, SQLite has no pool to watch.
func (db *DB) Collectors() []prometheus.Collector { return nil }
