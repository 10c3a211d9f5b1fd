package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/storage"
)

func testSessionsCreateAndGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "alice")
	exp := time.Now().In(seoul).Add(7 * 24 * time.Hour)
	newSession(t, s, "sess-1", u.ID, "hash-1", exp)
	got, err := s.SessionByID(ctx, "sess-1")
	if err != nil {
		t.Fatalf("SessionByID: %v", err)
	}
	if got.ID != "sess-1" || got.UserID != u.ID || got.TokenHash != "hash-1" || got.RevokedAt != nil {
		t.Errorf("SessionByID = %+v", *got)
	}
	if d := got.ExpiresAt.Sub(exp); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, exp)
	}
	if got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt location = %q, want UTC", got.ExpiresAt.Location())
	}
	for _, id := range []string{"", "sess-2", "SESS-1", "'; DROP TABLE refresh_sessions; --", "%"} {
		if _, err := s.SessionByID(ctx, id); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("SessionByID(%q) = %v, want ErrSessionNotFound", id, err)
		}
	}
	if err := s.CreateSession(ctx, &auth.Session{ID: "sess-1", UserID: u.ID, TokenHash: "other", ExpiresAt: exp}); err == nil {
		t.Errorf("CreateSession with a duplicate id succeeded")
	}
	if err := s.CreateSession(ctx, &auth.Session{ID: "orphan", UserID: math.MaxInt64, TokenHash: "h", ExpiresAt: exp}); err == nil {
		t.Errorf("CreateSession for an unknown user succeeded")
	}
	if got, _ := s.SessionByID(ctx, "sess-1"); got == nil || got.TokenHash != "hash-1" {
		t.Errorf("a refused CreateSession changed the session: %+v", got)
	}
}

func testSessionsRotate(t *testing.T, s storage.Store) {
	u := newUser(t, s, "alice")
	base := time.Now().UTC().Truncate(time.Millisecond)
	exp := base.Add(time.Hour)
	newExp := base.Add(2 * time.Hour)
	cases := []struct {
		name    string
		prepare func(t *testing.T, ctx context.Context, id string) // run before the rotation
		id      string                                             // defaults to the session's id
		oldHash string
		now     time.Time
		want    bool
	}{
		{name: "current hash", oldHash: "old", now: base, want: true},
		{name: "current hash, now in another zone", oldHash: "old", now: base.In(seoul), want: true},
		{name: "just before expiry", oldHash: "old", now: exp.Add(-time.Second), want: true},
		{name: "just before expiry, another zone", oldHash: "old", now: exp.Add(-time.Second).In(seoul), want: true},
		{name: "at expiry", oldHash: "old", now: exp, want: false},
		{name: "after expiry", oldHash: "old", now: exp.Add(time.Second), want: false},
		{name: "after expiry, another zone", oldHash: "old", now: exp.Add(time.Second).In(seoul), want: false},
		{name: "long after expiry", oldHash: "old", now: exp.Add(365 * 24 * time.Hour), want: false},
		{name: "wrong hash", oldHash: "not-the-hash", now: base, want: false},
		{name: "hash in another case", oldHash: "OLD", now: base, want: false},
		{name: "unknown session", id: "no-such-session", oldHash: "old", now: base, want: false},
		{name: "revoked", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, id string) {
			if err := s.RevokeSession(ctx, id, base.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "revoked in the future", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, id string) {
			// revoked_at is a marker, not a deadline: revoked is revoked.
			if err := s.RevokeSession(ctx, id, base.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "all user sessions revoked", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, _ string) {
			if err := s.RevokeUserSessions(ctx, u.ID, base); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxFor(t)
			sid := fmt.Sprintf("rotate-%d", i)
			newSession(t, s, sid, u.ID, "old", exp)
			if c.prepare != nil {
				c.prepare(t, ctx, sid)
			}
			id := sid
			if c.id != "" {
				id = c.id
			}
			ok, err := s.RotateSession(ctx, id, c.oldHash, "new", newExp, c.now)
			if err != nil {
				t.Fatalf("RotateSession: %v", err)
			}
			if ok != c.want {
				t.Fatalf("RotateSession = %v, want %v", ok, c.want)
			}
			got, err := s.SessionByID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			wantHash, wantExp := "old", exp
			if c.want {
				wantHash, wantExp = "new", newExp
			}
			if got.TokenHash != wantHash || !got.ExpiresAt.Equal(wantExp) {
				t.Errorf("after RotateSession: hash %q, expires %v; want %q, %v", got.TokenHash, got.ExpiresAt, wantHash, wantExp)
			}
			if !c.want {
				if got.PrevTokenHash != "" || got.RotatedAt != nil {
					t.Errorf("no rotation, yet PrevTokenHash %q, RotatedAt %v", got.PrevTokenHash, got.RotatedAt)
				}
				return
			}
			// The rotation is recorded: what it replaced, and when.
			if got.PrevTokenHash != "old" || got.RotatedAt == nil || !got.RotatedAt.Equal(c.now) || got.RotatedAt.Location() != time.UTC {
				t.Errorf("after RotateSession: PrevTokenHash %q, RotatedAt %v; want \"old\", %v in UTC", got.PrevTokenHash, got.RotatedAt, c.now)
			}
			// The old hash is spent; the new one rotates on.
			if ok, err := s.RotateSession(ctx, sid, "old", "newer", newExp, c.now); ok || err != nil {
				t.Errorf("RotateSession with the spent hash = %v, %v; want false", ok, err)
			}
			if ok, err := s.RotateSession(ctx, sid, "new", "newer", newExp, c.now); !ok || err != nil {
				t.Errorf("RotateSession with the new hash = %v, %v; want true", ok, err)
			}
		})
	}
}

func testSessionsConcurrentRotate(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "alice")
	now := time.Now()
	newSession(t, s, "contested", u.ID, "old", now.Add(time.Hour))
	const n = 20
	oks := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			oks[i], errs[i] = s.RotateSession(ctx, "contested", "old", fmt.Sprintf("new-%d", i), now.Add(2*time.Hour), now)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("RotateSession #%d: %v", i, errs[i])
		}
		if oks[i] {
			if winner >= 0 {
				t.Errorf("RotateSession #%d and #%d both succeeded with the same old hash", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent RotateSession succeeded")
	}
	got, err := s.SessionByID(ctx, "contested")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("new-%d", winner); got.TokenHash != want {
		t.Errorf("token hash = %q, want the winner's %q", got.TokenHash, want)
	}
}

func testSessionsRevoke(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"a1", "a2", "a3"} {
		newSession(t, s, id, alice.ID, "h-"+id, exp)
	}
	newSession(t, s, "b1", bob.ID, "h-b1", exp)

	revokedAt := time.Now().In(seoul)
	if err := s.RevokeSession(ctx, "a1", revokedAt); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	got, err := s.SessionByID(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt == nil {
		t.Fatalf("RevokedAt is nil after RevokeSession")
	}
	if d := got.RevokedAt.Sub(revokedAt); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, revokedAt)
	}
	if got.RevokedAt.Location() != time.UTC {
		t.Errorf("RevokedAt location = %q, want UTC", got.RevokedAt.Location())
	}
	// Revoking again keeps the first time; an unknown id is no error.
	if err := s.RevokeSession(ctx, "a1", revokedAt.Add(time.Hour)); err != nil {
		t.Errorf("second RevokeSession: %v", err)
	}
	if again, _ := s.SessionByID(ctx, "a1"); again == nil || again.RevokedAt == nil || !again.RevokedAt.Equal(*got.RevokedAt) {
		t.Errorf("second RevokeSession moved RevokedAt from %v to %+v", got.RevokedAt, again)
	}
	if err := s.RevokeSession(ctx, "no-such-session", revokedAt); err != nil {
		t.Errorf("RevokeSession(unknown) = %v, want nil", err)
	}
	if live, _ := s.SessionByID(ctx, "a2"); live == nil || live.RevokedAt != nil {
		t.Errorf("RevokeSession(a1) touched a2: %+v", live)
	}

	if err := s.RevokeUserSessions(ctx, alice.ID, time.Now()); err != nil {
		t.Fatalf("RevokeUserSessions: %v", err)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		sess, err := s.SessionByID(ctx, id)
		if err != nil || sess.RevokedAt == nil {
			t.Errorf("session %s after RevokeUserSessions = %+v, %v; want revoked", id, sess, err)
		}
		if ok, err := s.RotateSession(ctx, id, "h-"+id, "x", exp, time.Now()); ok || err != nil {
			t.Errorf("RotateSession(%s) after RevokeUserSessions = %v, %v; want false", id, ok, err)
		}
	}
	if a1, _ := s.SessionByID(ctx, "a1"); a1 == nil || a1.RevokedAt == nil || !a1.RevokedAt.Equal(*got.RevokedAt) {
		t.Errorf("RevokeUserSessions moved a1's earlier RevokedAt: %+v", a1)
	}
	b1, err := s.SessionByID(ctx, "b1")
	if err != nil || b1.RevokedAt != nil {
		t.Errorf("bob's session after RevokeUserSessions(alice) = %+v, %v; want live", b1, err)
	}
	if ok, err := s.RotateSession(ctx, "b1", "h-b1", "h-b1-2", exp, time.Now()); !ok || err != nil {
		t.Errorf("RotateSession(bob) = %v, %v; want true", ok, err)
	}
	if err := s.RevokeUserSessions(ctx, math.MaxInt64, time.Now()); err != nil {
		t.Errorf("RevokeUserSessions(unknown user) = %v, want nil", err)
	}
}

// ------------------------------------------------------------- migrations
