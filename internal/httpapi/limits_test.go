package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"myapi/internal/ratelimit"
	"myapi/internal/testdb"
)

func TestRateLimits(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{limits: ratelimit.Config{PerMinute: 5, LoginPerMinute: 3}})

	t.Run("login is limited per username", func(t *testing.T) {
		for range 3 {
			e.expect(t, http.StatusUnauthorized, loginRequest("victim", "guess"))
		}
		res := e.expect(t, http.StatusTooManyRequests, loginRequest("VICTIM", "guess"))
		if !strings.Contains(res.Detail(t), "Rate limit exceeded") {
			t.Errorf("detail %q", res.Detail(t))
		}
		for _, h := range []string{"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
			if res.Header.Get(h) == "" {
				t.Errorf("429 lacks %s: %v", h, res.Header)
			}
		}
		if n, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || n < 1 {
			t.Errorf("Retry-After = %q", res.Header.Get("Retry-After"))
		}
	})
	t.Run("probes, metrics and docs are never limited", func(t *testing.T) {
		for range 20 {
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/health"})
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/metrics"})
		}
	})
	t.Run("the general limit counts per client", func(t *testing.T) {
		// The anonymous client (this IP) has 5 requests a minute.
		var got429 bool
		for range 6 {
			if res := e.do(t, request{Method: "GET", Path: "/items"}); res.Status == http.StatusTooManyRequests {
				got429 = true
				res.Detail(t)
			} else if res.Header.Get("RateLimit-Limit") != "5" {
				t.Errorf("RateLimit-Limit = %q", res.Header.Get("RateLimit-Limit"))
			}
		}
		if !got429 {
			t.Error("the 6th anonymous request in a minute was not refused")
		}
		e.expect(t, http.StatusTooManyRequests, request{Method: "GET", Path: "/items/"})
	})
	// The token is checked once (parseBearer) for the limiter and for
	// authentication; only a valid access token earns a limit of its own.
	t.Run("a valid access token has its own limit, other tokens count against the IP", func(t *testing.T) {
		ctx := context.Background()
		if _, err := e.Auth.Register(ctx, "limited@example.com", "limited", "password123"); err != nil {
			t.Fatal(err)
		}
		_, pair, err := e.Auth.Login(ctx, "limited", "password123")
		if err != nil {
			t.Fatal(err)
		}
		// This IP used up its 5 requests in the subtest before.
		res := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: pair.AccessToken})
		if got := res.Header.Get("RateLimit-Remaining"); got != "4" {
			t.Errorf("the user's first request: RateLimit-Remaining %q, want 4", got)
		}
		for _, token := range []string{"not-a-token", pair.RefreshToken, pair.AccessToken + "x"} {
			e.expect(t, http.StatusTooManyRequests, request{Method: "GET", Path: "/users/me", Token: token})
		}
	})
	// A 429 is decided by the route's declared class, so it is counted
	// under the route's template (and by kind in
	// myapi_rate_limit_rejections_total).
	t.Run("metrics count requests by route template", func(t *testing.T) {
		body := string(e.expect(t, http.StatusOK, request{Method: "GET", Path: "/metrics"}).Body)
		for _, re := range []string{
			`myapi_http_requests_total\{method="GET",route="/users/me",status="429"\} [1-9]`,
			`myapi_http_requests_total\{method="POST",route="/auth/login",status="401"\} 3`,
			`myapi_build_info\{commit="abc123"`,
			`go_goroutines`,
		} {
			if !regexp.MustCompile(re).MatchString(body) {
				t.Errorf("/metrics lacks %s", re)
			}
		}
		if strings.Contains(body, "victim") {
			t.Error("a username leaked into a metric label")
		}
	})
}

// TestRecoveryRoutesUseTheLoginLimit: password recovery and reset act on an
// account without a token, so they count against the stricter login limit.
func TestRecoveryRoutesUseTheLoginLimit(t *testing.T) {
	for _, path := range []string{"/auth/password-recovery", "/auth/reset-password"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t, testdb.Engines(t)[0], envOptions{jobs: true, limits: ratelimit.Config{PerMinute: 100, LoginPerMinute: 2}})
			var got429 bool
			for range 3 {
				res := e.do(t, request{Method: "POST", Path: path, Body: `{"email":"a@example.com"}`, ContentType: "application/json"})
				if res.Status == http.StatusTooManyRequests {
					got429 = true
				} else if res.Header.Get("RateLimit-Limit") != "2" {
					t.Errorf("RateLimit-Limit = %q, want the login limit 2", res.Header.Get("RateLimit-Limit"))
				}
			}
			if !got429 {
				t.Errorf("the 3rd POST %s in a minute was not refused", path)
			}
		})
	}
}
