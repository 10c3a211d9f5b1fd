// Package httpapi is myapi's HTTP interface: routes, request and response
// types (which are also the OpenAPI document), middleware and error mapping.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
	"go.opentelemetry.io/otel/trace"

	"myapi/internal/auth"
	"myapi/internal/cache"
	"myapi/internal/errtrack"
	"myapi/internal/items"
	"myapi/internal/logging"
	"myapi/internal/metrics"
	"myapi/internal/ratelimit"
	"myapi/internal/storage"
	"myapi/internal/tracing"
	"myapi/internal/users"
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

// Deps are the parts the handlers work with.
type Deps struct {
	Log    *slog.Logger
	Auth   *auth.Service
	Users  users.Store
	Items  items.Store
	Checks []Check
	// Metrics, if set, counts requests and serves /metrics.
	Metrics *metrics.Metrics
	// Limiter, if set, enforces the rate limits.
	Limiter *ratelimit.Limiter
	// Cache, if set, serves GET /items and GET /items/{item_id} (with an
	// X-Cache header) and is invalidated by item writes.
	Cache *cache.Cache
	// Tracer, if set and not a no-op, traces every request (a span named
	// by the route) and puts trace_id in its log lines.
	Tracer trace.TracerProvider
	// ErrTrack, if set, reports panics and 5xx responses to Sentry.
	ErrTrack *errtrack.Tracker
	// Jobs and Resets, if both set, serve password recovery
	// (POST /auth/password-recovery, /auth/reset-password) and the
	// superusers' view of the queue (GET /admin/jobs).
	Jobs   JobQueue
	Resets auth.ResetStore
	// Console, if set, is served at its paths under /admin
	// (internal/console), behind the same request id, logs, metrics and
	// rate limits. The API's own /admin/jobs is not one of them.
	Console Console
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

// New returns the whole API as one http.Handler.
func New(cfg Config, deps Deps) http.Handler {
	s := &server{Deps: deps, cfg: cfg}

	r := chi.NewMux()
	r.Use(middlewares(cfg, deps.Log, deps.Metrics, deps.Tracer, deps.ErrTrack)...)
	r.Use(parseBearer(deps.Auth), rateLimits(deps.Limiter))
	if deps.Metrics != nil && !cfg.HideMetrics {
		r.Handle("/metrics", deps.Metrics.Handler())
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	})

	matchKeysExactly()
	api := humachi.New(r, s.humaConfig())
	api.UseMiddleware(s.authenticate(api), checkInput(api))

	s.registerMeta(api)
	s.registerAuth(api)
	s.registerUsers(api)
	s.registerItems(api)
	s.registerJobs(api)
	documentTransportErrors(api)
	documentConflicts(api)
	describeAPI(api)
	if cfg.DocsEnabled {
		registerDocs(r, cfg.AppName)
	}
	if deps.Console != nil {
		for _, p := range deps.Console.Paths() {
			r.Handle(p, deps.Console)
		}
	}
	return r
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

// op fills in what every operation shares.
func (s *server) op(o huma.Operation) huma.Operation {
	// readBody has refused anything longer; huma answers 413 to a body of
	// exactly its limit, so its limit is one byte more.
	o.MaxBodyBytes = s.cfg.MaxBodyBytes + 1
	return o
}

// fail turns an error the handler did not expect into a response: 503 when
// the database could not serve (the client may retry), nothing worth an
// alarm when the client has gone away, and otherwise a logged 500.
func (s *server) fail(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.Log.InfoContext(ctx, "client went away", "error", err)
		return huma.NewError(statusClientClosedRequest, "Client closed the request")
	case storage.Unavailable(err):
		s.Log.WarnContext(ctx, "database unavailable", "error", err)
		return huma.Error503ServiceUnavailable(msgServiceNotReady + ": the database is unreachable")
	}
	// Logged as warnings: each is a rule the API should check itself.
	switch storage.Refused(err) {
	case storage.BadValue:
		s.Log.WarnContext(ctx, "database refused a value", "error", err)
		return huma.Error422UnprocessableEntity(msgValueRefused)
	case storage.Conflict:
		s.Log.WarnContext(ctx, "database refused a write as conflicting", "error", err)
		return huma.Error409Conflict(msgConflict)
	}
	s.Log.ErrorContext(ctx, "request failed", "error", err)
	errtrack.CaptureError(ctx, err)
	return huma.Error500InternalServerError(msgInternal)
}

// statusClientClosedRequest is nginx's 499: the client hung up first. Nobody
// reads it; it keeps such requests out of the 5xx counts.
const statusClientClosedRequest = 499
