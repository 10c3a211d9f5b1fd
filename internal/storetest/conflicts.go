package storetest

import (
	"errors"
	"testing"

	"myapi/internal/patch"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// testUsersUnknownUnique: a unique constraint the users store does not
// know of (here one a team added to the table) is reported alike by both
// engines: a conflict naming that constraint, neither "email taken" nor
// "username taken".
func testUsersUnknownUnique(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	q, ok := s.(interface{ Querier() sqldb.Querier })
	if !ok {
		t.Fatalf("the %s store has no Querier", s.Engine())
	}
	if _, err := q.Querier().Exec(ctx, `CREATE UNIQUE INDEX users_hashed_password ON users (hashed_password)`); err != nil {
		t.Fatal(err)
	}
	first := newUser(t, s, "first")
	for _, c := range []struct {
		name  string
		write func(u *users.User) error
	}{
		{"create", func(u *users.User) error { return s.CreateUser(ctx, u) }},
		{"update", func(u *users.User) error {
			other := newUser(t, s, "other")
			_, err := s.UpdateUser(ctx, other.ID, users.Update{PasswordHash: patch.Value(u.PasswordHash)})
			return err
		}},
	} {
		err := c.write(&users.User{Email: "second@example.com", Username: "second", PasswordHash: first.PasswordHash, IsActive: true})
		if errors.Is(err, users.ErrUsernameTaken) || errors.Is(err, users.ErrEmailTaken) {
			t.Errorf("%s: %v: another constraint's violation reported as a taken name", c.name, err)
		}
		if got := storage.Refused(err); got != storage.Conflict {
			t.Errorf("%s: Refused(%v) = %v, want Conflict", c.name, err, got)
		}
		if name, _ := sqldb.UniqueViolation(err); name != "users_hashed_password" {
			t.Errorf("%s: violated constraint %q, want users_hashed_password", c.name, name)
		}
	}
}
