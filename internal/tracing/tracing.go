// Package tracing sets up OpenTelemetry tracing for myapi: a server span
// for every HTTP request (named by its chi route template), a child span for
// every PostgreSQL query, and the trace id in every log line of a traced
// request.
//
// Tracing is off unless an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Off,
// Setup returns a no-op provider, Middleware returns the next handler itself
// and NewQueryTracer returns nil, so the disabled case costs nothing per
// request or query. On, spans go through a batch span processor to an OTLP
// exporter over HTTP (protobuf), the transport every collector, Jaeger,
// Tempo and most vendors accept.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names the tracer of this package's instrumentation
// (the "scope" of its spans in OpenTelemetry terms).
const instrumentationName = "myapi/internal/tracing"

// propagator reads and writes the W3C traceparent/tracestate and baggage
// headers, so a trace started by a proxy or a client continues in myapi.
var propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(
	propagation.TraceContext{}, propagation.Baggage{},
)

// Setup builds the tracer provider the environment describes (getenv is
// os.Getenv in production; tests pass their own):
//
//   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is) or
//     OTEL_EXPORTER_OTLP_ENDPOINT (base URL; "/v1/traces" is appended):
//     where to send spans, e.g. http://otel-collector:4318. Unset: tracing
//     is off and a no-op provider is returned.
//   - OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none: off as well.
//   - OTEL_EXPORTER_OTLP_PROTOCOL / _TRACES_PROTOCOL: only http/protobuf
//     (the default) is supported; anything else is an error.
//   - OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS: "key=value,..." sent
//     with every export (e.g. an API key of a vendor).
//   - OTEL_SERVICE_NAME: overrides serviceName.
//   - OTEL_RESOURCE_ATTRIBUTES: "key=value,..." added to the resource
//     (deployment.environment.name=production, ...).
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: always_on,
//     always_off, traceidratio, parentbased_always_on (the default),
//     parentbased_always_off, parentbased_traceidratio.
//
// The exporter itself also honours OTEL_EXPORTER_OTLP_TIMEOUT,
// OTEL_EXPORTER_OTLP_COMPRESSION and the certificate settings, and the batch
// processor OTEL_BSP_*, read from the process environment.
//
// When tracing is on, Setup also installs the provider and the W3C
// propagator as OpenTelemetry's globals, for libraries that use them. The
// returned shutdown flushes the spans still buffered and stops the
// exporter; call it after the HTTP server has drained, with a deadline.
// An invalid setting is an error naming the variable.
func Setup(ctx context.Context, serviceName, version string, getenv func(string) string) (shutdown func(context.Context) error, tp trace.TracerProvider, err error) {
	off := func(context.Context) error { return nil }
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return off, noop.NewTracerProvider(), nil
	}
	switch exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "", "otlp":
	case "none":
		return off, noop.NewTracerProvider(), nil
	default:
		return nil, nil, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (use otlp or none)", exporter)
	}
	endpoint, err := tracesEndpoint(getenv)
	if err != nil {
		return nil, nil, err
	}
	if endpoint == "" {
		return off, noop.NewTracerProvider(), nil
	}

	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(getenv(name)); p != "" {
			if p != "http/protobuf" {
				return nil, nil, fmt.Errorf("%s: %q is not supported (only http/protobuf)", name, p)
			}
			break
		}
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
	headers := map[string]string{}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
		h, err := parseKeyValues(getenv(name))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		for k, v := range h {
			headers[k] = v
		}
	}
	if len(headers) > 0 {
		opts = append(opts, otlptracehttp.WithHeaders(headers))
	}

	sampler, err := samplerFromEnv(getenv)
	if err != nil {
		return nil, nil, err
	}
	res, err := newResource(serviceName, version, getenv)
	if err != nil {
		return nil, nil, err
	}
	// New does not connect: an unreachable collector shows up later as
	// export errors (see LogErrors), never as a failed start.
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sampler),
	)
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagator)
	return provider.Shutdown, provider, nil
}

// Enabled reports whether tp records spans, i.e. it is neither nil nor
// OpenTelemetry's no-op provider.
func Enabled(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, isNoop := tp.(noop.TracerProvider)
	return !isNoop
}

// LogErrors sends OpenTelemetry's internal errors (a collector that cannot
// be reached, a full export queue) to log at warning level instead of the
// standard library's logger.
func LogErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("opentelemetry", "error", err)
	}))
}

// tracesEndpoint returns the URL spans are posted to, or "" when none is
// configured.
func tracesEndpoint(getenv func(string) string) (string, error) {
	name := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	raw := strings.TrimSpace(getenv(name))
	signalSpecific := raw != ""
	if !signalSpecific {
		name = "OTEL_EXPORTER_OTLP_ENDPOINT"
		raw = strings.TrimSpace(getenv(name))
	}
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http:// or https:// URL", name, raw)
	}
	if !signalSpecific {
		// The generic endpoint is a base URL: each signal appends its own
		// path, as the OpenTelemetry specification says.
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	return u.String(), nil
}

// samplerFromEnv implements OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG.
func samplerFromEnv(getenv func(string) string) (sdktrace.Sampler, error) {
	name := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER"))
	ratio := func() (float64, error) {
		arg := strings.TrimSpace(getenv("OTEL_TRACES_SAMPLER_ARG"))
		if arg == "" {
			return 1, nil
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 0 || f > 1 {
			return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", arg)
		}
		return f, nil
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "traceidratio", "parentbased_traceidratio":
		f, err := ratio()
		if err != nil {
			return nil, err
		}
		if name == "traceidratio" {
			return sdktrace.TraceIDRatioBased(f), nil
		}
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(f)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not supported", name)
}

// newResource describes this process: service name and version, the SDK,
// and OTEL_RESOURCE_ATTRIBUTES.
func newResource(serviceName, version string, getenv func(string) string) (*resource.Resource, error) {
	if s := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); s != "" {
		serviceName = s
	}
	extra, err := parseKeyValues(getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	attrs := make([]attribute.KeyValue, 0, len(extra)+5)
	for k, v := range extra {
		attrs = append(attrs, attribute.String(k, v))
	}
	// Explicit settings win over OTEL_RESOURCE_ATTRIBUTES: later
	// attributes with the same key replace earlier ones.
	attrs = append(attrs,
		semconv.ServiceName(serviceName),
		semconv.TelemetrySDKName("opentelemetry"),
		semconv.TelemetrySDKLanguageGo,
		semconv.TelemetrySDKVersion(otel.Version()),
	)
	if version != "" {
		attrs = append(attrs, semconv.ServiceVersion(version))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...), nil
}

// parseKeyValues parses the "key1=value1,key2=value2" lists of the
// OpenTelemetry environment variables; values may be percent-encoded.
func parseKeyValues(s string) (map[string]string, error) {
	out := map[string]string{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errors.New("expected key=value pairs separated by commas")
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("value of %s: %w", k, err)
		}
		out[k] = dv
	}
	return out, nil
}
