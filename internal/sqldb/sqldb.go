// Package sqldb is what every SQL engine (internal/sqlite,
// internal/postgres) offers the code shared between them: statements run
// through a Querier, transactions, and the engine's driver errors turned
// into the errors of this package, so that nothing outside an engine knows
// a driver's error codes.
//
// Statements are written with "?" placeholders; an engine whose driver
// wants others (PostgreSQL's $1) rewrites them.
package sqldb

import "context"

// Querier runs statements.
type Querier interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows; the caller closes them.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	// QueryRow runs a statement for its first row; Scan reports
	// sql.ErrNoRows (errors.Is) when there is none.
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Row is one row of a result.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result being read.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Tx is a transaction of the engine that began it. Hooks that run inside
// a store's transaction (users.TxHook) get it, and write through it.
type Tx interface {
	Querier
	// Commit makes the transaction's writes last.
	Commit(ctx context.Context) error
	// Rollback undoes them; after Commit it does nothing.
	Rollback(ctx context.Context) error
}
