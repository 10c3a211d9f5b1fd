package storage

import (
	"context"
	"errors"
	"net"

	"myapi/internal/sqldb"
)

// Unavailable reports whether err means the database could not serve the
// request right now (down, restarting, overloaded, too slow) rather than
// that the request or the code is wrong: the client may retry, and gets a
// 503 instead of a 500. Each engine tells its own errors apart
// (sqldb.ErrUnavailable).
func Unavailable(err error) bool {
	var netErr net.Error
	return errors.Is(err, sqldb.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}
