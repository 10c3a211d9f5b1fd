package postgres

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"myapi/internal/sqldb"
)

// pgxQuerier is what a pgx pool and a pgx transaction both run.
type pgxQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conn runs the shared statements on pgx directly (no database/sql in
// between), their "?" placeholders rewritten once each as $1, $2…
type conn struct {
	q        pgxQuerier
	rewrites *sync.Map // statement with "?" -> statement with $n
}

// Exec implements sqldb.Querier.
func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, c.rebind(query), args...)
	if err != nil {
		return 0, classify(err)
	}
	return tag.RowsAffected(), nil
}

// Query implements sqldb.Querier.
func (c conn) Query(ctx context.Context, query string, args ...any) (sqldb.Rows, error) {
	rows, err := c.q.Query(ctx, c.rebind(query), args...)
	if err != nil {
		return nil, classify(err)
	}
	return classifiedRows{rows}, nil
}

// QueryRow implements sqldb.Querier.
func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqldb.Row {
	return classifiedRow{c.q.QueryRow(ctx, c.rebind(query), args...)}
}

func (c conn) rebind(query string) string {
	if q, ok := c.rewrites.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	c.rewrites.Store(query, b.String())
	return b.String()
}

type classifiedRow struct{ pgx.Row }

func (r classifiedRow) Scan(dest ...any) error { return classify(r.Row.Scan(dest...)) }

type classifiedRows struct{ pgx.Rows }

func (r classifiedRows) Scan(dest ...any) error { return classify(r.Rows.Scan(dest...)) }
func (r classifiedRows) Err() error             { return classify(r.Rows.Err()) }

// tx is a pgx transaction as a sqldb.Tx.
type tx struct {
	conn
	tx pgx.Tx
}

// Commit implements sqldb.Tx.
func (t tx) Commit(ctx context.Context) error { return classify(t.tx.Commit(ctx)) }

// Rollback implements sqldb.Tx.
func (t tx) Rollback(ctx context.Context) error { return classify(t.tx.Rollback(ctx)) }
