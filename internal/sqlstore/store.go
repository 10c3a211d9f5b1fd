// Package sqlstore holds the SQL both engines run, and the scanning of its
// results: users, items, login sessions and password-reset tokens. An
// engine (internal/sqlite, internal/postgres) supplies only what differs
// through Engine: how statements run (placeholders, pools), its clock,
// its row locks, and its driver errors classified as sqldb's.
package sqlstore

import (
	"context"
	"fmt"
	"time"

	"myapi/internal/sqldb"
)

// Engine is what a database engine gives the shared statements.
type Engine interface {
	// Reader runs reads that need not see the caller's own uncommitted
	// writes (SQLite: its read-only pool).
	Reader() sqldb.Querier
	// Writer runs writes outside a transaction (SQLite: its single
	// writer connection).
	Writer() sqldb.Querier
	// Begin starts a write transaction.
	Begin(ctx context.Context) (sqldb.Tx, error)
	// Now is the time stored in created_at, updated_at and the like, in
	// UTC and at the precision the engine keeps.
	Now() time.Time
	// Lock is the clause that ends a SELECT of rows the transaction
	// locks (PostgreSQL's FOR UPDATE); "" for an engine whose
	// transactions run one at a time.
	Lock(mode LockMode) string
	// LockSuperusers makes the transactions that may remove an active
	// superuser take turns; nothing for an engine whose transactions run
	// one at a time.
	LockSuperusers(ctx context.Context, tx sqldb.Tx) error
	// Collate is the clause after a text expression that makes it compare
	// byte by byte, as the prefix indexes of migration 00004 are built
	// (PostgreSQL's COLLATE "C"); "" where that is the default.
	Collate() string
	// EstimateRows is the engine's cheap guess at a table's row count; -1
	// when it has none (counting is then the way).
	EstimateRows(ctx context.Context, table string) (int64, error)
}

// LockMode is the strength of a row lock.
type LockMode int

const (
	// LockUpdate is for rows that will be changed or deleted.
	LockUpdate LockMode = iota
	// LockNoKeyUpdate is for rows that will be changed but not their keys, so
	// rows that merely reference them need not wait.
	LockNoKeyUpdate
)

// Store implements users.Store, items.Store, auth.SessionStore and
// auth.ResetStore on an Engine.
type Store struct {
	e Engine
}

// New returns the store of e.
func New(e Engine) *Store { return &Store{e: e} }

// inTx runs fn in a transaction, committed if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx sqldb.Tx) error) error {
	tx, err := s.e.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// collect reads every row of a Query's result with scan.
func collect[T any](rows sqldb.Rows, err error, scan func(sqldb.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}

// utc returns *t in UTC, or nil.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
