package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"myapi/internal/logging"
)

// newRecorder returns a provider that hands every ended span to an
// in-memory exporter at once (a syncer, not a batcher, so tests need not
// wait or flush).
func newRecorder(t testing.TB) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// env turns a map into a getenv function.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// accessLog mimics the application's access log: one line per request,
// logged with the request's context after it is served.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			log.InfoContext(r.Context(), "request", "path", r.URL.Path)
		})
	}
}

// recoverer mimics the application's panic handler.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if rec := recover(); rec != nil {
				http.Error(w, `{"detail":"Internal server error"}`, http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// newRouter builds a chi router in the application's order: request id,
// tracing, access log, recoverer, routes.
func newRouter(tp trace.TracerProvider, log *slog.Logger) chi.Router {
	r := chi.NewRouter()
	r.Use(
		func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Request-ID", "req-123")
				next.ServeHTTP(w, r)
			})
		},
		Middleware(tp),
		accessLog(log),
		recoverer,
	)
	r.Get("/items/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "handler ran")
		_, _ = io.WriteString(w, `{"id":1}`)
	})
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("boom") })
	r.Get("/unavailable", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	r.Route("/users", func(r chi.Router) {
		r.Get("/{user_id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
	})
	return r
}

func attrMap(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func onlySpan(t *testing.T, exp *tracetest.InMemoryExporter) tracetest.SpanStub {
	t.Helper()
	spans := exp.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1: %+v", len(spans), spans)
	}
	exp.Reset()
	return spans[0]
}

func TestMiddlewareNamesSpanByRoute(t *testing.T) {
	tp, exp := newRecorder(t)
	h := newRouter(tp, slog.New(slog.DiscardHandler))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/items/42?token=secret", nil)
	req.Header.Set("User-Agent", "test-agent")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	s := onlySpan(t, exp)
	if s.Name != "GET /items/{item_id}" {
		t.Errorf("span name %q, want %q", s.Name, "GET /items/{item_id}")
	}
	if s.SpanKind != trace.SpanKindServer {
		t.Errorf("span kind %v, want server", s.SpanKind)
	}
	a := attrMap(s)
	for key, want := range map[attribute.Key]any{
		"http.response.status_code": int64(200),
		"http.route":                "/items/{item_id}",
		"http.request.method":       "GET",
		"url.path":                  "/items/42",
		"user_agent.original":       "test-agent",
		"http.request.id":           "req-123",
	} {
		if got := a[key].AsInterface(); got != want {
			t.Errorf("attribute %s = %#v, want %#v", key, got, want)
		}
	}
	for key, v := range a {
		if strings.Contains(v.String(), "secret") {
			t.Errorf("attribute %s leaks the query string: %q", key, v.String())
		}
	}
	if s.Status.Code != codes.Unset {
		t.Errorf("status %v, want unset for a 200", s.Status.Code)
	}

	// A 4xx is not a server error; a 5xx is.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/users/7", nil))
	s = onlySpan(t, exp)
	if s.Name != "GET /users/{user_id}" || s.Status.Code != codes.Unset {
		t.Errorf("403: span %q status %v", s.Name, s.Status.Code)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/unavailable", nil))
	s = onlySpan(t, exp)
	if s.Status.Code != codes.Error || attrMap(s)["http.response.status_code"].AsInt64() != 503 {
		t.Errorf("503: status %v attrs %v", s.Status.Code, s.Attributes)
	}

	// Unmatched paths never put the raw path in the name.
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/no/such/path/123", nil))
	s = onlySpan(t, exp)
	if s.Name != "GET" {
		t.Errorf("404 span name %q, want %q", s.Name, "GET")
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("BREW", "/items/1", nil))
	if s = onlySpan(t, exp); !strings.HasPrefix(s.Name, "_OTHER") {
		t.Errorf("unknown method: span name %q", s.Name)
	}
}

func TestMiddlewarePanicIsError(t *testing.T) {
	tp, exp := newRecorder(t)
	h := newRouter(tp, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 from the recoverer", rec.Code)
	}
	s := onlySpan(t, exp)
	if s.Name != "GET /boom" || s.Status.Code != codes.Error {
		t.Errorf("span %q status %v, want GET /boom error", s.Name, s.Status.Code)
	}
	if got := attrMap(s)["http.response.status_code"].AsInt64(); got != 500 {
		t.Errorf("status code attribute %d", got)
	}
}

func TestMiddlewareContinuesIncomingTrace(t *testing.T) {
	tp, exp := newRecorder(t)
	h := newRouter(tp, slog.New(slog.DiscardHandler))
	req := httptest.NewRequest(http.MethodGet, "/items/1", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := onlySpan(t, exp)
	if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace id %s, want the incoming one", got)
	}
	if got := s.Parent.SpanID().String(); got != "00f067aa0ba902b7" {
		t.Errorf("parent span id %s, want the incoming one", got)
	}
}

func TestTraceIDInLogLines(t *testing.T) {
	tp, exp := newRecorder(t)
	var buf syncBuffer
	log := logging.New(&buf, true, slog.LevelInfo)
	h := newRouter(tp, log)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/5", nil))
	s := onlySpan(t, exp)
	want := s.SpanContext.TraceID().String()

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 log lines (handler, access log), got %q", buf.String())
	}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["trace_id"] != want {
			t.Errorf("log line %q: trace_id %v, want %s", line, rec["trace_id"], want)
		}
	}
}

func TestLogTraceID(t *testing.T) {
	tp, _ := newRecorder(t)
	var buf syncBuffer
	log := logging.New(&buf, true, slog.LevelInfo)
	ctx, span := tp.Tracer("test").Start(context.Background(), "outer")
	defer span.End()
	h := LogTraceID(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		log.InfoContext(r.Context(), "hello")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx))
	if !strings.Contains(buf.String(), `"trace_id":"`+span.SpanContext().TraceID().String()+`"`) {
		t.Errorf("log %q lacks the trace id", buf.String())
	}
	buf.Reset()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if strings.Contains(buf.String(), "trace_id") {
		t.Errorf("log %q has a trace id without a span", buf.String())
	}
}

// passthrough is a comparable handler, to check Middleware returns it as is.
type passthrough struct{ calls int }

func (p *passthrough) ServeHTTP(http.ResponseWriter, *http.Request) { p.calls++ }

func TestSetupWithoutEndpointIsNoop(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"unset":         {},
		"sdk disabled":  {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"exporter none": {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			shutdown, tp, err := Setup(context.Background(), "myapi", "1.0.0", env(vars))
			if err != nil {
				t.Fatal(err)
			}
			if Enabled(tp) {
				t.Errorf("provider %T is enabled without an endpoint", tp)
			}
			if _, span := tp.Tracer("x").Start(context.Background(), "x"); span.IsRecording() || span.SpanContext().IsValid() {
				t.Error("no-op provider made a real span")
			}
			h := &passthrough{}
			if got := Middleware(tp)(h); got != http.Handler(h) {
				t.Errorf("Middleware wrapped the handler (%T) instead of returning it", got)
			}
			if qt := NewQueryTracer(tp); qt != nil {
				t.Errorf("NewQueryTracer = %v, want nil", qt)
			}
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

func TestSetupRejectsBadSettings(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":   {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"},
		"OTEL_EXPORTER_OTLP_PROTOCOL":   {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
		"OTEL_TRACES_SAMPLER":           {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "sometimes"},
		"OTEL_TRACES_SAMPLER_ARG":       {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
		"OTEL_EXPORTER_OTLP_HEADERS":    {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"},
		"OTEL_RESOURCE_ATTRIBUTES":      {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_RESOURCE_ATTRIBUTES": "=x"},
		"OTEL_TRACES_EXPORTER":          {"OTEL_TRACES_EXPORTER": "zipkin"},
		"OTEL_EXPORTER_OTLP_TRACES_END": {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://x"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Setup(context.Background(), "myapi", "1", env(vars))
			if err == nil || !strings.HasPrefix(err.Error(), name) {
				t.Errorf("err = %v, want one starting with %s", err, name)
			}
		})
	}
}

// TestSetupExportsOTLP runs the real exporter against a local HTTP receiver
// standing in for an OpenTelemetry collector.
func TestSetupExportsOTLP(t *testing.T) {
	var (
		mu       sync.Mutex
		received []*coltracepb.ExportTraceServiceRequest
		paths    []string
		headers  []http.Header
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: decode: %v", err)
		}
		mu.Lock()
		received = append(received, &req)
		paths = append(paths, r.URL.Path)
		headers = append(headers, r.Header.Clone())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer collector.Close()

	shutdown, tp, err := Setup(context.Background(), "myapi", "1.2.3", env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL,
		"OTEL_EXPORTER_OTLP_HEADERS":  "x-api-key=abc%20def",
		"OTEL_RESOURCE_ATTRIBUTES":    "deployment.environment.name=test",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !Enabled(tp) {
		t.Fatal("provider is a no-op with an endpoint set")
	}
	h := newRouter(tp, slog.New(slog.DiscardHandler))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/9", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(received) == 0 {
		t.Fatal("the collector received nothing")
	}
	if paths[0] != "/v1/traces" {
		t.Errorf("posted to %s, want /v1/traces", paths[0])
	}
	if got := headers[0].Get("X-Api-Key"); got != "abc def" {
		t.Errorf("x-api-key header %q", got)
	}
	var names []string
	res := map[string]string{}
	for _, req := range received {
		for _, rs := range req.GetResourceSpans() {
			for _, kv := range rs.GetResource().GetAttributes() {
				res[kv.GetKey()] = kv.GetValue().GetStringValue()
			}
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					names = append(names, sp.GetName())
				}
			}
		}
	}
	if len(names) != 1 || names[0] != "GET /items/{item_id}" {
		t.Errorf("exported spans %q", names)
	}
	if res["service.name"] != "myapi" || res["service.version"] != "1.2.3" || res["deployment.environment.name"] != "test" {
		t.Errorf("resource %v", res)
	}
}

func TestSetupHonoursServiceNameAndSampler(t *testing.T) {
	shutdown, tp, err := Setup(context.Background(), "myapi", "1", env(map[string]string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:1/custom/path",
		"OTEL_SERVICE_NAME":                  "renamed",
		"OTEL_TRACES_SAMPLER":                "always_off",
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shutdown(context.Background()) }()
	if _, span := tp.Tracer("x").Start(context.Background(), "x"); span.IsRecording() {
		t.Error("always_off sampler recorded a span")
	}
	if got, _ := tracesEndpoint(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/base/"})); got != "http://c:4318/base/v1/traces" {
		t.Errorf("base endpoint → %s", got)
	}
	if got, _ := tracesEndpoint(env(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/x"})); got != "http://c:4318/x" {
		t.Errorf("traces endpoint → %s", got)
	}
	res, err := newResource("myapi", "1", env(map[string]string{"OTEL_SERVICE_NAME": "renamed"}))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := res.Set().Value("service.name"); v.AsString() != "renamed" {
		t.Errorf("service.name %q", v.AsString())
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// Benchmarks: the middleware with tracing off must cost nothing (it is the
// handler itself); on, with spans sampled out and with spans recorded.

func benchHandler(b *testing.B, mw func(http.Handler) http.Handler) {
	r := chi.NewRouter()
	r.Use(mw)
	r.Get("/items/{item_id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkNoMiddleware(b *testing.B) {
	benchHandler(b, func(next http.Handler) http.Handler { return next })
}

func BenchmarkMiddlewareOff(b *testing.B) {
	_, tp, err := Setup(context.Background(), "myapi", "1", env(nil))
	if err != nil {
		b.Fatal(err)
	}
	benchHandler(b, Middleware(tp))
}

func BenchmarkMiddlewareSampledOut(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	benchHandler(b, Middleware(tp))
}

func BenchmarkMiddlewareRecording(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(discardExporter{}))
	benchHandler(b, Middleware(tp))
}

type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// TestMiddlewareOffCostsNothing checks the benchmark's claim in every test
// run: with tracing off, the router serves as fast and with as few
// allocations as without the middleware (the same handler is installed).
func TestMiddlewareOffCostsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation comparison skipped in -short mode")
	}
	_, tp, _ := Setup(context.Background(), "myapi", "1", env(nil))
	allocs := func(mw func(http.Handler) http.Handler) float64 {
		r := chi.NewRouter()
		r.Use(mw)
		r.Get("/items/{item_id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
		req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
		w := &discardWriter{h: http.Header{}}
		return testing.AllocsPerRun(200, func() { r.ServeHTTP(w, req) })
	}
	base := allocs(func(next http.Handler) http.Handler { return next })
	off := allocs(Middleware(tp))
	if off > base {
		t.Errorf("tracing off allocates %.1f per request, without the middleware %.1f", off, base)
	}
}

// TestMiddlewareSeesPanic covers a recoverer outside the tracing middleware:
// the span still ends, as an error with status 500, and the panic goes on.
func TestMiddlewareSeesPanic(t *testing.T) {
	tp, exp := newRecorder(t)
	r := chi.NewRouter()
	r.Use(Middleware(tp))
	r.Get("/boom/{n}", func(http.ResponseWriter, *http.Request) { panic("boom") })
	rec := httptest.NewRecorder()
	recoverer(r).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom/1", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d: the panic did not reach the outer recoverer", rec.Code)
	}
	s := onlySpan(t, exp)
	if s.Name != "GET /boom/{n}" || s.Status.Code != codes.Error {
		t.Errorf("span %q status %v", s.Name, s.Status.Code)
	}
	if got := attrMap(s)["http.response.status_code"].AsInt64(); got != 500 {
		t.Errorf("status code attribute %d, want 500", got)
	}
}
