package storage

import (
	"errors"

	"myapi/internal/sqldb"
)

// Refusal says whether, and why, the database refused the values of a
// statement. The API checks every value before writing it, so a refusal
// means a rule it does not check yet, or rows that changed under the
// request: the client's request cannot be done as sent, which is a 4xx,
// not a server failure.
type Refusal int

const (
	// NotRefused is every other error, and nil.
	NotRefused Refusal = iota
	// BadValue is a value the column or a CHECK or NOT NULL constraint
	// does not allow (a price of 0, a NUL byte in PostgreSQL text).
	BadValue
	// Conflict is a UNIQUE or FOREIGN KEY violation: the statement
	// collided with other rows, or relied on rows that are gone.
	Conflict
)

// Refused classifies err, as its engine did (sqldb.ErrBadValue,
// sqldb.ErrConflict).
func Refused(err error) Refusal {
	switch {
	case errors.Is(err, sqldb.ErrBadValue):
		return BadValue
	case errors.Is(err, sqldb.ErrConflict):
		return Conflict
	}
	return NotRefused
}
