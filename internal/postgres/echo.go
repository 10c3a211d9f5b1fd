package postgres

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// EchoTracer logs every query at debug level: DB_ECHO, like SQLAlchemy's
// echo. Arguments are not logged, since they include password hashes.
type EchoTracer struct {
	Log *slog.Logger
}

// TraceQueryStart implements pgx.QueryTracer.
func (t EchoTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	t.Log.DebugContext(ctx, "sql", "query", data.SQL)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t EchoTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if data.Err != nil {
		t.Log.DebugContext(ctx, "sql failed", "err", data.Err)
	}
}
