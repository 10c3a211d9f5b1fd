package main

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"myapi/internal/testdb"
)

// exportedSpan is one span as an OTLP collector received it.
type exportedSpan struct {
	name, traceID, spanID, parentID string
}

// fakeCollector stands in for an OpenTelemetry collector's OTLP/HTTP
// endpoint and keeps the spans it receives.
func fakeCollector(t *testing.T) (*httptest.Server, func() []exportedSpan) {
	var (
		mu    sync.Mutex
		spans []exportedSpan
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: %s: %v", r.URL.Path, err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					spans = append(spans, exportedSpan{
						name:     s.GetName(),
						traceID:  hex.EncodeToString(s.GetTraceId()),
						spanID:   hex.EncodeToString(s.GetSpanId()),
						parentID: hex.EncodeToString(s.GetParentSpanId()),
					})
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []exportedSpan {
		mu.Lock()
		defer mu.Unlock()
		return append([]exportedSpan(nil), spans...)
	}
}

// TestServeTraces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a request gives a
// server span named by its route (and, on PostgreSQL, a child span per
// query), exported when the server stops, and its log line carries the
// trace id.
func TestServeTraces(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		collector, spans := fakeCollector(t)
		in := start(t, baseSettings(engine.URL(t)).with(
			"OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL, "LOG_FORMAT", "json"))
		if status, body := call(t, http.MethodGet, in.URL+"/items/424242", "", "", nil); status != http.StatusNotFound {
			t.Fatalf("GET /items/424242: %d %s", status, body)
		}
		if err := in.stop(t); err != nil {
			t.Fatal(err)
		}

		var server *exportedSpan
		got := spans()
		for i, s := range got {
			if s.name == "GET /items/{item_id}" {
				server = &got[i]
			}
		}
		if server == nil {
			t.Fatalf("no span GET /items/{item_id} among %+v", got)
		}
		if engine.Name == "postgres" {
			child := false
			for _, s := range got {
				if strings.HasPrefix(s.name, "SELECT") && s.parentID == server.spanID && s.traceID == server.traceID {
					child = true
				}
			}
			if !child {
				t.Errorf("no query span under the request's span: %+v", got)
			}
		}
		found := false
		for _, line := range strings.Split(in.Logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "request" || rec["path"] != "/items/424242" {
				continue
			}
			found = true
			if rec["trace_id"] != server.traceID {
				t.Errorf("access log line %s: trace_id %v, want %s", line, rec["trace_id"], server.traceID)
			}
		}
		if !found {
			t.Errorf("no access log line for the request in:\n%s", in.Logs)
		}
	})
}

// TestServeWithoutTracingLogsNoTraceID: tracing is off by default.
func TestServeWithoutTracingLogsNoTraceID(t *testing.T) {
	t.Parallel()
	in := start(t, baseSettings("sqlite:///"+t.TempDir()+"/t.db").with("LOG_FORMAT", "json"))
	call(t, http.MethodGet, in.URL+"/health", "", "", nil)
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(in.Logs.String(), "trace_id") {
		t.Errorf("trace_id logged with tracing off:\n%s", in.Logs)
	}
}
