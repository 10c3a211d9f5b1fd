package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/auth"
	"myapi/internal/users"
)

type currentUserKey struct{}

// currentUser returns the user that authenticate put in the context.
func currentUser(ctx context.Context) *users.User {
	u, _ := ctx.Value(currentUserKey{}).(*users.User)
	return u
}

// authenticate runs before every operation: for one whose access rule
// needs a user, it resolves the bearer token to an active user or answers
// 401/403. It also lets the rule read the path parameter it names.
func (s *server) authenticate(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		d, _ := declarationOf(ctx.Operation())
		if d.rule.Param() != "" {
			ctx = huma.WithValue(ctx, pathParamsKey{}, ctx.Param)
		}
		if !d.rule.NeedsUser() {
			next(ctx)
			return
		}
		b, ok := ctx.Context().Value(bearerKey{}).(*bearer)
		if !ok {
			writeHumaErr(api, ctx, errUnauthorized(msgNotAuthenticated))
			return
		}
		err := b.err
		var u *users.User
		if err == nil {
			u, err = s.Auth.ActiveUser(ctx.Context(), b.userID)
		}
		if err != nil {
			writeHumaErr(api, ctx, s.httpError(ctx.Context(), err, nil))
			return
		}
		setUserID(ctx.Context(), u.ID)
		next(huma.WithValue(ctx, currentUserKey{}, u))
	}
}

type bearerKey struct{}

// bearer is a request's access token, checked once by parseBearer for
// both the rate limiter (which keys limits by user) and authenticate
// (which loads the user): parsing a JWT is most of what a cheap
// authenticated request costs.
type bearer struct {
	userID int64
	// loginTime is when the token's session logged in with a password.
	loginTime time.Time
	err       error // auth.ErrInvalidToken unless the token is a valid access token
}

// parseBearer checks the "Authorization: Bearer …" token, if any, and
// leaves the result in the request context.
func parseBearer(a *auth.Service) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := bearerToken(r.Header.Get("Authorization"))
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			acc, err := a.ParseAccess(token)
			ctx := context.WithValue(r.Context(), bearerKey{}, &bearer{userID: acc.UserID, loginTime: acc.LoginTime, err: err})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// RateLimitKey is the key for ratelimit.New: "user:<id>" for a request
// with a valid access token, so each user has their own limit, and ""
// (the client IP) otherwise.
func RateLimitKey(r *http.Request) string {
	if b, ok := r.Context().Value(bearerKey{}).(*bearer); ok && b.err == nil {
		return "user:" + strconv.FormatInt(b.userID, 10)
	}
	return ""
}

// bearerToken extracts the token of an "Authorization: Bearer …" header.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// writeHumaErr writes err (a huma.StatusError, possibly with headers).
func writeHumaErr(api huma.API, ctx huma.Context, err error) {
	var he huma.HeadersError
	if errors.As(err, &he) {
		for name, values := range he.GetHeaders() {
			for _, v := range values {
				ctx.AppendHeader(name, v)
			}
		}
	}
	var se huma.StatusError
	if !errors.As(err, &se) {
		se = huma.Error500InternalServerError(msgInternal)
	}
	_ = huma.WriteErr(api, ctx, se.GetStatus(), se.Error())
}
