package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// newTestRouter returns a chi router instrumented by m, with routes that
// exercise the status and route-template cases the middleware must handle.
func newTestRouter(m *Metrics) chi.Router {
	r := chi.NewRouter()
	// StripSlashes as in the server, which answers /items and /items/.
	r.Use(m.Middleware, middleware.StripSlashes)
	r.Get("/items/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"id":%q}`, chi.URLParam(r, "item_id"))
	})
	r.Post("/items", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	// Body without WriteHeader: net/http's implicit 200.
	r.Get("/implicit", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	// Nothing written at all: still a 200 on the wire.
	r.Get("/empty", func(http.ResponseWriter, *http.Request) {})
	// An informational 103 before the real status must not be the label.
	r.Get("/early-hints", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusTeapot)
	})
	// Handlers reaching the connection through http.ResponseController
	// must still work behind the wrapper.
	r.Get("/controller", func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			http.Error(w, "SetWriteDeadline: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "streamed")
		if err := rc.Flush(); err != nil {
			http.Error(w, "Flush: "+err.Error(), http.StatusInternalServerError)
		}
	})
	r.Route("/users", func(r chi.Router) {
		r.Get("/{user_id}", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		})
	})
	return r
}

// scrape fetches m.Handler() the way Prometheus would and parses the text
// exposition, so the tests check what a scraper really sees.
func scrape(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample returns the value of the series of family name whose labels
// include want: a counter's or gauge's value, a histogram's sample count.
// Missing series read 0, which is what a delta between scrapes needs.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	fam := fams[name]
	if fam == nil {
		return 0
	}
next:
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, lp := range m.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func TestMiddlewareCountsByRouteTemplate(t *testing.T) {
	m := New("1.2.3", "abc123")
	srv := httptest.NewServer(newTestRouter(m))
	defer srv.Close()

	tests := []struct {
		name       string
		method     string
		paths      []string // each is requested once
		wantMethod string
		wantRoute  string
		wantStatus string
	}{
		{"route template, not raw path", "GET", []string{"/items/1", "/items/2", "/items/3", "/items/99999"}, "GET", "/items/{item_id}", "200"},
		{"trailing slash matches the same route", "GET", []string{"/items/5/"}, "GET", "/items/{item_id}", "200"},
		{"explicit 201", "POST", []string{"/items", "/items"}, "POST", "/items", "201"},
		{"unknown paths are unmatched", "GET", []string{"/nope", "/wp-login.php", "/items/1/2/3"}, "GET", UnmatchedRoute, "404"},
		{"known path, wrong method is unmatched", "DELETE", []string{"/items/1"}, "DELETE", UnmatchedRoute, "405"},
		{"non-standard method is OTHER", "PROPFIND", []string{"/items/1"}, otherMethod, UnmatchedRoute, "405"},
		{"implicit 200 from Write", "GET", []string{"/implicit"}, "GET", "/implicit", "200"},
		{"nothing written is 200", "GET", []string{"/empty"}, "GET", "/empty", "200"},
		{"1xx is not the final status", "GET", []string{"/early-hints"}, "GET", "/early-hints", "418"},
		{"ResponseController works through the wrapper", "GET", []string{"/controller"}, "GET", "/controller", "200"},
		{"subrouter joins its patterns", "GET", []string{"/users/7", "/users/8"}, "GET", "/users/{user_id}", "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter := map[string]string{"method": tt.wantMethod, "route": tt.wantRoute, "status": tt.wantStatus}
			hist := map[string]string{"method": tt.wantMethod, "route": tt.wantRoute}
			before := scrape(t, m)

			for _, p := range tt.paths {
				req, err := http.NewRequest(tt.method, srv.URL+p, nil)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if got := fmt.Sprint(resp.StatusCode); got != tt.wantStatus {
					t.Fatalf("%s %s: status %s, want %s (body %q)", tt.method, p, got, tt.wantStatus, body)
				}
			}

			after := scrape(t, m)
			n := float64(len(tt.paths))
			if d := sample(after, "myapi_http_requests_total", counter) - sample(before, "myapi_http_requests_total", counter); d != n {
				t.Errorf("myapi_http_requests_total%v rose by %v, want %v", counter, d, n)
			}
			if d := sample(after, "myapi_http_request_duration_seconds", hist) - sample(before, "myapi_http_request_duration_seconds", hist); d != n {
				t.Errorf("myapi_http_request_duration_seconds%v count rose by %v, want %v", hist, d, n)
			}
			if v := sample(after, "myapi_http_requests_in_flight", nil); v != 0 {
				t.Errorf("myapi_http_requests_in_flight = %v after the requests, want 0", v)
			}
		})
	}

	// Raw paths and raw methods must never become label values.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, bad := range []string{"/items/99999", "/wp-login.php", "PROPFIND"} {
		if strings.Contains(rec.Body.String(), bad) {
			t.Errorf("/metrics contains %q: raw request data leaked into a label", bad)
		}
	}
}

func TestInFlightGauge(t *testing.T) {
	m := New("", "")
	entered := make(chan struct{})
	release := make(chan struct{})
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.Get("/slow", func(http.ResponseWriter, *http.Request) {
		entered <- struct{}{}
		<-release
	})

	const n = 3
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/slow", nil))
		}()
	}
	for range n {
		<-entered
	}
	if v := sample(scrape(t, m), "myapi_http_requests_in_flight", nil); v != n {
		t.Errorf("in flight while %d requests block = %v, want %d", n, v, n)
	}
	close(release)
	wg.Wait()
	if v := testutil.ToFloat64(m.inFlight); v != 0 {
		t.Errorf("in flight after they finish = %v, want 0", v)
	}
}

func TestPanicIsCountedAs500(t *testing.T) {
	// recoverer stands in for the server's panic middleware, outside ours
	// (the harder placement: the panic passes through Middleware).
	recoverer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if recover() != nil {
					w.WriteHeader(http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
	m := New("", "")
	r := chi.NewRouter()
	r.Use(recoverer, m.Middleware)
	r.Get("/boom/{id}", func(http.ResponseWriter, *http.Request) { panic("boom") })

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom/1", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
	fams := scrape(t, m)
	if v := sample(fams, "myapi_http_requests_total", map[string]string{"route": "/boom/{id}", "status": "500"}); v != 1 {
		t.Errorf("500s for /boom/{id} = %v, want 1", v)
	}
	if v := sample(fams, "myapi_http_requests_in_flight", nil); v != 0 {
		t.Errorf("in flight after a panic = %v, want 0", v)
	}
}

// TestConcurrentNewSeries has many goroutines hit label combinations for the
// first time at once, which is when the series cache grows: every request
// must still be counted exactly once (run with -race to check the cache).
func TestConcurrentNewSeries(t *testing.T) {
	m := New("", "")
	r := newTestRouter(m)
	paths := []string{"/items/1", "/users/1", "/nope", "/implicit", "/empty"}
	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				p := paths[(w+i)%len(paths)]
				r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
			}
		}()
	}
	wg.Wait()

	fams := scrape(t, m)
	var total float64
	for _, s := range fams["myapi_http_requests_total"].GetMetric() {
		total += s.GetCounter().GetValue()
	}
	if total != workers*perWorker {
		t.Errorf("counted %v requests, want %d", total, workers*perWorker)
	}
	if n := len(fams["myapi_http_requests_total"].GetMetric()); n != len(paths) {
		t.Errorf("%d request series, want %d (one per route and status)", n, len(paths))
	}
}

func TestStandardMetricsPresent(t *testing.T) {
	tests := []struct {
		name          string
		version       string
		commit        string
		wantVersion   string
		wantCommitLbl string
	}{
		{"set", "1.2.3", "abc123", "1.2.3", "abc123"},
		{"unset reads unknown", "", "", "unknown", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(tt.version, tt.commit)
			// Scrape twice so promhttp's own counter has counted a scrape.
			_ = scrape(t, m)
			fams := scrape(t, m)
			info := map[string]string{"version": tt.wantVersion, "commit": tt.wantCommitLbl, "goversion": runtime.Version()}
			if v := sample(fams, "myapi_build_info", info); v != 1 {
				t.Errorf("myapi_build_info%v = %v, want 1", info, v)
			}
			for _, name := range []string{
				"go_goroutines",
				"go_memstats_heap_alloc_bytes",
				"process_resident_memory_bytes",
				"promhttp_metric_handler_requests_total",
				"myapi_http_requests_in_flight",
			} {
				if fams[name] == nil {
					t.Errorf("%s missing from /metrics", name)
				}
			}
			if v := sample(fams, "go_goroutines", nil); v < 1 {
				t.Errorf("go_goroutines = %v, want >= 1", v)
			}
		})
	}
}

// TestIndependentRegistries guards the reason New makes its own registry:
// several servers in one test process must neither panic on registration
// nor see each other's counts.
func TestIndependentRegistries(t *testing.T) {
	a, b := New("a", "a"), New("b", "b")
	ra, rb := newTestRouter(a), newTestRouter(b)
	for range 2 {
		ra.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/1", nil))
	}
	rb.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/1", nil))

	want := map[string]string{"route": "/items/{item_id}", "status": "200"}
	if v := sample(scrape(t, a), "myapi_http_requests_total", want); v != 2 {
		t.Errorf("a counted %v, want 2", v)
	}
	if v := sample(scrape(t, b), "myapi_http_requests_total", want); v != 1 {
		t.Errorf("b counted %v, want 1", v)
	}
}

// TestRegistryAcceptsCollectors shows how other packages extend /metrics and
// checks that Registry and Handler are the same registry.
func TestRegistryAcceptsCollectors(t *testing.T) {
	m := New("", "")
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "test_extension", Help: "A collector added by another package.",
	})
	m.Registry().MustRegister(g)
	g.Set(7)
	if v := sample(scrape(t, m), "myapi_test_extension", nil); v != 7 {
		t.Errorf("registered gauge reads %v on /metrics, want 7", v)
	}
}

// TestMetricNamesLint runs promlint over myapi's own metrics, so names,
// units and help texts added later follow Prometheus conventions too.
func TestMetricNamesLint(t *testing.T) {
	m := New("1", "c")
	newTestRouter(m).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/items/1", nil))
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), Namespace+"_") {
			names = append(names, f.GetName())
		}
	}
	if len(names) < 4 {
		t.Fatalf("only %d myapi_ families gathered: %v", len(names), names)
	}
	problems, err := testutil.GatherAndLint(m.Registry(), names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

// BenchmarkMiddleware measures what the middleware adds to one request
// through a chi router: compare ns/op and allocs/op of "metrics" with
// "bare". The parallel variants show contention on the shared series.
func BenchmarkMiddleware(b *testing.B) {
	handler := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }
	bare := chi.NewRouter()
	bare.Get("/items/{item_id}", handler)
	m := New("bench", "bench")
	instrumented := chi.NewRouter()
	instrumented.Use(m.Middleware)
	instrumented.Get("/items/{item_id}", handler)

	// "only" is the middleware around a no-op handler, with the chi routing
	// context a router would have left: the overhead alone, without routing.
	only := m.Middleware(http.HandlerFunc(handler))

	for _, bc := range []struct {
		name    string
		h       http.Handler
		request func() *http.Request
	}{
		{"bare", bare, plainRequest},
		{"metrics", instrumented, plainRequest},
		{"only", only, routedRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := bc.request()
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, req)
			}
		})
		b.Run(bc.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := bc.request()
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					bc.h.ServeHTTP(w, req)
				}
			})
		})
	}
}

// plainRequest is GET /items/42 as it reaches the server's router.
func plainRequest() *http.Request { return httptest.NewRequest(http.MethodGet, "/items/42", nil) }

// routedRequest is GET /items/42 carrying the chi routing context a router
// leaves after matching /items/{item_id}. Only for "only": a router given
// a request that has a routing context reuses it without resetting it.
func routedRequest() *http.Request {
	rctx := chi.NewRouteContext()
	rctx.RoutePatterns = []string{"/items/{item_id}"}
	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	return req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, rctx))
}

// discardWriter is the cheapest possible ResponseWriter, so the benchmark
// measures the router and middleware rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
