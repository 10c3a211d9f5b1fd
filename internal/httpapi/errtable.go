package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
	"myapi/internal/auth"
	"myapi/internal/errkind"
	"myapi/internal/errtrack"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// errorRule is how one domain error is answered.
type errorRule struct {
	target error
	status int
	detail func(s *server, err error) string
	// challenge makes a 401 carry WWW-Authenticate: Bearer.
	challenge bool
}

func text(detail string) func(*server, error) string {
	return func(*server, error) string { return detail }
}

// errorTable answers the domain errors a handler may return that are not
// answered by their kind (kindStatus), or differently from it (the seed
// answers a taken email with 400, not 409). A route that answers one of
// them differently declares an override (register).
var errorTable = []errorRule{
	{target: access.ErrForbidden, status: http.StatusForbidden, detail: text(msgForbidden)},
	{target: users.ErrEmailTaken, status: http.StatusBadRequest, detail: text(msgEmailTaken)},
	{target: users.ErrUsernameTaken, status: http.StatusBadRequest, detail: text(msgUsernameTaken)},
	{target: users.ErrLastSuperuser, status: http.StatusForbidden, detail: text("The last active superuser cannot be demoted, deactivated or deleted")},
	{target: auth.ErrInvalidCredentials, status: http.StatusUnauthorized, detail: text(msgWrongLogin), challenge: true},
	{target: auth.ErrInvalidToken, status: http.StatusUnauthorized, detail: text(msgBadCredentials), challenge: true},
	{target: auth.ErrInactive, status: http.StatusForbidden, detail: text(msgInactive)},
	{target: auth.ErrWrongPassword, status: http.StatusForbidden, detail: text("Incorrect password")},
	{target: auth.ErrReauthRequired, status: http.StatusForbidden, detail: func(s *server, _ error) string {
		return fmt.Sprintf("Changing the email needs your current password (current_password) or a login within the last %d minutes",
			int(s.Auth.FreshLogin()/time.Minute))
	}},
	{target: auth.ErrInvalidPassword, status: http.StatusUnprocessableEntity, detail: invalidField("body.password")},
	{target: auth.ErrResetTokenInvalid, status: http.StatusBadRequest, detail: text(msgInvalidResetToken)},
}

// kindStatus answers every error declared with a kind (errkind) that no
// rule above names: its status, and its own message as the detail. A new
// resource's errors are answered here without a line of their own.
var kindStatus = map[errkind.Kind]int{
	errkind.NotFound: http.StatusNotFound,
	errkind.Conflict: http.StatusConflict,
	errkind.Invalid:  http.StatusUnprocessableEntity,
}

// invalidField is the detail of a 422 naming the field at location.
func invalidField(location string) func(*server, error) string {
	return func(_ *server, err error) string { return "validation failed: " + location + ": " + err.Error() }
}

// httpError turns a handler's error into its response: errors that already
// are responses (huma.StatusError) pass, domain errors are answered by
// overrides, then by errorTable, then by their kind, and anything else by
// unexpected. Headers
// attached to err (huma.ErrorWithHeaders) are kept.
func (s *server) httpError(ctx context.Context, err error, overrides []errorRule) error {
	var se huma.StatusError
	if err == nil || errors.As(err, &se) {
		return err
	}
	r, ok := findRule(overrides, err)
	if !ok {
		r, ok = findRule(errorTable, err)
	}
	if ke, kinded := errkind.Of(err); !ok && kinded && kindStatus[ke.Kind] != 0 {
		r, ok = errorRule{status: kindStatus[ke.Kind], detail: text(ke.Message)}, true
	}
	var mapped error
	switch {
	case !ok:
		mapped = s.unexpected(ctx, err)
	case r.challenge:
		mapped = errUnauthorized(r.detail(s, err))
	default:
		mapped = huma.NewError(r.status, r.detail(s, err))
	}
	var he huma.HeadersError
	if errors.As(err, &he) {
		return huma.ErrorWithHeaders(mapped, he.GetHeaders())
	}
	return mapped
}

func findRule(table []errorRule, err error) (errorRule, bool) {
	for _, r := range table {
		if errors.Is(err, r.target) {
			return r, true
		}
	}
	return errorRule{}, false
}

// unexpected answers an error the handler did not expect: 503 when the
// database could not serve (the client may retry), nothing worth an alarm
// when the client has gone away, and otherwise a logged 500.
func (s *server) unexpected(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.Log.InfoContext(ctx, "client went away", "error", err)
		return huma.NewError(statusClientClosedRequest, "Client closed the request")
	case storage.Unavailable(err):
		s.Log.WarnContext(ctx, "database unavailable", "error", err)
		return huma.Error503ServiceUnavailable(msgServiceNotReady + ": the database is unreachable")
	}
	// Logged as warnings: each is a rule the API should check itself.
	switch storage.Refused(err) {
	case storage.BadValue:
		s.Log.WarnContext(ctx, "database refused a value", "error", err)
		return huma.Error422UnprocessableEntity(msgValueRefused)
	case storage.Conflict:
		s.Log.WarnContext(ctx, "database refused a write as conflicting", "error", err)
		return huma.Error409Conflict(msgConflict)
	}
	s.Log.ErrorContext(ctx, "request failed", "error", err)
	errtrack.CaptureError(ctx, err)
	return huma.Error500InternalServerError(msgInternal)
}

// statusClientClosedRequest is nginx's 499: the client hung up first. Nobody
// reads it; it keeps such requests out of the 5xx counts.
const statusClientClosedRequest = 499
