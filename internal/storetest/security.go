package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/patch"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// testResetTokensQuiet: with a quiet period, a second token for one user is
// not stored while the first is recent; other users are not affected.
func testResetTokensQuiet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC()
	u := newUser(t, s, "quiet")
	other := newUser(t, s, "loud")
	exp := now.Add(30 * time.Minute)
	for _, c := range []struct {
		name       string
		userID     int64
		hash       string
		quietSince time.Time
		want       bool
	}{
		{"first token", u.ID, "q1", now.Add(-5 * time.Minute), true},
		{"second within the quiet period", u.ID, "q2", now.Add(-5 * time.Minute), false},
		{"another user", other.ID, "o1", now.Add(-5 * time.Minute), true},
		{"quiet period that ended before the first token", u.ID, "q3", now.Add(time.Minute), true},
		{"no quiet period", u.ID, "q4", time.Time{}, true},
	} {
		stored, err := s.CreateResetToken(ctx, c.userID, c.hash, exp, c.quietSince)
		if err != nil || stored != c.want {
			t.Errorf("%s: CreateResetToken = %v, %v; want %v", c.name, stored, err, c.want)
		}
	}
	// A token not stored does not work; the stored ones do (once each
	// user: using one uses up the user's others).
	if _, err := s.ResetPassword(ctx, "q2", "x", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("token refused in the quiet period: %v, want ErrResetTokenInvalid", err)
	}
	for _, h := range []string{"q1", "o1"} {
		if _, err := s.ResetPassword(ctx, h, "x", now); err != nil {
			t.Errorf("stored token %s: %v", h, err)
		}
	}
	// A used token still counts: the quiet period is about emails sent.
	if stored, err := s.CreateResetToken(ctx, other.ID, "o2", exp, now.Add(-5*time.Minute)); stored || err != nil {
		t.Errorf("after using the recent token: CreateResetToken = %v, %v; want false", stored, err)
	}
}

// testResetTokensConcurrentQuiet: of many concurrent recoveries of one user
// in one quiet period, exactly one stores a token.
func testResetTokensConcurrentQuiet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC()
	u := newUser(t, s, "flooded")
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.CreateResetToken(ctx, u.ID, fmt.Sprintf("flood-%d", i), now.Add(time.Hour), now.Add(-time.Hour))
			if err != nil {
				t.Errorf("CreateResetToken #%d: %v", i, err)
			}
			if ok {
				mu.Lock()
				stored++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if stored != 1 {
		t.Fatalf("%d of %d concurrent tokens stored in one quiet period, want 1", stored, n)
	}
}

// testUsersEmailChange: a change of email uses up the user's reset tokens
// and hands the hooks the user before and after; a change of case, or of
// anything else, does neither.
func testUsersEmailChange(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC()
	u := newUser(t, s, "mover")
	other := newUser(t, s, "stayer")
	for _, tok := range []struct {
		userID int64
		hash   string
	}{{u.ID, "m1"}, {u.ID, "m2"}, {other.ID, "s1"}} {
		if _, err := s.CreateResetToken(ctx, tok.userID, tok.hash, now.Add(time.Hour), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	type call struct{ before, after string }
	var calls []call
	hook := func(_ context.Context, tx sqldb.Tx, before, after *users.User) error {
		if tx == nil {
			t.Error("hook without a transaction")
		}
		calls = append(calls, call{before.Email, after.Email})
		return nil
	}
	// Only the case changes: the same address, tokens stay.
	if _, err := s.UpdateUser(ctx, u.ID, users.Update{Email: patch.Value("MOVER@example.com"), Username: patch.Value("Mover")}, hook); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateUser(ctx, u.ID, users.Update{Email: patch.Value("mover@elsewhere.example")}, hook); err != nil {
		t.Fatal(err)
	}
	want := []call{{"mover@example.com", "MOVER@example.com"}, {"MOVER@example.com", "mover@elsewhere.example"}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("hook calls %v, want %v", calls, want)
	}
	for _, h := range []string{"m1", "m2"} {
		if _, err := s.ResetPassword(ctx, h, "x", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
			t.Errorf("reset token %s sent to the old address works after the change: %v", h, err)
		}
	}
	if _, err := s.ResetPassword(ctx, "s1", "x", now); err != nil {
		t.Errorf("another user's token: %v", err)
	}
	if _, err := s.UpdateUser(ctx, 1<<40, users.Update{Email: patch.Value("x@example.com")}, hook); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("UpdateUser of nobody = %v, want ErrNotFound", err)
	}
}

// testUsersUpdateHookError: a failing hook undoes the whole change.
func testUsersUpdateHookError(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC()
	u := newUser(t, s, "stuck")
	if _, err := s.CreateResetToken(ctx, u.ID, "st1", now.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("queue down")
	_, err := s.UpdateUser(ctx, u.ID, users.Update{Email: patch.Value("new@example.com"), Username: patch.Value("unstuck")},
		func(context.Context, sqldb.Tx, *users.User, *users.User) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateUser with a failing hook = %v, want it wrapped", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.Email != u.Email || got.Username != u.Username {
		t.Errorf("after the failed update: %+v, %v; want unchanged", got, err)
	}
	if _, err := s.ResetPassword(ctx, "st1", "x", now); err != nil {
		t.Errorf("reset token after the failed update: %v, want it still live", err)
	}
}

func testUsersReplacePasswordHash(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "rehashed")
	for _, c := range []struct {
		old, new string
		want     bool
	}{{"not-the-hash", "h2", false}, {u.PasswordHash, "h2", true}, {u.PasswordHash, "h3", false}, {"h2", "h3", true}} {
		ok, err := s.ReplacePasswordHash(ctx, u.ID, c.old, c.new)
		if err != nil || ok != c.want {
			t.Errorf("ReplacePasswordHash(%q -> %q) = %v, %v; want %v", c.old, c.new, ok, err, c.want)
		}
	}
	if got, _ := s.UserByID(ctx, u.ID); got.PasswordHash != "h3" {
		t.Errorf("hash %q, want h3", got.PasswordHash)
	}
}

// newSuperuser stores an active superuser called name.
func newSuperuser(t *testing.T, s storage.Store, name string) *users.User {
	t.Helper()
	u := newUser(t, s, name)
	u, err := s.UpdateUser(ctxFor(t), u.ID, users.Update{IsSuperuser: patch.Value(true)})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// activeSuperusers counts them.
func activeSuperusers(t *testing.T, s storage.Store) int {
	t.Helper()
	list, err := s.ListUsers(ctxFor(t), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range list {
		if u.ActiveSuperuser() {
			n++
		}
	}
	return n
}

func testUsersLastSuperuser(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	root := newSuperuser(t, s, "root")
	plain := newUser(t, s, "plain")
	// The only active superuser: every way out is refused, nothing changes.
	for name, upd := range map[string]users.Update{
		"demote":     {IsSuperuser: patch.Value(false)},
		"deactivate": {IsActive: patch.Value(false)},
		"both":       {IsSuperuser: patch.Value(false), IsActive: patch.Value(false), Username: patch.Value("renamed")},
	} {
		if _, err := s.UpdateUser(ctx, root.ID, upd); !errors.Is(err, users.ErrLastSuperuser) {
			t.Errorf("%s the last superuser = %v, want ErrLastSuperuser", name, err)
		}
	}
	if err := s.DeleteUser(ctx, root.ID); !errors.Is(err, users.ErrLastSuperuser) {
		t.Errorf("delete the last superuser = %v, want ErrLastSuperuser", err)
	}
	if got, err := s.UserByID(ctx, root.ID); err != nil || !got.ActiveSuperuser() || got.Username != "root" {
		t.Fatalf("the last superuser after refused changes: %+v, %v", got, err)
	}
	// Other changes go through: renaming it, changing other users, an
	// inactive superuser (who does not count).
	if _, err := s.UpdateUser(ctx, root.ID, users.Update{Username: patch.Value("root2"), IsSuperuser: patch.Value(true)}); err != nil {
		t.Errorf("rename the last superuser: %v", err)
	}
	if _, err := s.UpdateUser(ctx, plain.ID, users.Update{IsActive: patch.Value(false), IsSuperuser: patch.Value(true)}); err != nil {
		t.Errorf("promote an inactive user: %v", err)
	}
	if _, err := s.UpdateUser(ctx, plain.ID, users.Update{IsSuperuser: patch.Value(false)}); err != nil {
		t.Errorf("demote an inactive superuser: %v", err)
	}
	if err := s.DeleteUser(ctx, plain.ID); err != nil {
		t.Errorf("delete a plain user: %v", err)
	}
	// With a second active superuser, one of them may go.
	second := newSuperuser(t, s, "second")
	if _, err := s.UpdateUser(ctx, root.ID, users.Update{IsSuperuser: patch.Value(false)}); err != nil {
		t.Errorf("demote one of two superusers: %v", err)
	}
	if err := s.DeleteUser(ctx, second.ID); !errors.Is(err, users.ErrLastSuperuser) {
		t.Errorf("delete the now last superuser = %v, want ErrLastSuperuser", err)
	}
	if n := activeSuperusers(t, s); n != 1 {
		t.Errorf("%d active superusers, want 1", n)
	}
}

// testUsersConcurrentLastSuperuser: two superusers removing each other at
// once (demoting, deactivating, deleting) always leave one.
func testUsersConcurrentLastSuperuser(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	removals := map[string]func(id int64) error{
		"demote": func(id int64) error {
			_, err := s.UpdateUser(ctx, id, users.Update{IsSuperuser: patch.Value(false)})
			return err
		},
		"deactivate": func(id int64) error {
			_, err := s.UpdateUser(ctx, id, users.Update{IsActive: patch.Value(false)})
			return err
		},
		"delete": func(id int64) error { return s.DeleteUser(ctx, id) },
	}
	round := 0
	var survivor int64
	for name, remove := range removals {
		for range 5 {
			round++
			a := newSuperuser(t, s, fmt.Sprintf("a%d", round))
			b := newSuperuser(t, s, fmt.Sprintf("b%d", round))
			// The previous round's survivor steps down: a and b are the
			// only active superusers.
			if survivor != 0 {
				if _, err := s.UpdateUser(ctx, survivor, users.Update{IsSuperuser: patch.Value(false)}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, id := range []int64{b.ID, a.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = remove(id)
				}()
			}
			wg.Wait()
			refused := 0
			for i, err := range errs {
				switch {
				case errors.Is(err, users.ErrLastSuperuser):
					refused++
					survivor = []int64{b.ID, a.ID}[i]
				case err != nil:
					t.Fatalf("%s: %v", name, err)
				}
			}
			if n := activeSuperusers(t, s); refused != 1 || n != 1 {
				t.Fatalf("%s each other at once: %d refused, %d active superusers left; want 1 and 1 (%v)", name, refused, n, errs)
			}
		}
	}
}
