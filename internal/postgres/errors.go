package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"myapi/internal/sqldb"
)

// classify turns pgx's errors into sqldb's kinds (sqldb.Error), keeping
// the driver error inside; other errors, and nil, are returned as they are.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		// 08: connection exceptions; 57P: shutting down, starting up,
		// terminated by the administrator; 53300: too many connections.
		case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), code == "53300":
			return &sqldb.Error{Kind: sqldb.ErrUnavailable, Err: err}
		// 22: data exceptions (bad encoding, out of range, too long);
		// 23502/23514: NOT NULL and CHECK.
		case strings.HasPrefix(code, "22"), code == "23502", code == "23514":
			return &sqldb.Error{Kind: sqldb.ErrBadValue, Err: err}
		case code == "23505":
			return &sqldb.Error{Kind: sqldb.ErrConflict, Unique: pgErr.ConstraintName, Err: err}
		case strings.HasPrefix(code, "23"):
			return &sqldb.Error{Kind: sqldb.ErrConflict, Err: err}
		}
		return err
	}
	var connErr *pgconn.ConnectError
	// pgx's word for "the query never reached the server", and timeouts.
	if errors.As(err, &connErr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return &sqldb.Error{Kind: sqldb.ErrUnavailable, Err: err}
	}
	return err
}
