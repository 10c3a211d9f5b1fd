package httpapi

import (
	"context"
	"errors"
	"strings"

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

// authenticate runs before every operation that declares Security: it
// resolves the bearer token to an active user or answers 401/403.
func (s *server) authenticate(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		if len(ctx.Operation().Security) == 0 {
			next(ctx)
			return
		}
		token, ok := bearerToken(ctx.Header("Authorization"))
		if !ok {
			writeHumaErr(api, ctx, errUnauthorized(msgNotAuthenticated))
			return
		}
		u, err := s.Auth.Authenticate(ctx.Context(), token)
		switch {
		case errors.Is(err, auth.ErrInvalidToken):
			writeHumaErr(api, ctx, errUnauthorized(msgBadCredentials))
			return
		case errors.Is(err, auth.ErrInactive):
			writeHumaErr(api, ctx, huma.Error403Forbidden(msgInactive))
			return
		case err != nil:
			writeHumaErr(api, ctx, s.fail(ctx.Context(), err))
			return
		}
		setUserID(ctx.Context(), u.ID)
		next(huma.WithValue(ctx, currentUserKey{}, u))
	}
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
