package storage

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
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

// Refused classifies err, from either engine.
func Refused(err error) Refusal {
	if err == nil {
		return NotRefused
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		// 22: data exceptions (bad encoding, out of range, too long);
		// 23502/23514: NOT NULL and CHECK.
		case strings.HasPrefix(pgErr.Code, "22"), pgErr.Code == "23502", pgErr.Code == "23514":
			return BadValue
		case strings.HasPrefix(pgErr.Code, "23"):
			return Conflict
		}
		return NotRefused
	}
	var liteErr *sqlite3.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3lib.SQLITE_CONSTRAINT_CHECK, sqlite3lib.SQLITE_CONSTRAINT_NOTNULL,
			sqlite3lib.SQLITE_TOOBIG, sqlite3lib.SQLITE_MISMATCH, sqlite3lib.SQLITE_RANGE:
			return BadValue
		}
		if liteErr.Code()&0xff == sqlite3lib.SQLITE_CONSTRAINT {
			return Conflict
		}
	}
	return NotRefused
}
