package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"myapi/internal/metrics"
	"myapi/internal/ratelimit"
)

// rateLimits applies the limiter: the stricter login limit (per client IP)
// on login, registration and password recovery and reset, the general
// limit on every other API route. Health checks, metrics and docs are never
// limited (probes and scrapers must get through). Failed passwords are
// budgeted by the handlers that check them (ratelimit.PasswordAttempt).
func rateLimits(l *ratelimit.Limiter) func(http.Handler) http.Handler {
	if l == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		general := l.General(next)
		login := l.Login(general)
		// Changes of an account may check its password (current_password):
		// the failure budget needs the client's network.
		change := l.Client(general)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			path := strings.TrimSuffix(r.URL.Path, "/")
			switch {
			case unlimited(path):
				next.ServeHTTP(w, r)
			case r.Method == http.MethodPost && loginLimited(path):
				login.ServeHTTP(w, r)
			case r.Method == http.MethodPut || r.Method == http.MethodPatch:
				change.ServeHTTP(w, r)
			default:
				general.ServeHTTP(w, r)
			}
		})
	}
}

// loginLimited are the POST routes under the login limit: each guesses at
// or acts on an account without a token.
func loginLimited(path string) bool {
	switch path {
	case "/auth/login", "/auth/register", "/auth/password-recovery", "/auth/reset-password":
		return true
	}
	return false
}

func unlimited(path string) bool {
	return path == "" || path == "/health" || strings.HasPrefix(path, "/health/") || path == "/metrics" ||
		path == "/docs" || strings.HasPrefix(path, "/docs/") || path == "/redoc" || strings.HasPrefix(path, "/redoc/") || strings.HasPrefix(path, "/openapi")
}

// metricsMiddleware counts requests when metrics are on.
func metricsMiddleware(m *metrics.Metrics) func(http.Handler) http.Handler {
	if m == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	return m.Middleware
}

// requestTimeout bounds the request's context: queries and the wait for a
// password-hash slot give up after d, and the client gets a 503 instead of
// waiting behind an overloaded database.
func requestTimeout(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}
