// Package errtrack reports myapi's failures to Sentry (or any server that
// speaks Sentry's protocol, such as GlitchTip or a self-hosted Sentry):
// panics and 5xx responses of HTTP requests, with the request id, the
// route and the trace id, and never a password, a token, an Authorization
// or Cookie header or a request body.
//
// It is off unless SENTRY_DSN is set. Off, Setup returns a nil *Tracker,
// whose methods do nothing and whose Middleware returns the next handler
// itself, so the disabled case costs nothing.
package errtrack

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/trace"

	"myapi/internal/statuswriter"
)

// Options configure a Tracker.
type Options struct {
	// DSN is the project's Sentry DSN; empty disables error tracking.
	DSN string
	// Environment ("production", "staging", ...) and Release (the
	// version) label every event, so Sentry can tell deployments apart.
	Environment string
	Release     string
	// SampleRate is the share of events sent, in (0, 1]; 0 means 1.
	SampleRate float64
	// Debug makes the SDK log what it does to stderr.
	Debug bool
}

// Setup reads the settings from the environment (getenv is os.Getenv in
// production) and returns the Tracker they describe, or nil when
// SENTRY_DSN is unset:
//
//   - SENTRY_DSN: the project's DSN (https://KEY@HOST/PROJECT_ID).
//   - SENTRY_ENVIRONMENT: overrides environment (myapi's ENVIRONMENT).
//   - SENTRY_RELEASE: overrides release (myapi's version).
//   - SENTRY_SAMPLE_RATE: share of events sent, 0 < rate ≤ 1 (default 1).
//   - SENTRY_DEBUG: true makes the SDK log to stderr.
//
// An invalid value is an error naming the variable.
func Setup(getenv func(string) string, environment, release string) (*Tracker, error) {
	opts := Options{
		DSN:         strings.TrimSpace(getenv("SENTRY_DSN")),
		Environment: environment,
		Release:     release,
	}
	if opts.DSN == "" {
		return nil, nil
	}
	if v := strings.TrimSpace(getenv("SENTRY_ENVIRONMENT")); v != "" {
		opts.Environment = v
	}
	if v := strings.TrimSpace(getenv("SENTRY_RELEASE")); v != "" {
		opts.Release = v
	}
	if v := strings.TrimSpace(getenv("SENTRY_SAMPLE_RATE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			return nil, fmt.Errorf("SENTRY_SAMPLE_RATE: %q is not a rate in (0, 1]", v)
		}
		opts.SampleRate = f
	}
	if v := strings.TrimSpace(getenv("SENTRY_DEBUG")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("SENTRY_DEBUG: %q is not a boolean", v)
		}
		opts.Debug = b
	}
	t, err := New(opts)
	if err != nil {
		return nil, fmt.Errorf("SENTRY_DSN: %w", err)
	}
	return t, nil
}

// Tracker sends events to Sentry. A nil *Tracker is valid and does nothing.
type Tracker struct {
	client *sentry.Client
}

// New returns a Tracker for opts, or nil (and no error) when opts.DSN is
// empty. The DSN is validated here; the server is first contacted when an
// event is sent, in the background.
func New(opts Options) (*Tracker, error) {
	if opts.DSN == "" {
		return nil, nil
	}
	release := opts.Release
	if release == "" {
		// Without one the SDK runs git to guess it.
		release = "unknown"
	}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:         opts.DSN,
		Environment: opts.Environment,
		Release:     release,
		SampleRate:  opts.SampleRate,
		Debug:       opts.Debug,
		// No IP addresses, cookies or all-headers dumps from the SDK's
		// integrations; the request is described by this package alone.
		SendDefaultPII: false,
		BeforeSend:     BeforeSend,
		// Breadcrumbs would be whatever other code records; this package
		// records none, and none can leak.
		MaxBreadcrumbs: -1,
		// Errors only: performance tracing is OpenTelemetry's job.
		EnableTracing:  false,
		DisableMetrics: true,
		// The classic HTTP transport: Capture queues the event before it
		// returns, so Flush (at shutdown) waits for it. With sentry-go
		// v0.46's newer telemetry buffer, an event the scheduler has
		// taken but not yet queued can be missed by Flush and lost.
		DisableTelemetryBuffer: true,
	})
	if err != nil {
		return nil, err
	}
	// Link events to the OpenTelemetry trace of their request, when
	// tracing is on.
	client.SetExternalContextTraceResolver(func(ctx context.Context) (sentry.TraceID, sentry.SpanID, bool) {
		sc := trace.SpanContextFromContext(ctx)
		return sentry.TraceID(sc.TraceID()), sentry.SpanID(sc.SpanID()), sc.IsValid()
	})
	return &Tracker{client: client}, nil
}

// Flush waits up to timeout for queued events to be sent and reports
// whether they all were.
func (t *Tracker) Flush(timeout time.Duration) bool {
	if t == nil {
		return true
	}
	return t.client.Flush(timeout)
}

// Close sends the events still queued, waiting at most timeout, then stops
// the SDK's background work. Call it once at shutdown, after the HTTP
// server has drained.
func (t *Tracker) Close(timeout time.Duration) {
	if t == nil {
		return
	}
	t.client.Flush(timeout)
	t.client.Close()
}

// requestState travels in the context of a request served by Middleware.
type requestState struct {
	t         *Tracker
	r         *http.Request
	requestID string
	// reported is set once an event was sent for this request, so a
	// reported error is not reported again as the 500 it becomes.
	reported atomic.Bool
}

type stateKey struct{}

// Middleware reports to Sentry the requests it serves that panic or answer
// with a 5xx status, with the request id (the X-Request-ID response header,
// set by the request-id middleware before this one), method, route
// template, a sanitised description of the request (URL without query
// string, a few harmless headers) and the trace id.
//
// A panic is reported, with the stack of the panicking goroutine, and then
// re-panicked: install Middleware inside (after) the application's
// recoverer, which still turns the panic into its 500 JSON answer. That
// 500 is then not reported a second time, as the recoverer writes it
// outside this middleware.
//
// Handlers reach the request's reporting through CaptureError.
func (t *Tracker) Middleware(next http.Handler) http.Handler {
	if t == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &requestState{t: t, requestID: w.Header().Get("X-Request-ID")}
		if st.requestID == "" {
			st.requestID = r.Header.Get("X-Request-ID")
		}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		st.r = r
		sw := &statuswriter.Writer{ResponseWriter: w}

		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			// http.ErrAbortHandler is net/http's way to abort a
			// response on purpose, not a failure.
			if err, ok := rec.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				st.capturePanic(rec)
			}
			panic(rec)
		}()
		next.ServeHTTP(sw, r)

		if sw.Status >= 500 && !st.reported.Load() {
			st.captureStatus(sw.Status)
		}
	})
}

// CaptureError reports err for the request whose context ctx is (or
// derives from), with the request's details, and marks the request as
// reported so its 5xx answer is not reported a second time. It does
// nothing when ctx is not a request served by an enabled Tracker's
// Middleware. Call it where a handler turns an unexpected error into a 500,
// to get the error and its stack into Sentry rather than only "HTTP 500".
func CaptureError(ctx context.Context, err error) {
	st, ok := ctx.Value(stateKey{}).(*requestState)
	if !ok || err == nil {
		return
	}
	ev := st.t.client.EventFromException(err, sentry.LevelError)
	st.capture(ctx, ev, &sentry.EventHint{OriginalException: err, Context: ctx})
}

// CapturePanic reports a recovered panic value for the request of ctx. It
// is for a recoverer that wants to report panics itself instead of having
// Middleware installed inside it; call it from the recoverer's deferred
// function, before writing the 500, so the stack is the panicking one.
func CapturePanic(ctx context.Context, rec any) {
	st, ok := ctx.Value(stateKey{}).(*requestState)
	if !ok || rec == nil || st.reported.Load() {
		return
	}
	st.capturePanic(rec)
}

// capturePanic reports a panic value with the current (panicking) stack.
func (st *requestState) capturePanic(rec any) {
	var ev *sentry.Event
	if err, ok := rec.(error); ok {
		ev = st.t.client.EventFromException(err, sentry.LevelFatal)
	} else {
		ev = sentry.NewEvent()
		ev.Level = sentry.LevelFatal
		ev.Exception = []sentry.Exception{{
			Type:       "panic",
			Value:      fmt.Sprint(rec),
			Stacktrace: sentry.NewStacktrace(),
		}}
	}
	if n := len(ev.Exception); n > 0 {
		m := &sentry.Mechanism{Type: "panic"}
		m.SetUnhandled()
		ev.Exception[n-1].Mechanism = m
	}
	ctx := st.r.Context()
	st.capture(ctx, ev, &sentry.EventHint{RecoveredException: rec, Context: ctx})
}

// captureStatus reports a 5xx answer that no error report explained.
func (st *requestState) captureStatus(status int) {
	method, route := st.r.Method, routeOf(st.r)
	ev := sentry.NewEvent()
	ev.Level = sentry.LevelError
	ev.Message = fmt.Sprintf("HTTP %d %s on %s %s", status, http.StatusText(status), method, route)
	// One issue per route and status, however many requests fail.
	ev.Fingerprint = []string{"http-status", strconv.Itoa(status), method, route}
	ev.Tags = map[string]string{"http.status_code": strconv.Itoa(status)}
	ctx := st.r.Context()
	st.capture(ctx, ev, &sentry.EventHint{Context: ctx})
}

// capture fills in the request's details and sends ev.
func (st *requestState) capture(ctx context.Context, ev *sentry.Event, hint *sentry.EventHint) {
	st.reported.Store(true)
	r := st.r
	route := routeOf(r)
	scope := sentry.NewScope()
	tags := map[string]string{
		"http.method": r.Method,
		"http.route":  route,
	}
	if st.requestID != "" {
		tags["request_id"] = st.requestID
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		tags["trace_id"] = sc.TraceID().String()
	}
	scope.SetTags(tags)
	ev.Transaction = r.Method + " " + route
	ev.Request = describeRequest(r, st.requestID)
	st.t.client.CaptureEvent(ev, hint, scope)
}

// routeOf returns the chi route template that served r, or "unmatched".
func routeOf(r *http.Request) string {
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		if p := rctx.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// reportedHeaders are the only request headers an event carries: enough to
// tell clients apart, none that can hold a credential.
var reportedHeaders = []string{"Accept", "Content-Type", "Content-Length", "User-Agent", "Origin"}

// describeRequest is the event's request: method, URL without its query
// string (the seed's clients send ?refresh_token=...), a few headers, the
// request id. No body, no cookies, no client address.
func describeRequest(r *http.Request, requestID string) *sentry.Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	headers := map[string]string{"Host": r.Host}
	for _, h := range reportedHeaders {
		if v := r.Header.Get(h); v != "" {
			headers[h] = v
		}
	}
	if requestID != "" {
		headers["X-Request-Id"] = requestID
	}
	return &sentry.Request{
		URL:     scheme + "://" + r.Host + r.URL.Path,
		Method:  r.Method,
		Headers: headers,
	}
}
