package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"myapi/internal/sqldb"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		name   string
		err    error
		want   error // the sqldb kind; nil: left as it is
		unique string
	}{
		{"nil", nil, nil, ""},
		{"plain bug", errors.New("nil map"), nil, ""},
		{"check", fmt.Errorf("create item: %w", &pgconn.PgError{Code: "23514"}), sqldb.ErrBadValue, ""},
		{"not null", &pgconn.PgError{Code: "23502"}, sqldb.ErrBadValue, ""},
		{"bad encoding", &pgconn.PgError{Code: "22021"}, sqldb.ErrBadValue, ""},
		{"numeric out of range", &pgconn.PgError{Code: "22003"}, sqldb.ErrBadValue, ""},
		{"unique", &pgconn.PgError{Code: "23505", ConstraintName: "users_email_key"}, sqldb.ErrConflict, "users_email_key"},
		{"foreign key", &pgconn.PgError{Code: "23503"}, sqldb.ErrConflict, ""},
		{"shutting down", fmt.Errorf("get: %w", &pgconn.PgError{Code: "57P03"}), sqldb.ErrUnavailable, ""},
		{"terminated by administrator", &pgconn.PgError{Code: "57P01"}, sqldb.ErrUnavailable, ""},
		{"connection failure", &pgconn.PgError{Code: "08006"}, sqldb.ErrUnavailable, ""},
		{"too many connections", &pgconn.PgError{Code: "53300"}, sqldb.ErrUnavailable, ""},
		{"syntax error", &pgconn.PgError{Code: "42601"}, nil, ""},
	} {
		got := classify(c.err)
		for _, kind := range []error{sqldb.ErrUnavailable, sqldb.ErrBadValue, sqldb.ErrConflict} {
			if want := errors.Is(c.want, kind); errors.Is(got, kind) != want {
				t.Errorf("%s: errors.Is(classify(%v), %v) = %v", c.name, c.err, kind, !want)
			}
		}
		if name, _ := sqldb.UniqueViolation(got); name != c.unique {
			t.Errorf("%s: unique constraint %q, want %q", c.name, name, c.unique)
		}
		if c.err != nil && !errors.Is(got, c.err) {
			t.Errorf("%s: classify(%v) lost the driver error", c.name, c.err)
		}
	}
}
