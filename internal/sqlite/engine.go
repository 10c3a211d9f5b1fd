package sqlite

import (
	"context"
	"fmt"
	"time"

	"myapi/internal/sqldb"
	"myapi/internal/sqlstore"
)

// engine is what SQLite gives sqlstore: reads on the read-only pool,
// writes and transactions on the single writer, which runs one
// transaction at a time, so no statement needs a lock.
type engine struct{ db *DB }

func (e engine) Reader() sqldb.Querier { return conn{e.db.read} }
func (e engine) Writer() sqldb.Querier { return conn{e.db.write} }

func (e engine) Begin(ctx context.Context) (sqldb.Tx, error) {
	t, err := e.db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", classify(err))
	}
	return tx{conn: conn{t}, tx: t}, nil
}

func (engine) Now() time.Time                                 { return time.Now().UTC() }
func (engine) Lock(sqlstore.LockMode) string                  { return "" }
func (engine) LockSuperusers(context.Context, sqldb.Tx) error { return nil }
func (engine) Collate() string                                { return "" }

// EstimateRows has no estimate to give: SQLite counts a million rows in
// a few milliseconds from its smallest index.
func (engine) EstimateRows(context.Context, string) (int64, error) { return -1, nil }

// Querier runs statements through the single writer; for statements
// sqlstore does not hold (tests, tools).
func (db *DB) Querier() sqldb.Querier { return conn{db.write} }
