package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"myapi/internal/sqldb"
)

// sqlQuerier is what a database/sql pool and transaction both run.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs statements with database/sql, classifying their errors.
type conn struct{ q sqlQuerier }

// Exec implements sqldb.Querier.
func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, classify(err)
	}
	n, err := res.RowsAffected()
	return n, classify(err)
}

// Query implements sqldb.Querier.
func (c conn) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := c.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, classify(err)
	}
	return classifiedRows{rows}, nil
}

// QueryRow implements sqldb.Querier.
func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return classifiedRow{c.q.QueryRowContext(ctx, query, args...)}
}

type classifiedRow struct{ row *sql.Row }

func (r classifiedRow) Scan(dest ...any) error { return classify(r.row.Scan(dest...)) }

type classifiedRows struct{ rows *sql.Rows }

func (r classifiedRows) Next() bool             { return r.rows.Next() }
func (r classifiedRows) Scan(dest ...any) error { return classify(r.rows.Scan(dest...)) }
func (r classifiedRows) Err() error             { return classify(r.rows.Err()) }
func (r classifiedRows) Close()                 { _ = r.rows.Close() }

// tx is a database/sql transaction as a sqldb.Tx.
type tx struct {
	conn
	tx *sql.Tx
}

// Commit implements sqldb.Tx.
func (t tx) Commit(context.Context) error { return classify(t.tx.Commit()) }

// Rollback implements sqldb.Tx.
func (t tx) Rollback(context.Context) error {
	if err := t.tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		return classify(err)
	}
	return nil
}
