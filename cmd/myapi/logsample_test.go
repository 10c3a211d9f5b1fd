package main

import (
	"net/http"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// TestAccessLogSampleRateSetting: ACCESS_LOG_SAMPLE_RATE reaches the access
// log: at 0, successes leave no line and a 404 leaves one with sample_rate 1.
func TestAccessLogSampleRateSetting(t *testing.T) {
	in := start(t, baseSettings(testdb.Engines(t)[0].URL(t)).with("ACCESS_LOG_SAMPLE_RATE", "0", "LOG_FORMAT", "json"))
	for i := 0; i < 5; i++ {
		if status, body := call(t, http.MethodGet, in.URL+"/health", "", "", nil); status != http.StatusOK {
			t.Fatalf("GET /health = %d %s", status, body)
		}
	}
	if status, _ := call(t, http.MethodGet, in.URL+"/items/424242", "", "", nil); status != http.StatusNotFound {
		t.Fatalf("GET /items/424242 = %d, want 404", status)
	}
	if err := in.stop(t); err != nil { // flushes the batched log
		t.Fatal(err)
	}
	lines := grepLines(in.Logs.String(), `"msg":"request"`)
	if strings.Contains(lines, `"path":"/health"`) {
		t.Errorf("a sampled-away success was logged:\n%s", lines)
	}
	if !strings.Contains(lines, `"path":"/items/424242","status":404`) || !strings.Contains(lines, `"sample_rate":1`) {
		t.Errorf("the 404 was not logged with sample_rate 1:\n%s", lines)
	}
}
