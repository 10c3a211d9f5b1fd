package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// BenchmarkJSONBody serves a request whose JSON body is read, checked,
// validated and decoded, and that then ends without touching the database
// (a refresh token that is not a token: 401): what reading a body costs a
// request, in process.
func BenchmarkJSONBody(b *testing.B) {
	e := buildEnv(b, testdb.Engines(b)[0], envOptions{quiet: true, noMetrics: true})
	for _, size := range []struct {
		name  string
		token string
	}{
		{"small", "not-a-token"},
		{"8KiB", strings.Repeat("x", 8<<10)},
	} {
		b.Run(size.name, func(b *testing.B) {
			body := `{"refresh_token":"` + size.token + `","extra":{"list":[1,2,3],"text":"caf\u00e9 \ud83d\ude00"}}`
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/auth/refresh", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				e.Handler.ServeHTTP(w, req)
				if w.Code != http.StatusUnauthorized {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}
