// Package httpapi is myapi's HTTP interface: routes, request and response
// types (which are also the OpenAPI document), middleware and error mapping.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"go.opentelemetry.io/otel/trace"

	"myapi/internal/access"
	"myapi/internal/auth"
	"myapi/internal/cache"
	"myapi/internal/errtrack"
	"myapi/internal/logging"
	"myapi/internal/metrics"
	"myapi/internal/ratelimit"
	"myapi/internal/storage"
	"myapi/internal/tracing"
)

// Check is a named readiness probe, e.g. the database's Ping.
type Check struct {
	Name string
	Ping func(context.Context) error
	// Failure, if set, is how the 503's detail states this check's
	// failure ("shutting down"); by default "<Name> unavailable".
	Failure string
}

// Config is what the HTTP layer needs to know about the deployment.
type Config struct {
	AppName        string
	Version        string
	Environment    string
	DocsEnabled    bool
	AllowedOrigins []string
	MaxBodyBytes   int64
	// RequestTimeout bounds each request's context; 0 means none.
	RequestTimeout time.Duration
	// HideMetrics keeps /metrics off the API port (it is served on a
	// separate METRICS_ADDR instead).
	HideMetrics bool
	// LogSampler, if set, writes only a share of the successful requests'
	// access-log lines (logging.NewSampler).
	LogSampler *logging.Sampler
}

// Deps are the parts the handlers work with. A field without the tag
// deps:"optional" is required (New refuses Deps without it).
type Deps struct {
	Log  *slog.Logger
	Auth *auth.Service
	// Store is the database: every resource's store (a new one is
	// added to storage.Resources).
	Store  storage.Resources
	Checks []Check `deps:"optional"`
	// Metrics, if set, counts requests and serves /metrics.
	Metrics *metrics.Metrics `deps:"optional"`
	// Limiter, if set, enforces the rate limits.
	Limiter *ratelimit.Limiter `deps:"optional"`
	// Cache, if set, serves GET /items and GET /items/{item_id} (with an
	// X-Cache header) and is invalidated by item writes.
	Cache *cache.Cache `deps:"optional"`
	// Tracer, if set and not a no-op, traces every request (a span named
	// by the route) and puts trace_id in its log lines.
	Tracer trace.TracerProvider `deps:"optional"`
	// ErrTrack, if set, reports panics and 5xx responses to Sentry.
	ErrTrack *errtrack.Tracker `deps:"optional"`
	// Jobs, if set, serves password recovery (POST
	// /auth/password-recovery, /auth/reset-password) and the superusers'
	// view of the queue (GET /admin/jobs).
	Jobs JobQueue `deps:"optional"`
	// Console, if set, is served at its paths under /admin
	// (internal/console), behind the same request id, logs, metrics and
	// rate limits. The API's own /admin/jobs is not one of them.
	Console Console `deps:"optional"`
}

// Console is a set of pages served beside the API.
type Console interface {
	http.Handler
	// Paths are the route patterns it answers (chi syntax).
	Paths() []string
}

// server holds the dependencies every handler method uses.
type server struct {
	Deps
	cfg Config
}

// New returns the whole API as one http.Handler, or an error naming the
// parts deps lacks.
func New(cfg Config, deps Deps) (http.Handler, error) {
	if err := deps.check(); err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	s := &server{Deps: deps, cfg: cfg}

	r := chi.NewMux()
	r.Use(middlewares(cfg, deps.Log, deps.Metrics, deps.Tracer, deps.ErrTrack)...)
	r.Use(parseBearer(deps.Auth))
	// Paths nothing serves get the general limit, as every API call does.
	r.NotFound(limited(deps.Limiter, access.General, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found")
	})).ServeHTTP)
	r.MethodNotAllowed(limited(deps.Limiter, access.General, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	})).ServeHTTP)
	mount(r, deps.Limiter, s.plainRoutes())

	matchKeysExactly()
	api := humachi.New(r, s.humaConfig())
	api.UseMiddleware(limit(deps.Limiter), s.authenticate(api), checkInput(api))

	// One call per group of routes, in the order of the document's tags.
	s.registerAuth(api)
	s.registerUsers(api)
	s.registerItems(api)
	s.registerJobs(api)
	s.registerMeta(api)
	documentTransportErrors(api)
	documentConflicts(api)
	describeAPI(api)
	return r, nil
}

// plainRoutes are the routes served outside huma. huma serves the OpenAPI
// document itself (/openapi.json, /openapi.yaml), unlimited like these.
func (s *server) plainRoutes() []plainRoute {
	var routes []plainRoute
	if s.Metrics != nil && !s.cfg.HideMetrics {
		routes = append(routes, plainRoute{pattern: "/metrics", class: access.None, handler: s.Metrics.Handler()})
	}
	if s.cfg.DocsEnabled {
		routes = append(routes, docsRoutes(s.cfg.AppName)...)
	}
	if s.Console != nil {
		// The console limits its sign-in form itself (the login class);
		// its pages count against the general limit like API calls.
		for _, p := range s.Console.Paths() {
			routes = append(routes, plainRoute{pattern: p, class: access.General, handler: s.Console})
		}
	}
	return routes
}

// middlewares wrap every request, outermost first. The panic handler sits
// inside the request-id, CORS and logging layers so that a 500 still carries
// their headers and gets its log line.
func middlewares(cfg Config, log *slog.Logger, m *metrics.Metrics, tp trace.TracerProvider, et *errtrack.Tracker) []func(http.Handler) http.Handler {
	return []func(http.Handler) http.Handler{
		requestID,
		// A span per request, and trace_id in its log lines: outside the
		// access log, so its line carries trace_id too.
		tracing.Middleware(tp),
		cors.Handler(cors.Options{
			AllowedOrigins: cfg.AllowedOrigins,
			AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
			AllowedHeaders: []string{"*"},
			ExposedHeaders: []string{"X-Request-ID", "X-Process-Time", "X-Cache", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
			// The API takes bearer tokens, never cookies: a browser need not
			// send credentials cross-origin, so it is never allowed to.
			AllowCredentials: false,
			MaxAge:           600,
		}),
		securityHeaders,
		accessLog(log, cfg.LogSampler),
		metricsMiddleware(m),
		recoverPanic(log),
		// Inside the recoverer: reports a panic, then re-panics so the
		// recoverer still answers 500 JSON; reports other 5xx answers.
		et.Middleware,
		requestTimeout(cfg.RequestTimeout),
		readBody(cfg.MaxBodyBytes, log),
		// The seed answers /items/ and redirects /items; myapi answers both.
		middleware.StripSlashes,
	}
}

func (s *server) humaConfig() huma.Config {
	hc := huma.DefaultConfig(s.cfg.AppName, s.cfg.Version)
	hc.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", schemaName)
	// No "$schema" links in bodies: responses keep the seed's exact shape.
	hc.CreateHooks = nil
	hc.DocsPath = ""
	hc.SchemasPath = ""
	if !s.cfg.DocsEnabled {
		hc.OpenAPIPath = ""
	}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		securityScheme: {
			Type: "oauth2",
			Flows: &huma.OAuthFlows{Password: &huma.OAuthFlow{
				TokenURL: "/auth/login",
				Scopes:   map[string]string{},
			}},
		},
	}
	hc.Transformers = append(hc.Transformers, detailedErrors)
	json := strictJSON()
	hc.Formats = map[string]huma.Format{"application/json": json, "json": json}
	return hc
}

// securityScheme is the OpenAPI name of the bearer-token login, the same
// name FastAPI gives it.
const securityScheme = "OAuth2PasswordBearer"

// authenticated is the Security requirement of routes that need a user.
var authenticated = []map[string][]string{{securityScheme: {}}}
