package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"myapi/internal/logging"
)

// A panicking handler behind the real middleware chain: the client gets
// the seed's JSON 500, with CORS and request-id headers, and the stack is
// logged with the request id.
func TestPanicBecomesJSON500(t *testing.T) {
	var logs bytes.Buffer
	r := chi.NewMux()
	r.Use(middlewares(Config{AllowedOrigins: []string{"http://localhost:3000"}, MaxBodyBytes: 1 << 20}, logging.New(&logs, true, slog.LevelInfo), nil, nil, nil)...)
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })

	req := httptest.NewRequest(http.MethodGet, "/boom", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("X-Request-ID", "req-123")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["detail"] != "Internal server error" {
		t.Errorf("body %s (%v)", rec.Body, err)
	}
	for header, want := range map[string]string{
		"Access-Control-Allow-Origin": "http://localhost:3000",
		"X-Request-ID":                "req-123",
		"X-Content-Type-Options":      "nosniff",
	} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if rec.Header().Get("X-Process-Time") == "" {
		t.Error("no X-Process-Time")
	}
	log := logs.String()
	for _, want := range []string{`"msg":"panic"`, "kaboom", "panic_test.go", `"request_id":"req-123"`, `"status":500`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
}
