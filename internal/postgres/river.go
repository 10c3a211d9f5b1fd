package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"myapi/internal/metrics"
	"myapi/internal/riverdb"
	"myapi/internal/sqldb"
)

// NewJobClient implements riverdb.Engine: River on the pool.
func (db *DB) NewJobClient(cfg *river.Config) (riverdb.Client, error) {
	native := func(t sqldb.Tx) (pgx.Tx, bool) {
		own, ok := t.(tx)
		return own.tx, ok
	}
	return riverdb.NewClient(riverpgxv5.New(db.pool), cfg, native, db.engine.conn)
}

// MigrateRiver implements riverdb.Engine. It holds an advisory lock of the
// current schema meanwhile, so instances starting together migrate once.
func (db *DB) MigrateRiver(ctx context.Context) ([]string, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", classify(err))
	}
	defer conn.Release()
	const key = `hashtext('myapi:river-migrate:' || coalesce(current_schema(), ''))`
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return nil, fmt.Errorf("migrate river: lock: %w", classify(err))
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`) }()
	return riverdb.Migrate(ctx, riverpgxv5.New(db.pool))
}

// Collectors are the pool's metrics (myapi_db_pool_*).
func (db *DB) Collectors() []prometheus.Collector {
	return []prometheus.Collector{metrics.NewPoolCollector(db.pool)}
}
