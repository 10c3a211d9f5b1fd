package tracing

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

func TestSummarize(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT id, title FROM items WHERE id = $1": "SELECT items",
		"select 1": "SELECT",
		"\n\t\tSELECT u.id\n\t\tFROM users u WHERE u.id = $1":        "SELECT users",
		`INSERT INTO "refresh_sessions" (id) VALUES ($1)`:            "INSERT refresh_sessions",
		"UPDATE items SET title = $1 WHERE id = $2":                  "UPDATE items",
		"DELETE FROM public.users WHERE id = $1":                     "DELETE public.users",
		"SELECT count(*) FROM (SELECT 1) AS s":                       "SELECT",
		"WITH x AS (SELECT 1) SELECT * FROM x":                       "WITH",
		"BEGIN":                                                      "BEGIN",
		"":                                                           "QUERY",
		"-- comment\nSELECT 1":                                       "QUERY",
		"SELECT pg_advisory_lock($1)":                                "SELECT",
		"INSERT INTO items(title) VALUES ($1)":                       "INSERT",
		"SELECT * FROM items, users":                                 "SELECT items",
		"SELECT id FROM users WHERE lower(username) = lower($1) FOR": "SELECT users",
	} {
		op, table := summarize(sql)
		got := op
		if table != "" {
			got += " " + table
		}
		if got != want {
			t.Errorf("summarize(%q) = %q, want %q", sql, got, want)
		}
	}
}

// countingTracer is another pgx tracer, standing in for DB_ECHO's, to check
// that ChainQueryTracers calls both.
type countingTracer struct {
	mu           sync.Mutex
	starts, ends int
	sawSpan      bool
}

type countingKey struct{}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.starts++
	return context.WithValue(ctx, countingKey{}, true)
}

func (c *countingTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ctx.Value(countingKey{}) == true {
		c.ends++
	}
	if trace.SpanContextFromContext(ctx).IsValid() {
		c.sawSpan = true
	}
}

func TestChainQueryTracers(t *testing.T) {
	var nilTracer *QueryTracer
	if got := ChainQueryTracers(); got != nil {
		t.Errorf("no tracers → %v, want nil", got)
	}
	if got := NewQueryTracer(nil); got != nil {
		t.Errorf("NewQueryTracer(nil) = %v, want an untyped nil", got)
	}
	if got := ChainQueryTracers(nil, nilTracer, NewQueryTracer(nil)); got != nil {
		t.Errorf("nil tracers → %v, want nil", got)
	}
	c := &countingTracer{}
	if got := ChainQueryTracers(nilTracer, c, nil); got != pgx.QueryTracer(c) {
		t.Errorf("one tracer → %v, want it as is", got)
	}
	// A typed nil QueryTracer set directly on pgx must not panic either.
	ctx := nilTracer.TraceQueryStart(context.Background(), nil, pgx.TraceQueryStartData{SQL: "SELECT 1"})
	nilTracer.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{})
}

// openTracedPool connects to TEST_DATABASE_URL with tracer; it skips
// without the variable (fails under CI=true).
func openTracedPool(t *testing.T, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	url := postgresURL(t, "tracing")
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pool.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestQuerySpansAreChildrenOfRequestSpan serves a request whose handler
// queries PostgreSQL, and checks the query's span is a child of the
// request's span, in the same trace.
func TestQuerySpansAreChildrenOfRequestSpan(t *testing.T) {
	tp, exp := newRecorder(t)
	counting := &countingTracer{}
	pool := openTracedPool(t, ChainQueryTracers(NewQueryTracer(tp), counting))

	r := chi.NewRouter()
	r.Use(Middleware(tp))
	r.Get("/items/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		if err := pool.QueryRow(r.Context(), "SELECT $1::int + 1", 41).Scan(&n); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, err := pool.Exec(r.Context(), "SELECT * FROM no_such_table_for_tracing")
		if err == nil {
			http.Error(w, "the bad query succeeded", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/items/1", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}

	spans := exp.GetSpans()
	var server, ok, failed *int
	for i, s := range spans {
		switch {
		case s.SpanKind == trace.SpanKindServer:
			server = &i
		case s.Name == "SELECT" && s.SpanKind == trace.SpanKindClient:
			ok = &i
		case s.Name == "SELECT no_such_table_for_tracing":
			failed = &i
		}
	}
	if server == nil || ok == nil || failed == nil {
		var names []string
		for _, s := range spans {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %q: want the request's and two queries'", names)
	}
	srv := spans[*server]
	for _, i := range []int{*ok, *failed} {
		q := spans[i]
		if q.Parent.SpanID() != srv.SpanContext.SpanID() || q.SpanContext.TraceID() != srv.SpanContext.TraceID() {
			t.Errorf("query span %q is not a child of the request span", q.Name)
		}
		a := attrMap(q)
		if a["db.system.name"].AsString() != "postgresql" || a["db.query.text"].AsString() == "" || a["db.namespace"].AsString() == "" {
			t.Errorf("query span %q attributes %v", q.Name, q.Attributes)
		}
	}
	if a := attrMap(spans[*ok]); a["db.query.text"].AsString() != "SELECT $1::int + 1" {
		t.Errorf("query text %q: want the SQL with its placeholder, never the argument", a["db.query.text"].AsString())
	}
	f := spans[*failed]
	if f.Status.Code != codes.Error || attrMap(f)["db.response.status_code"].AsString() != "42P01" || len(f.Events) == 0 {
		t.Errorf("failed query span: status %v attrs %v events %v", f.Status, f.Attributes, f.Events)
	}

	counting.mu.Lock()
	defer counting.mu.Unlock()
	if counting.starts != 2 || counting.ends != 2 || !counting.sawSpan {
		t.Errorf("chained tracer saw %d starts, %d ends (span in context: %v); want 2, 2, true",
			counting.starts, counting.ends, counting.sawSpan)
	}
}

func TestQueryTracerRootSpans(t *testing.T) {
	tp, exp := newRecorder(t)
	pool := openTracedPool(t, NewQueryTracer(tp))
	rootPool := openTracedPool(t, NewQueryTracer(tp, AllowRootSpans()))
	ctx := context.Background()

	// Outside any span (start-up, migrations): no span by default.
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Errorf("a query outside any span made %d spans", n)
	}
	// With AllowRootSpans, it starts a trace; and pgx.ErrNoRows is an
	// answer, not an error.
	var x int
	err := rootPool.QueryRow(ctx, "SELECT 1 WHERE false").Scan(&x)
	if !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("err = %v", err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Parent.IsValid() {
		t.Fatalf("AllowRoot: spans %v, want one root span", spans)
	}
	if spans[0].Status.Code == codes.Error {
		t.Errorf("no rows was recorded as an error")
	}
}

// postgresURL returns TEST_DATABASE_URL; without it the test skips, except
// under CI=true, where the PostgreSQL tests must run and its absence fails.
// (internal/testdb does the same, but importing it here would make an
// import cycle as soon as the storage layer uses this package.)
func postgresURL(t *testing.T, what string) string {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI")
		}
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL " + what + " test")
	}
	return url
}
