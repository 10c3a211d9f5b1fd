package storage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"myapi/internal/storage"
)

func TestUnavailable(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"deadline", fmt.Errorf("list items: %w", context.DeadlineExceeded), true},
		{"refused", fmt.Errorf("ping: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"shutting down", fmt.Errorf("get: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"terminated by administrator", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"plain bug", errors.New("nil map"), false},
	} {
		if got := storage.Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// A database that is closed under a running server is unavailable, not a bug.
func TestUnavailableClosedPostgres(t *testing.T) {
	ctx := context.Background()
	_, err := storage.Open(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", storage.Options{PoolSize: 1})
	if err == nil {
		t.Skip("something answers on port 1")
	}
	if !storage.Unavailable(err) {
		t.Errorf("connecting to a closed port: Unavailable(%v) = false", err)
	}
}
