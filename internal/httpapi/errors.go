package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// writeProblem writes an error the way huma does (RFC 9457 problem+json
// with a string "detail"), for responses produced outside huma.
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(huma.ErrorModel{
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}

// detailedErrors makes each error's "detail" say what was wrong: huma's
// validation errors say "validation failed" and list the fields in
// "errors"; clients written for the seed only read "detail", so the field
// names and reasons are spelled out there too. It also removes echoed
// values that may hold a secret: a whole unparsable body, or a password.
func detailedErrors(_ huma.Context, _ string, v any) (any, error) {
	em, ok := v.(*huma.ErrorModel)
	if !ok || len(em.Errors) == 0 {
		return v, nil
	}
	parts := make([]string, 0, len(em.Errors))
	for _, e := range em.Errors {
		if e == nil {
			continue
		}
		if e.Location == "body" || strings.Contains(e.Location, "password") {
			e.Value = nil
		}
		if e.Location != "" {
			parts = append(parts, e.Location+": "+e.Message)
		} else {
			parts = append(parts, e.Message)
		}
	}
	if len(parts) == 0 || strings.Contains(em.Detail, ": ") {
		return em, nil
	}
	prefix := strings.TrimSuffix(em.Detail, ".")
	if em.Status == http.StatusBadRequest && prefix == "validation failed" {
		prefix = "malformed request body" // huma's word for a JSON syntax error
	}
	em.Detail = prefix + ": " + strings.Join(parts, "; ")
	return em, nil
}

// errUnauthorized is a 401 carrying the WWW-Authenticate challenge that
// OAuth2 clients (and Swagger UI) expect.
func errUnauthorized(detail string) error {
	return huma.ErrorWithHeaders(huma.Error401Unauthorized(detail), http.Header{"WWW-Authenticate": {"Bearer"}})
}

// Messages shared by several routes; the seed's wording.
const (
	msgNotAuthenticated = "Not authenticated"
	msgBadCredentials   = "Could not validate credentials"
	msgInactive         = "Inactive user"
	msgForbidden        = "Not enough permissions"
	// msgInvalidResetToken does not say whether the token was used, expired
	// or never issued.
	msgInvalidResetToken = "Invalid or expired reset token"
	msgEmailTaken        = "Email already registered"
	msgUsernameTaken     = "Username already taken"
	msgWrongLogin        = "Incorrect username or password"
	msgInvalidRefresh    = "Invalid refresh token"
	msgInternal          = "Internal server error"
	msgServiceNotReady   = "Service unavailable"
	msgValueRefused      = "A value of this request cannot be stored"
	msgConflict          = "The request conflicts with the stored data (rows it relies on changed or are gone); try again"
)
