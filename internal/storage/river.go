package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"myapi/internal/sqlite"
)

// MigrateRiver applies the job queue's (River's) own migrations, which
// River versions itself, and returns their names. On PostgreSQL it holds an
// advisory lock of the current schema meanwhile, so instances starting
// together migrate once; on SQLite it goes through the single writer.
func MigrateRiver(ctx context.Context, s Store) ([]string, error) {
	var res *rivermigrate.MigrateResult
	switch db := s.(type) {
	case interface{ Pool() *pgxpool.Pool }:
		pool := db.Pool()
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate river: %w", err)
		}
		defer conn.Release()
		const key = `hashtext('myapi:river-migrate:' || coalesce(current_schema(), ''))`
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
			return nil, fmt.Errorf("migrate river: lock: %w", err)
		}
		defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`) }()
		m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return nil, fmt.Errorf("migrate river: %w", err)
		}
		if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("migrate river: %w", err)
		}
	case *sqlite.DB:
		m, err := rivermigrate.New(riversqlite.New(db.Writer()), nil)
		if err != nil {
			return nil, fmt.Errorf("migrate river: %w", err)
		}
		if res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("migrate river: %w", err)
		}
	default:
		return nil, fmt.Errorf("migrate river: unknown engine %s", s.Engine())
	}
	names := make([]string, 0, len(res.Versions))
	for _, v := range res.Versions {
		names = append(names, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	return names, nil
}
