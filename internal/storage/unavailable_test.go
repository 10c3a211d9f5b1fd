package storage_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"myapi/internal/sqldb"
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
		{"engine's word", fmt.Errorf("get: %w", &sqldb.Error{Kind: sqldb.ErrUnavailable, Err: errors.New("shutting down")}), true},
		{"conflict", &sqldb.Error{Kind: sqldb.ErrConflict, Err: errors.New("unique")}, false},
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
