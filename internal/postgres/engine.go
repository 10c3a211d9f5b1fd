package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"myapi/internal/sqldb"
	"myapi/internal/sqlstore"
)

// engine is what PostgreSQL gives sqlstore: every statement through the
// pool, row locks, and an advisory lock for superuser changes.
type engine struct {
	pool *pgxpool.Pool
	conn conn
}

func newDB(pool *pgxpool.Pool) *DB {
	e := engine{pool: pool, conn: conn{q: pool, rewrites: &sync.Map{}}}
	return &DB{Store: sqlstore.New(e), pool: pool, engine: e}
}

// Querier runs statements on the pool, with "?" placeholders; for
// statements sqlstore does not hold (tests, tools).
func (db *DB) Querier() sqldb.Querier { return db.engine.conn }

func (e engine) Reader() sqldb.Querier { return e.conn }
func (e engine) Writer() sqldb.Querier { return e.conn }

func (e engine) Begin(ctx context.Context) (sqldb.Tx, error) {
	t, err := e.pool.Begin(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return tx{conn: conn{q: t, rewrites: e.conn.rewrites}, tx: t}, nil
}

// Now is truncated to the microseconds PostgreSQL keeps, so that what a
// write returns equals what a read finds.
func (e engine) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (e engine) Lock(mode sqlstore.LockMode) string {
	if mode == sqlstore.LockNoKeyUpdate {
		return " FOR NO KEY UPDATE"
	}
	return " FOR UPDATE"
}

// superusersLock is the transaction-level advisory lock that every change
// which may remove an active superuser takes first. Under READ COMMITTED
// two such changes would each still see the other's superuser and both
// commit, leaving none; taking the lock in turn, the second sees the
// first's result.
const superusersLock int64 = 0x6d79617069_5355 // "myapi" "SU"

func (e engine) LockSuperusers(ctx context.Context, t sqldb.Tx) error {
	_, err := t.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, superusersLock)
	return err
}

func (e engine) Collate() string { return ` COLLATE "C"` }

// EstimateRows is pg_class.reltuples, which ANALYZE and autovacuum keep
// (-1 before the first).
func (e engine) EstimateRows(ctx context.Context, table string) (int64, error) {
	var n int64
	err := e.conn.QueryRow(ctx, `SELECT reltuples::bigint FROM pg_class WHERE oid = ?::regclass`, table).Scan(&n)
	return n, err
}
