package sqldb

import "errors"

// The kinds of driver error an engine tells apart. errors.Is(err, kind)
// holds for an error an engine classified (see Error).
var (
	// ErrUnavailable: the database could not serve the request right now
	// (down, restarting, overloaded, busy); it may be retried.
	ErrUnavailable = errors.New("database unavailable")
	// ErrBadValue: a value the column or a CHECK or NOT NULL constraint
	// does not allow.
	ErrBadValue = errors.New("value refused by the database")
	// ErrConflict: a UNIQUE or FOREIGN KEY violation: the statement
	// collided with other rows, or relied on rows that are gone.
	ErrConflict = errors.New("conflicting write refused by the database")
)

// Error is a driver error an engine classified. Its message is the
// driver's, and it unwraps to the driver error too.
type Error struct {
	// Kind is ErrUnavailable, ErrBadValue or ErrConflict.
	Kind error
	// Unique names the violated UNIQUE constraint the way the migrations
	// name it on PostgreSQL ("users_email_key"); empty for other errors.
	Unique string
	// Err is the driver's error.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the driver's error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrConflict) (etc.) true for its kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// UniqueViolation returns the name of the UNIQUE constraint err violated,
// if it is such an error.
func UniqueViolation(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) && e.Unique != "" {
		return e.Unique, true
	}
	return "", false
}
