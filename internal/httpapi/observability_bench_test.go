package httpapi_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"myapi/internal/logging"
	"myapi/internal/testdb"
)

// BenchmarkObservabilityCost serves GET /health with metrics and the INFO
// access log (JSON, buffered as cmd/myapi writes it to a file) and with
// both off, as bench/run.sh's A/B does over the network: the difference
// per request is what metrics + logging cost.
func BenchmarkObservabilityCost(b *testing.B) {
	engine := testdb.Engines(b)[0]
	for _, tt := range []struct {
		name string
		opts func() envOptions
	}{
		{"on", func() envOptions {
			out := logging.NewBuffered(io.Discard, 64<<10, 100*time.Millisecond)
			b.Cleanup(func() { _ = out.Close() })
			return envOptions{logOut: out}
		}},
		{"off", func() envOptions { return envOptions{quiet: true, noMetrics: true} }},
	} {
		b.Run(tt.name, func(b *testing.B) {
			e := buildEnv(b, engine, tt.opts())
			req := httptest.NewRequest(http.MethodGet, "/health", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.Handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
