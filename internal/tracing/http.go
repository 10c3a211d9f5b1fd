package tracing

import (
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"myapi/internal/logging"

	"myapi/internal/statuswriter"
)

// requestIDAttr holds the X-Request-ID of a request on its span, so a span
// found in the tracing UI leads to the request's log lines and Sentry
// events, and the other way round.
const requestIDAttr = attribute.Key("http.request.id")

// Middleware returns a middleware that serves every request inside a server
// span and adds the span's trace_id to the request's log lines
// (logging.WithAttrs), so a log line leads to its trace.
//
// The span continues a trace the client or a proxy started (W3C
// traceparent header). It is named "METHOD /route/{template}" after the
// chi route that served the request, never after the raw path, and is
// just "METHOD" when no route matched (404, 405, answers of middlewares
// before routing). It carries the method, route, path, status code, user
// agent, peer address and X-Request-ID; a 5xx or a panic marks it as an
// error. Query strings are left out: they may hold tokens.
//
// When tp is nil or a no-op provider (tracing off), Middleware returns the
// next handler itself: no span, no wrapper, no cost.
//
// Install it on the chi router (router.Use), before (outside) the access
// log, so the access log line carries trace_id, and after the request-id
// middleware, so the span gets the request id. The route template is read
// from chi's routing context after the request is served, which a
// middleware wrapped around the router from outside would not see.
func Middleware(tp trace.TracerProvider) func(http.Handler) http.Handler {
	if !Enabled(tp) {
		return func(next http.Handler) http.Handler { return next }
	}
	tracer := tp.Tracer(instrumentationName)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			method := methodName(r.Method)
			attrs := make([]attribute.KeyValue, 0, 8)
			attrs = append(attrs,
				semconv.HTTPRequestMethodKey.String(method),
				semconv.URLPath(r.URL.Path),
				semconv.URLScheme(scheme(r)),
			)
			if ua := r.UserAgent(); ua != "" {
				attrs = append(attrs, semconv.UserAgentOriginal(ua))
			}
			if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
				attrs = append(attrs, semconv.NetworkPeerAddress(host))
			}
			if id := w.Header().Get("X-Request-ID"); id != "" {
				attrs = append(attrs, requestIDAttr.String(id))
			}
			ctx, span := tracer.Start(ctx, method,
				trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attrs...),
			)
			defer span.End()
			if sc := span.SpanContext(); sc.IsValid() {
				ctx = logging.WithAttrs(ctx, slog.String("trace_id", sc.TraceID().String()))
			}
			r = r.WithContext(ctx)
			sw := &statuswriter.Writer{ResponseWriter: w}

			finished := false
			defer func() {
				if finished {
					return
				}
				// next panicked: the span ends as an error and the panic
				// goes on to the recoverer that turns it into a 500.
				nameSpan(span, r, method)
				span.SetAttributes(semconv.HTTPResponseStatusCode(http.StatusInternalServerError))
				span.SetStatus(codes.Error, "panic")
			}()
			next.ServeHTTP(sw, r)
			finished = true

			nameSpan(span, r, method)
			status := sw.Status
			if status == 0 {
				status = http.StatusOK
			}
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= 500 {
				// Server spans: only 5xx are errors; a 4xx is the
				// client's mistake, answered correctly.
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
		})
	}
}

// LogTraceID is a middleware that adds trace_id to the log lines of
// requests whose context already holds a valid span (for use behind
// another instrumentation, such as otelhttp). Middleware does this itself.
func LogTraceID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sc := trace.SpanContextFromContext(r.Context()); sc.IsValid() {
			r = r.WithContext(logging.WithAttrs(r.Context(), slog.String("trace_id", sc.TraceID().String())))
		}
		next.ServeHTTP(w, r)
	})
}

// nameSpan renames span after the chi route template that served r.
func nameSpan(span trace.Span, r *http.Request, method string) {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil {
		return
	}
	if route := rctx.RoutePattern(); route != "" {
		span.SetName(method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
}

// methodName maps the client-chosen method onto the known ones (a span
// name must have bounded cardinality); others become "_OTHER", as the
// semantic conventions ask.
func methodName(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

func scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
