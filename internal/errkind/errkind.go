// Package errkind sorts domain errors into the few kinds a client can act
// on: the thing is not there, it conflicts with what is, or the request is
// invalid. A domain package declares its errors with a kind and a message
// fit for a client, and the HTTP layer answers each kind by one rule
// (internal/httpapi's errorTable), so a new resource's errors need no new
// line there.
package errkind

import "errors"

// Kind is what went wrong, as a client can act on it.
type Kind int

// The kinds. The zero Kind is none: an error without a kind is unexpected.
const (
	NotFound Kind = iota + 1
	Conflict
	Invalid
)

// Error is a domain error of a kind. Its message is shown to clients as
// is (the HTTP answer's detail), so it says what is wrong in their terms.
type Error struct {
	Kind    Kind
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// New returns an error of kind with message; declare it once, as a
// package variable, so callers can test it with errors.Is.
func New(kind Kind, message string) error { return &Error{Kind: kind, Message: message} }

// Of returns the kinded error in err's chain, if any.
func Of(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}
