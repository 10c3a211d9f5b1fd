package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// insertSessionInTx writes a session through a hook's engine transaction,
// as the job queue writes its job.
func insertSessionInTx(ctx context.Context, tx sqldb.Tx, id string, userID int64) error {
	now := time.Now().UTC()
	_, err := tx.Exec(ctx, `INSERT INTO refresh_sessions (id, user_id, token_hash, expires_at, created_at, updated_at) VALUES (?, ?, 'h', ?, ?, ?)`,
		id, userID, now.Add(time.Hour), now, now)
	return err
}

func testUsersCreateHooks(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)

	// A hook that succeeds: its write and the user are both stored, and it
	// sees the new user's id.
	u := &users.User{Email: "hook@example.com", Username: "hook", PasswordHash: "x", IsActive: true}
	var seen int64
	err := s.CreateUser(ctx, u, func(ctx context.Context, tx sqldb.Tx) error {
		seen = u.ID
		return insertSessionInTx(ctx, tx, "hook-ok", u.ID)
	})
	if err != nil {
		t.Fatalf("CreateUser with hook: %v", err)
	}
	if seen == 0 || seen != u.ID {
		t.Errorf("hook saw user id %d, want %d", seen, u.ID)
	}
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		t.Errorf("user after successful hook: %v", err)
	}
	if sess, err := s.SessionByID(ctx, "hook-ok"); err != nil || sess.UserID != u.ID {
		t.Errorf("hook's write = %+v, %v; want stored", sess, err)
	}

	// A hook that fails after writing: neither the user nor its write.
	boom := errors.New("boom")
	v := &users.User{Email: "nohook@example.com", Username: "nohook", PasswordHash: "x", IsActive: true}
	err = s.CreateUser(ctx, v, func(ctx context.Context, tx sqldb.Tx) error {
		if err := insertSessionInTx(ctx, tx, "hook-failed", v.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("CreateUser with failing hook = %v, want it to wrap the hook's error", err)
	}
	if _, err := s.UserByUsername(ctx, "nohook"); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("user after failed hook: %v, want ErrNotFound", err)
	}
	if _, err := s.SessionByID(ctx, "hook-failed"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("hook's write after failed hook: %v, want ErrSessionNotFound", err)
	}
	// A duplicate never reaches the hook.
	called := false
	err = s.CreateUser(ctx, &users.User{Email: "HOOK@example.com", Username: "other", PasswordHash: "x"},
		func(context.Context, sqldb.Tx) error { called = true; return nil })
	if !errors.Is(err, users.ErrEmailTaken) || called {
		t.Errorf("duplicate with hook = %v (hook called: %v), want ErrEmailTaken and no call", err, called)
	}
	// The name is free again after the failed attempt.
	newUser(t, s, "nohook")
}

func testResetTokens(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC()
	u := newUser(t, s, "resetme")
	other := newUser(t, s, "bystander")
	newSession(t, s, "r-s1", u.ID, "h1", now.Add(time.Hour))
	newSession(t, s, "r-s2", other.ID, "h2", now.Add(time.Hour))
	for _, tok := range []struct {
		hash string
		exp  time.Time
	}{{"t-live", now.Add(30 * time.Minute)}, {"t-live2", now.Add(30 * time.Minute)}, {"t-expired", now.Add(-time.Minute)}} {
		if _, err := s.CreateResetToken(ctx, u.ID, tok.hash, tok.exp, time.Time{}); err != nil {
			t.Fatalf("CreateResetToken: %v", err)
		}
	}
	for _, c := range []struct {
		hash string
		want error
	}{{"t-live", nil}, {"t-expired", auth.ErrResetTokenInvalid}, {"t-unknown", auth.ErrResetTokenInvalid}} {
		if err := s.CheckResetToken(ctx, c.hash, now); !errors.Is(err, c.want) {
			t.Errorf("CheckResetToken(%s) = %v, want %v", c.hash, err, c.want)
		}
	}
	if _, err := s.ResetPassword(ctx, "t-expired", "new", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("expired token: %v, want ErrResetTokenInvalid", err)
	}
	if _, err := s.ResetPassword(ctx, "t-unknown", "new", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("unknown token: %v, want ErrResetTokenInvalid", err)
	}
	got, err := s.UserByID(ctx, u.ID)
	if err != nil || got.PasswordHash == "new" {
		t.Fatalf("password changed by a refused token: %+v, %v", got, err)
	}

	// Two concurrent uses of one token: exactly one wins.
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.ResetPassword(ctx, "t-live", fmt.Sprintf("new-%d", i), now)
			if err == nil && id != u.ID {
				err = fmt.Errorf("id %d, want %d", id, u.ID)
			}
			results[i] = err
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range results {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, auth.ErrResetTokenInvalid):
			t.Errorf("concurrent ResetPassword: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one token succeeded, want 1", wins)
	}
	got, _ = s.UserByID(ctx, u.ID)
	if len(got.PasswordHash) < 5 || got.PasswordHash[:4] != "new-" {
		t.Errorf("password hash = %q, want one of the new ones", got.PasswordHash)
	}
	// The user's other token is used up too; their sessions are revoked,
	// another user's are not.
	if err := s.CheckResetToken(ctx, "t-live", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("CheckResetToken of a used token = %v, want ErrResetTokenInvalid", err)
	}
	if _, err := s.ResetPassword(ctx, "t-live2", "again", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("sibling token after a reset: %v, want ErrResetTokenInvalid", err)
	}
	if sess, _ := s.SessionByID(ctx, "r-s1"); sess == nil || sess.RevokedAt == nil {
		t.Errorf("user's session after reset = %+v, want revoked", sess)
	}
	if sess, _ := s.SessionByID(ctx, "r-s2"); sess == nil || sess.RevokedAt != nil {
		t.Errorf("other user's session after reset = %+v, want live", sess)
	}

	// Purge: the revoked and expired sessions and the used and expired
	// tokens go; live ones stay.
	newSession(t, s, "r-expired", other.ID, "h3", now.Add(-time.Minute))
	if _, err := s.CreateResetToken(ctx, other.ID, "t-other-live", now.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Second)
	sessions, tokens, err := s.PurgeExpired(ctx, later)
	if err != nil {
		t.Fatalf("PurgeExpired: %v", err)
	}
	if sessions != 2 || tokens != 3 {
		t.Errorf("PurgeExpired = %d sessions, %d tokens; want 2, 3", sessions, tokens)
	}
	if _, err := s.SessionByID(ctx, "r-s2"); err != nil {
		t.Errorf("live session purged: %v", err)
	}
	if _, err := s.ResetPassword(ctx, "t-other-live", "x", later); err != nil {
		t.Errorf("live token after purge: %v", err)
	}
	// Deleting a user deletes its tokens.
	if _, err := s.CreateResetToken(ctx, u.ID, "t-deleted", now.Add(time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResetPassword(ctx, "t-deleted", "x", now); !errors.Is(err, auth.ErrResetTokenInvalid) {
		t.Errorf("token of a deleted user: %v, want ErrResetTokenInvalid", err)
	}
}
