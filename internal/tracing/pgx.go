package tracing

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// QueryTracer is a pgx.QueryTracer that wraps every query in a client span:
// named "SELECT items" (operation and first table) and carrying the SQL
// text as written in the code (with $1 placeholders: arguments, which
// include password hashes and token digests, are never recorded), the
// database name, the server address and, on failure, the error and the
// SQLSTATE. pgx.ErrNoRows is not an error here: "not found" is an
// ordinary answer.
//
// Create it with NewQueryTracer; set it as pgx.ConnConfig.Tracer, chained
// with other tracers by ChainQueryTracers (pgx takes only one).
type QueryTracer struct {
	tracer trace.Tracer
	// allowRoot makes queries outside any span start traces of their own.
	allowRoot bool
}

// QueryTracerOption changes a QueryTracer.
type QueryTracerOption func(*QueryTracer)

// AllowRootSpans makes queries run outside any span (migrations at
// start-up, background work) start traces of their own. Off by default:
// such traces would be one lone span each, noise rather than insight.
func AllowRootSpans() QueryTracerOption {
	return func(t *QueryTracer) { t.allowRoot = true }
}

// NewQueryTracer returns a QueryTracer producing spans through tp, or nil
// (an untyped nil interface) when tp is nil or a no-op provider, so that a
// disabled tracer costs pgx nothing: ChainQueryTracers drops nils, and
// `if tracer != nil` checks work as they read.
func NewQueryTracer(tp trace.TracerProvider, opts ...QueryTracerOption) pgx.QueryTracer {
	if !Enabled(tp) {
		return nil
	}
	t := &QueryTracer{tracer: tp.Tracer(instrumentationName)}
	for _, o := range opts {
		o(t)
	}
	return t
}

// TraceQueryStart implements pgx.QueryTracer.
func (t *QueryTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if t == nil || (!t.allowRoot && !trace.SpanContextFromContext(ctx).IsValid()) {
		return ctx
	}
	op, table := summarize(data.SQL)
	name := op
	if table != "" {
		name += " " + table
	}
	attrs := make([]attribute.KeyValue, 0, 7)
	attrs = append(attrs,
		semconv.DBSystemNamePostgreSQL,
		semconv.DBOperationName(op),
		semconv.DBQueryText(data.SQL),
	)
	if table != "" {
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	if conn != nil {
		if cfg := conn.Config(); cfg != nil {
			attrs = append(attrs,
				semconv.DBNamespace(cfg.Database),
				semconv.ServerAddress(cfg.Host),
				semconv.ServerPort(int(cfg.Port)),
			)
		}
	}
	ctx, _ = t.tracer.Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...),
	)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *QueryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if t == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if err := data.Err; err != nil && !errors.Is(err, pgx.ErrNoRows) {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			span.SetAttributes(semconv.DBResponseStatusCode(pgErr.Code))
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, "query failed")
	} else if data.CommandTag.Select() {
		span.SetAttributes(semconv.DBResponseReturnedRows(int(data.CommandTag.RowsAffected())))
	}
	span.End()
}

// ChainQueryTracers combines query tracers into the one pgx accepts, in
// order: each one's TraceQueryStart gets the context the previous returned,
// and every TraceQueryEnd gets the last. Nil tracers (a disabled
// QueryTracer, an unset DB_ECHO) are dropped; with none left the result is
// nil (no tracing at all), with one it is that tracer itself. Tracers that
// also trace batches, copies, prepares, connects or pool acquires keep
// doing so (pgx's multitracer sorts them by interface).
func ChainQueryTracers(tracers ...pgx.QueryTracer) pgx.QueryTracer {
	kept := make([]pgx.QueryTracer, 0, len(tracers))
	for _, t := range tracers {
		if t == nil {
			continue
		}
		if qt, ok := t.(*QueryTracer); ok && qt == nil {
			continue // a typed nil *QueryTracer
		}
		kept = append(kept, t)
	}
	switch len(kept) {
	case 0:
		return nil
	case 1:
		return kept[0]
	}
	return multitracer.New(kept...)
}

// summarize returns the operation (SELECT, INSERT, ...) of a statement and
// its first table, for a span name of low cardinality. The SQL comes from
// the code, not from users, so the set of names is bounded.
func summarize(sql string) (op, table string) {
	fields := strings.Fields(sql)
	if len(fields) == 0 {
		return "QUERY", ""
	}
	op = strings.ToUpper(fields[0])
	after := func(keyword string) string {
		for i := 1; i+1 < len(fields); i++ {
			if strings.EqualFold(fields[i], keyword) {
				return cleanIdent(fields[i+1])
			}
		}
		return ""
	}
	switch op {
	case "SELECT":
		table = after("FROM")
	case "INSERT":
		table = after("INTO")
	case "UPDATE":
		if len(fields) > 1 {
			table = cleanIdent(fields[1])
		}
	case "DELETE":
		table = after("FROM")
	case "WITH":
		// The main statement of a CTE is not worth parsing here.
	default:
		if !isWord(op) {
			return "QUERY", ""
		}
	}
	return op, table
}

// cleanIdent strips quotes, a schema prefix's punctuation and a trailing
// parenthesis or comma from a table reference; anything that does not then
// look like an identifier (a subquery) is dropped.
func cleanIdent(s string) string {
	s = strings.TrimRight(s, "(),;")
	s = strings.ReplaceAll(s, `"`, "")
	if s == "" || !isIdent(s) {
		return ""
	}
	return s
}

func isWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && c != '_' {
			return false
		}
	}
	return s != ""
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '.' {
			return false
		}
	}
	return true
}
