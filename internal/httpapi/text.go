package httpapi

import (
	"strings"
	"unicode"

	"github.com/danielgtaylor/huma/v2"
)

// checkText reports a string field that contains control characters (NUL
// among them, which PostgreSQL cannot store). Newlines and tabs are allowed
// only where multiline is true.
func checkText(pb *huma.PathBuffer, field, value string, multiline bool) error {
	bad := strings.IndexFunc(value, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	})
	if bad < 0 {
		return nil
	}
	detail := &huma.ErrorDetail{Location: pb.With(field), Message: "must not contain control characters"}
	if field != "password" {
		detail.Value = value
	}
	return detail
}

// collect drops the nil entries of errs.
func collect(errs ...error) []error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}
