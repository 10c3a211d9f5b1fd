// Package metrics exposes myapi's Prometheus metrics: HTTP request counts,
// latencies and in-flight requests, build information, and the Go runtime
// and process collectors.
//
// Every Metrics value owns its own prometheus.Registry instead of using the
// global default one, so tests can start several servers in one process
// without "duplicate metrics collector registration" panics, and so /metrics
// shows exactly what myapi registered.
//
// Extending: other subsystems (database pool, cache, rate limiter, jobs)
// register their collectors on Metrics.Registry, naming their metrics with
// the Namespace prefix ("myapi_db_pool_in_use", ...). Keep label values
// bounded: never put ids, raw paths, user input or error strings in a label,
// because every distinct value is a new time series held in memory forever.
package metrics

import (
	"maps"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"myapi/internal/statuswriter"
)

// Namespace prefixes every metric myapi defines, so dashboards and alerts can
// tell them apart from the go_*, process_* and promhttp_* metrics of the
// libraries. Collectors added by other packages should use it too.
const Namespace = "myapi"

// UnmatchedRoute is the route label of requests that matched no route (404s,
// 405s and anything answered by a middleware before routing, such as a CORS
// preflight). Lumping them together keeps scanners probing random paths from
// creating one time series per path.
const UnmatchedRoute = "unmatched"

// otherMethod is the method label of any request method outside the standard
// set: the method is client-controlled, so it must not become a label as is.
const otherMethod = "OTHER"

// durationBuckets span 1 ms to 10 s: below 1 ms the clock and scheduling
// noise dominate, and above 10 s a request is a failure whatever its exact
// duration (the server's own timeouts are shorter than that).
var durationBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// Metrics holds the registry and the HTTP instruments of one server. Create
// it with New; the zero value is not usable.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	handler  http.Handler

	// series caches the counter and histogram children of each label
	// combination. WithLabelValues hashes and UTF-8-validates every label
	// value on every call, which was half of the middleware's cost; a
	// lookup in this map is a fraction of that. The map is copy-on-write:
	// requests read it without locking, and only the first request of a
	// new combination (a few hundred at most: methods, routes and statuses
	// are all bounded) takes seriesMu to publish a grown copy. The vectors
	// are never Reset or Deleted from, which would orphan cached children.
	series   atomic.Pointer[map[seriesKey]series]
	seriesMu sync.Mutex
}

// seriesKey is one label combination of the HTTP metrics.
type seriesKey struct {
	method, route string
	status        int
}

// series holds the instruments of one seriesKey.
type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// New creates a Metrics with its own registry holding the Go runtime and
// process collectors, myapi_build_info and the HTTP request metrics. version
// and commit become labels of myapi_build_info (empty ones read "unknown"),
// so a dashboard can show which build is running and join it onto other
// series.
func New(version, commit string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace,
			Subsystem: "http",
			Name:      "requests_total",
			Help:      "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace,
			Subsystem: "http",
			Name:      "request_duration_seconds",
			Help:      "Time to serve an HTTP request, by method and route template.",
			Buckets:   durationBuckets,
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace,
			Subsystem: "http",
			Name:      "requests_in_flight",
			Help:      "HTTP requests being served right now.",
		}),
	}
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace,
		Name:      "build_info",
		Help:      "Always 1; its labels say which build of myapi is running.",
		ConstLabels: prometheus.Labels{
			"version":   orUnknown(version),
			"commit":    orUnknown(commit),
			"goversion": runtime.Version(),
		},
	})
	buildInfo.Set(1)
	m.series.Store(&map[seriesKey]series{})

	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		m.requests,
		m.duration,
		m.inFlight,
	)

	// Built once: InstrumentMetricHandler registers promhttp's own scrape
	// counters on reg, which must happen only once per registry.
	m.handler = promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry: reg, // counts failed scrapes in promhttp_metric_handler_errors_total
		// A scrape gathers every collector; bound concurrent ones so a
		// public /metrics cannot be used to burn the server's CPU.
		MaxRequestsInFlight: 4,
	}))
	return m
}

// Registry returns the registry behind Handler, so other packages can
// register their own collectors (database pool, cache, rate limiter, jobs)
// and have them exposed on the same /metrics. Use MustRegister at start-up;
// registering a second collector with the same metric name panics, which is
// what catches a clash early.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text exposition format (or
// OpenMetrics/protobuf when the scraper negotiates it). Mount it at /metrics
// on the API router or on a separate listener (METRICS_ADDR) so it need not
// be public. It is the same handler on every call.
func (m *Metrics) Handler() http.Handler { return m.handler }

// Middleware counts and times every request passing through it, labelled by
// method, chi route template and status.
//
// It must be installed on the chi router itself (router.Use, Group or With),
// not wrapped around it: the route template is read from the chi routing
// context after the request is served, and a router wrapped from outside
// keeps that context in a request copy this middleware never sees, so
// every request would be labelled "unmatched". Installing it outside the
// panic-recovery middleware lets a recovered panic be counted as the 500 it
// became; installed inside, a panic is still counted as a 500 and the
// in-flight gauge still decremented.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statuswriter.Writer{ResponseWriter: w}
		m.inFlight.Inc()
		finished := false
		defer func() {
			m.inFlight.Dec()
			if !finished {
				// next panicked: record it before the panic goes on
				// unwinding to whatever recovers it.
				if sw.Status == 0 {
					sw.Status = http.StatusInternalServerError
				}
				m.observe(r, sw.Status, start)
			}
		}()
		next.ServeHTTP(sw, r)
		finished = true
		if sw.Status == 0 {
			// Nothing written at all: net/http sends an empty 200.
			sw.Status = http.StatusOK
		}
		m.observe(r, sw.Status, start)
	})
}

// observe records one served request.
func (m *Metrics) observe(r *http.Request, status int, start time.Time) {
	s := m.seriesFor(seriesKey{method: methodLabel(r.Method), route: routeLabel(r), status: status})
	s.requests.Inc()
	s.duration.Observe(time.Since(start).Seconds())
}

// seriesFor returns the instruments of k, creating them on first use.
func (m *Metrics) seriesFor(k seriesKey) series {
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	old := *m.series.Load()
	if s, ok := old[k]; ok { // another request created it meanwhile
		return s
	}
	s := series{
		requests: m.requests.WithLabelValues(k.method, k.route, statusLabel(k.status)),
		duration: m.duration.WithLabelValues(k.method, k.route),
	}
	grown := make(map[seriesKey]series, len(old)+1)
	maps.Copy(grown, old)
	grown[k] = s
	m.series.Store(&grown)
	return s
}

// routeLabel returns the chi route template that served r, never the raw
// path, whose cardinality is unbounded (/items/1, /items/2, ...).
func routeLabel(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return UnmatchedRoute
	}
	if p := rctx.RoutePattern(); p != "" {
		return p
	}
	return UnmatchedRoute
}

// methodLabel maps the client-chosen request method onto a fixed set of
// constant strings, so an arbitrary method cannot create new series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodConnect:
		return http.MethodConnect
	case http.MethodTrace:
		return http.MethodTrace
	}
	return otherMethod
}

// statusLabels holds the decimal strings of the valid status codes, so the
// hot path does not allocate one with strconv.Itoa on every request.
var statusLabels = func() (t [600]string) {
	for code := 100; code < len(t); code++ {
		t[code] = strconv.Itoa(code)
	}
	return t
}()

// statusLabel returns code as a label value.
func statusLabel(code int) string {
	if code >= 100 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

// orUnknown keeps an unset build label visible instead of dropping it
// (Prometheus treats an empty label value as an absent label).
func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
