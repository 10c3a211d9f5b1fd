package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"myapi/internal/logging"
	"myapi/internal/testdb"
)

// requestLines are the access-log lines in logs, decoded.
func requestLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "request" {
			out = append(out, rec)
		}
	}
	return out
}

// TestAccessLogSampling: with ACCESS_LOG_SAMPLE_RATE below 1 only that
// share of successful requests is logged, each line with its sample_rate;
// 4xx, 5xx and slow requests are always logged (sample_rate 1); without
// sampling every request is logged and no line carries a rate.
func TestAccessLogSampling(t *testing.T) {
	engine := testdb.Engines(t)[0]
	for _, c := range []struct {
		name    string
		sampler *logging.Sampler
		path    string
		status  int
		n       int
		// lines logged out of n: at least min, at most max.
		min, max int
		rate     any // sample_rate of each line; nil: absent
	}{
		{"no sampling: every success, no rate", nil, "/health", 200, 20, 20, 20, nil},
		{"rate 0: no success", logging.NewSampler(0, time.Hour), "/health", 200, 20, 0, 0, nil},
		{"rate 0: every 404, rate 1", logging.NewSampler(0, time.Hour), "/items/999999", 404, 10, 10, 10, 1.0},
		{"rate 0: every 401, rate 1", logging.NewSampler(0, time.Hour), "/users/me", 401, 10, 10, 10, 1.0},
		{"rate 0: every 422, rate 1", logging.NewSampler(0, time.Hour), "/items?limit=1000", 422, 10, 10, 10, 1.0},
		{"rate 0: every slow success, rate 1", logging.NewSampler(0, time.Nanosecond), "/health", 200, 10, 10, 10, 1.0},
		// 400 draws at 1/2: outside 120-280 has a probability below 1e-18.
		{"rate 0.5: about half the successes, rate 0.5", logging.NewSampler(0.5, time.Hour), "/health", 200, 400, 120, 280, 0.5},
		{"rate 1 is no sampling", logging.NewSampler(1, time.Hour), "/health", 200, 20, 20, 20, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{logSampler: c.sampler})
			for i := 0; i < c.n; i++ {
				e.expect(t, c.status, request{Method: "GET", Path: c.path})
			}
			lines := requestLines(t, e.Logs.String())
			if len(lines) < c.min || len(lines) > c.max {
				t.Fatalf("%d request lines for %d requests, want %d-%d", len(lines), c.n, c.min, c.max)
			}
			for _, rec := range lines {
				if rec["status"] != float64(c.status) {
					t.Errorf("line for another request: %v", rec)
				}
				if got, ok := rec["sample_rate"]; (c.rate == nil && ok) || (c.rate != nil && got != c.rate) {
					t.Errorf("sample_rate = %v (present %v), want %v: %v", got, ok, c.rate, rec)
				}
			}
		})
	}
}
