package sqlite

import (
	"errors"
	"strings"

	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"myapi/internal/sqldb"
)

// classify turns SQLite's errors into sqldb's kinds (sqldb.Error), keeping
// the driver error inside; other errors, and nil, are returned as they are.
func classify(err error) error {
	var e *sqlite3.Error
	if !errors.As(err, &e) {
		return err
	}
	switch code := e.Code(); {
	case code&0xff == sqlite3lib.SQLITE_BUSY, code&0xff == sqlite3lib.SQLITE_LOCKED:
		return &sqldb.Error{Kind: sqldb.ErrUnavailable, Err: err}
	case code == sqlite3lib.SQLITE_CONSTRAINT_CHECK, code == sqlite3lib.SQLITE_CONSTRAINT_NOTNULL,
		code == sqlite3lib.SQLITE_TOOBIG, code == sqlite3lib.SQLITE_MISMATCH, code == sqlite3lib.SQLITE_RANGE:
		return &sqldb.Error{Kind: sqldb.ErrBadValue, Err: err}
	case code == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
		return &sqldb.Error{Kind: sqldb.ErrConflict, Unique: constraintName(e.Error()), Err: err}
	case code&0xff == sqlite3lib.SQLITE_CONSTRAINT:
		return &sqldb.Error{Kind: sqldb.ErrConflict, Err: err}
	}
	return err
}

// constraintName names the unique constraint of SQLite's message
// ("UNIQUE constraint failed: users.email_key") the way the PostgreSQL
// migrations name it: "users_email_key" (table, then the columns).
func constraintName(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	cols, _, _ := strings.Cut(msg[i+len(marker):], " (")
	table := ""
	var names []string
	for _, col := range strings.Split(cols, ",") {
		t, c, _ := strings.Cut(strings.TrimSpace(col), ".")
		table = t
		names = append(names, c)
	}
	return table + "_" + strings.Join(names, "_")
}
