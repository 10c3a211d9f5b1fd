package httpapi

import (
	"context"
	"errors"
	"fmt"
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
		return nil, s.userWriteError(ctx, err)
	}
	return u, nil
}

// accountError maps the errors of the account rules, or returns nil.
func (s *server) accountError(err error) error {
	switch {
	case errors.Is(err, auth.ErrReauthRequired):
		return huma.Error403Forbidden(fmt.Sprintf(
			"Changing the email needs your current password (current_password) or a login within the last %d minutes",
			int(s.Auth.FreshLogin()/time.Minute)))
	case errors.Is(err, auth.ErrWrongPassword):
		return huma.Error403Forbidden("Incorrect password")
	case errors.Is(err, users.ErrLastSuperuser):
		return huma.Error403Forbidden("The last active superuser cannot be demoted, deactivated or deleted")
	}
	return nil
}
