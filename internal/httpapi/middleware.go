package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"myapi/internal/logging"
	"myapi/internal/statuswriter"
)

// requestInfo travels in the request context so that inner layers (auth)
// can tell the access log who made the request.
type requestInfo struct {
	userID int64
}

type requestInfoKey struct{}

// setUserID records the authenticated user for the access log line.
func setUserID(ctx context.Context, id int64) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.userID = id
	}
}

// requestID keeps a sane incoming X-Request-ID (so a proxy's id follows the
// request through) or makes one, echoes it, and puts it in every log line.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(headerRequestID)
		if !validRequestID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header()[headerRequestID] = []string{id}
		// The access log's requestInfo travels in the same new context:
		// one copy of the request instead of two.
		ctx := logging.WithAttrs(r.Context(), slog.String("request_id", id))
		ctx = context.WithValue(ctx, requestInfoKey{}, &requestInfo{})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// headerRequestID is X-Request-ID spelt as http.Header stores it, so that
// reading and setting it on every request converts nothing.
const headerRequestID = "X-Request-Id"

// validRequestID accepts short printable ASCII ids, so a header cannot
// inject lines or megabytes into the logs.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// accessLog writes one line per request, after it is served; with a
// sampler, only the lines it keeps, each with its sample_rate.
func accessLog(log *slog.Logger, sampler *logging.Sampler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statuswriter.Writer{ResponseWriter: w}
			// X-Process-Time goes out with the final status, when the
			// handler's time is known.
			sw.BeforeStatus = func() {
				sw.Header().Set("X-Process-Time", strconv.FormatFloat(time.Since(start).Seconds(), 'f', 6, 64))
			}
			next.ServeHTTP(sw, r)
			if sw.Status == 0 {
				sw.WriteHeader(http.StatusOK)
			}
			elapsed := time.Since(start)
			sampleRate := 0.0 // 0: not sampling, no attribute
			if sampler != nil {
				var keep bool
				if keep, sampleRate = sampler.Keep(sw.Status, elapsed); !keep {
					return
				}
			}
			level := slog.LevelInfo
			if sw.Status >= 500 {
				level = slog.LevelError
			}
			ctx := r.Context()
			if !log.Enabled(ctx, level) {
				return
			}
			route := ""
			if rctx := chi.RouteContext(ctx); rctx != nil {
				route = rctx.RoutePattern()
			}
			// A record of our own rather than log.LogAttrs, which also
			// records the caller (runtime.Callers) for a source location
			// this line never shows: ~10 % of the line's cost.
			rec := slog.NewRecord(time.Now(), level, "request", 0)
			rec.AddAttrs(
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.String("path", r.URL.Path),
				slog.Int("status", sw.Status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Int("bytes", sw.Bytes),
				slog.String("remote", r.RemoteAddr),
			)
			// requestID (outside this layer) put requestInfo in the context.
			if info, _ := ctx.Value(requestInfoKey{}).(*requestInfo); info != nil && info.userID != 0 {
				rec.AddAttrs(slog.Int64("user_id", info.userID))
			}
			if sampleRate != 0 {
				rec.AddAttrs(slog.Float64("sample_rate", sampleRate))
			}
			_ = log.Handler().Handle(ctx, rec)
		})
	}
}

// recoverPanic turns a panic into a JSON 500 and logs the stack. It sits
// inside the CORS, request-id and logging layers so that even this
// response carries their headers and gets its log line.
func recoverPanic(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				rec := recover()
				if rec == nil {
					return
				}
				if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(rec)
				}
				log.ErrorContext(r.Context(), "panic", "error", fmt.Sprint(rec), "stack", string(debug.Stack()))
				writeProblem(w, http.StatusInternalServerError, "Internal server error")
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets the headers every API response should carry.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One allocation for the four values instead of one per Set.
		v := []string{"nosniff", "DENY", "no-referrer", "same-origin"}
		h := w.Header()
		h["X-Content-Type-Options"] = v[0:1:1]
		h["X-Frame-Options"] = v[1:2:2]
		h["Referrer-Policy"] = v[2:3:3]
		h["Cross-Origin-Opener-Policy"] = v[3:4:4]
		next.ServeHTTP(w, r)
	})
}
