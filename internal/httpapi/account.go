package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/auth"
	"myapi/internal/ratelimit"
	"myapi/internal/users"
)

// noStore is the Cache-Control of every response that carries a token or
// a user's data (RFC 6749 §5.1, RFC 9111): no cache, shared or private,
// keeps a copy.
const noStore = "no-store"

// loginTime is when the session of the request's access token logged in
// with a password; zero without a valid access token.
func loginTime(ctx context.Context) time.Time {
	if b, ok := ctx.Value(bearerKey{}).(*bearer); ok && b.err == nil {
		return b.loginTime
	}
	return time.Time{}
}

// throttled turns the limiter's refusal of a password check into the 429
// to answer.
func throttled(a *ratelimit.Attempt, err error) (*ratelimit.Attempt, error) {
	var ex *ratelimit.ExceededError
	if errors.As(err, &ex) {
		return nil, huma.ErrorWithHeaders(huma.NewError(http.StatusTooManyRequests, ex.Error()), ex.Headers())
	}
	return a, err
}

// updateUser changes a user through auth.Service.UpdateUser with the
// request's proof of identity, counting a current_password (if sent)
// against the acting user's budget of failed passwords.
func (s *server) updateUser(ctx context.Context, id int64, upd users.Update, currentPassword *string) (*users.User, error) {
	me := currentUser(ctx)
	var attempt *ratelimit.Attempt
	if currentPassword != nil {
		var err error
		if attempt, err = throttled(s.Limiter.UserPasswordAttempt(ctx, me.ID)); err != nil {
			return nil, err
		}
	}
	u, err := s.Auth.UpdateUser(ctx, me, auth.Proof{LoginTime: loginTime(ctx), Password: currentPassword}, id, upd)
	if !errors.Is(err, auth.ErrWrongPassword) {
		attempt.Succeeded()
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
