package httpapi

import (
	"context"
	"net/http"
	"time"

	"myapi/internal/metrics"
)

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
