// Package input decodes what clients send, JSON bodies and forms, so that
// what is validated is what is stored: object keys match exactly, a key
// given twice is refused rather than resolved (parsers disagree on which
// one counts), and text holds only what every engine can store. Text may
// hold any Unicode the seed accepts, control characters included; only NUL
// (which PostgreSQL cannot store) and invalid UTF-8 are refused.
package input

import (
	"strings"
	"unicode/utf8"
)

// Problem is what is wrong with an input, and where: Location names the
// place as the API's validation errors do ("body.tags[1].name",
// "body.username").
type Problem struct {
	Location string
	Message  string
}

// Messages of the rules.
const (
	MsgNUL       = `must not contain the NUL character (\u0000)`
	MsgBadUTF8   = "must be valid UTF-8"
	MsgDuplicate = "is given more than once"
)

// TextProblem says why s cannot be stored as text, or "" when it can.
func TextProblem(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return MsgNUL
	case !utf8.ValidString(s):
		return MsgBadUTF8
	}
	return ""
}
