package auth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"myapi/internal/auth"
	"myapi/internal/patch"
	"myapi/internal/storage"
	"myapi/internal/testdb"
	"myapi/internal/users"
)

const password = "correct horse battery staple"

type svcEnv struct {
	db     storage.Store
	svc    *auth.Service
	tokens *auth.Tokens
}

func newSvc(t *testing.T, open func(testing.TB) storage.Store, cost int) *svcEnv {
	t.Helper()
	db := open(t)
	h, err := auth.NewHasher(cost, 0)
	if err != nil {
		t.Fatal(err)
	}
	tk := newTokens()
	return &svcEnv{db: db, svc: auth.NewService(db, db, h, tk), tokens: tk}
}

// forEachEngine runs fn on a fresh service per available engine: SQLite
// always, PostgreSQL too when TEST_DATABASE_URL is set.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *svcEnv)) {
	t.Helper()
	t.Parallel()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newSvc(t, engine.Open, bcrypt.MinCost))
		})
	}
}

func (e *svcEnv) register(t *testing.T, name string) *users.User {
	t.Helper()
	u, err := e.svc.Register(t.Context(), name+"@example.com", name, password)
	if err != nil {
		t.Fatalf("Register(%s): %v", name, err)
	}
	return u
}

func (e *svcEnv) login(t *testing.T, name string) auth.TokenPair {
	t.Helper()
	_, pair, err := e.svc.Login(t.Context(), name, password)
	if err != nil {
		t.Fatalf("Login(%s): %v", name, err)
	}
	return pair
}

func TestServiceRegisterAndLogin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		u, err := e.svc.Register(ctx, "Alice@EXAMPLE.com", "Alice", password)
		if err != nil {
			t.Fatalf("Register: %v", err)
		}
		if u.ID <= 0 || !u.IsActive || u.IsSuperuser || u.Username != "Alice" {
			t.Errorf("registered user = %+v", *u)
		}
		if u.Email != "Alice@example.com" {
			t.Errorf("email = %q, want the domain lower-cased, the local part kept", u.Email)
		}
		if u.PasswordHash == password || bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
			t.Errorf("stored hash %q is not a bcrypt hash of the password", u.PasswordHash)
		}

		for _, name := range []string{"Alice", "alice", "ALICE"} {
			got, pair, err := e.svc.Login(ctx, name, password)
			if err != nil {
				t.Fatalf("Login(%s): %v", name, err)
			}
			if got.ID != u.ID || pair.AccessToken == "" || pair.RefreshToken == "" || pair.AccessToken == pair.RefreshToken {
				t.Errorf("Login(%s) = %+v, %+v", name, got, pair)
			}
			me, err := e.svc.Authenticate(ctx, pair.AccessToken)
			if err != nil || me.ID != u.ID {
				t.Errorf("Authenticate(access) = %+v, %v; want user %d", me, err, u.ID)
			}
			if _, err := e.svc.Authenticate(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Authenticate(refresh token) = %v, want ErrInvalidToken", err)
			}
			claims, err := e.tokens.Parse(pair.AccessToken, auth.TypeAccess)
			if err != nil {
				t.Fatal(err)
			}
			if id, _ := claims.UserID(); id != u.ID {
				t.Errorf("access token sub = %q, want the user id %d", claims.Subject, u.ID)
			}
		}

		super, err := e.svc.CreateSuperuser(ctx, "root@example.com", "root", password)
		if err != nil || !super.IsSuperuser || !super.IsActive {
			t.Errorf("CreateSuperuser = %+v, %v", super, err)
		}
		if h, err := e.svc.HashPassword(ctx, "new password"); err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte("new password")) != nil {
			t.Errorf("HashPassword = %q, %v", h, err)
		}
	})
}

func TestServiceRegisterDuplicates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		e.register(t, "alice")
		cases := []struct {
			email, username string
			want            error
		}{
			{"alice@example.com", "other", users.ErrEmailTaken},
			{"ALICE@Example.COM", "other", users.ErrEmailTaken},
			{"new@example.com", "alice", users.ErrUsernameTaken},
			{"new@example.com", "ALICE", users.ErrUsernameTaken},
		}
		for _, c := range cases {
			if _, err := e.svc.Register(t.Context(), c.email, c.username, password); !errors.Is(err, c.want) {
				t.Errorf("Register(%q, %q) = %v, want %v", c.email, c.username, err, c.want)
			}
		}
	})
}

// Twenty registrations of one name at once: one account, and nineteen
// clean "taken" errors that the HTTP layer turns into 400s.
func TestServiceConcurrentRegister(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = e.svc.Register(t.Context(), strings.Repeat("x", i+1)+"@example.com", "racer", password)
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, users.ErrUsernameTaken):
				t.Errorf("Register = %v, want nil or ErrUsernameTaken", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d registrations succeeded, want 1", ok)
		}
	})
}

func TestServiceLoginFailures(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		u := e.register(t, "alice")
		e.register(t, "bob")
		cases := []struct{ name, username, password string }{
			{"unknown user", "nobody", password},
			{"wrong password", "alice", "wrong password"},
			{"another user's password", "alice", password + "!"},
			{"empty password", "alice", ""},
			{"empty username", "", password},
			{"email instead of username", "alice@example.com", password},
			{"password with a suffix past 72 bytes", "alice", password + strings.Repeat(" ", 80)},
		}
		for _, c := range cases {
			got, pair, err := e.svc.Login(ctx, c.username, c.password)
			if err != auth.ErrInvalidCredentials { //nolint:errorlint // the very same error, so the reply cannot tell them apart
				t.Errorf("%s: Login = %v, want ErrInvalidCredentials", c.name, err)
			}
			if got != nil || pair != (auth.TokenPair{}) {
				t.Errorf("%s: Login returned a user or tokens on failure", c.name)
			}
		}

		// An inactive user with the right password is told so; with a wrong
		// one, it learns nothing.
		if _, err := e.db.UpdateUser(ctx, u.ID, users.Update{IsActive: patch.Value(false)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Login(ctx, "alice", password); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("Login(inactive) = %v, want ErrInactive", err)
		}
		if _, _, err := e.svc.Login(ctx, "alice", "wrong password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("Login(inactive, wrong password) = %v, want ErrInvalidCredentials", err)
		}
	})
}

func TestServiceInactiveUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		u := e.register(t, "alice")
		pair := e.login(t, "alice")
		if _, err := e.db.UpdateUser(ctx, u.ID, users.Update{IsActive: patch.Value(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, pair.AccessToken); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("Authenticate(inactive) = %v, want ErrInactive", err)
		}
		if _, err := e.svc.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInactive) {
			t.Errorf("Refresh(inactive) = %v, want ErrInactive", err)
		}
		// Reactivated, the same session carries on.
		if _, err := e.db.UpdateUser(ctx, u.ID, users.Update{IsActive: patch.Value(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refresh(ctx, pair.RefreshToken); err != nil {
			t.Errorf("Refresh after reactivation: %v", err)
		}
	})
}

func TestServiceRefreshRotates(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		u := e.register(t, "alice")
		first := e.login(t, "alice")

		second, err := e.svc.Refresh(ctx, first.RefreshToken)
		if err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
			t.Errorf("Refresh returned the same tokens")
		}
		if me, err := e.svc.Authenticate(ctx, second.AccessToken); err != nil || me.ID != u.ID {
			t.Errorf("Authenticate(new access) = %v, %v", me, err)
		}
		c1, _ := e.tokens.Parse(first.RefreshToken, auth.TypeRefresh)
		c2, _ := e.tokens.Parse(second.RefreshToken, auth.TypeRefresh)
		if c1 == nil || c2 == nil || c1.SessionID != c2.SessionID {
			t.Errorf("rotation changed the session: %v → %v", c1, c2)
		}

		third, err := e.svc.Refresh(ctx, second.RefreshToken)
		if err != nil {
			t.Fatalf("second Refresh: %v", err)
		}
		// Presenting a rotated token again is theft: it fails, and the
		// session dies with it, so the newest token fails too.
		if _, err := e.svc.Refresh(ctx, first.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Refresh(rotated token) = %v, want ErrInvalidToken", err)
		}
		if _, err := e.svc.Refresh(ctx, third.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Refresh(newest token after reuse) = %v, want ErrInvalidToken: the session should be revoked", err)
		}
		sess, err := e.db.SessionByID(ctx, c1.SessionID)
		if err != nil || sess.RevokedAt == nil {
			t.Errorf("session after reuse = %+v, %v; want revoked", sess, err)
		}
		// Other sessions of the user are not affected.
		other := e.login(t, "alice")
		if _, err := e.svc.Refresh(ctx, other.RefreshToken); err != nil {
			t.Errorf("Refresh(other session): %v", err)
		}
	})
}

func TestServiceRefreshRejects(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		u := e.register(t, "alice")
		pair := e.login(t, "alice")
		forged, _, err := e.tokens.Issue(auth.TypeRefresh, u.ID, "no-such-session", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := e.tokens.Parse(pair.RefreshToken, auth.TypeRefresh)
		cases := []struct{ name, token string }{
			{"access token", pair.AccessToken},
			{"garbage", "garbage"},
			{"empty", ""},
			{"unknown session", forged},
			{"expired", issue(t, e.tokens, auth.TypeRefresh, u.ID, claims.SessionID, time.Now().Add(-refreshTTL-time.Hour))},
		}
		for _, c := range cases {
			if got, err := e.svc.Refresh(ctx, c.token); !errors.Is(err, auth.ErrInvalidToken) || got != (auth.TokenPair{}) {
				t.Errorf("Refresh(%s) = %+v, %v; want ErrInvalidToken", c.name, got, err)
			}
		}
		if _, err := e.svc.Refresh(ctx, pair.RefreshToken); err != nil {
			t.Errorf("Refresh(the real token) after the rejected ones: %v", err)
		}
	})
}

// Refreshes racing with one token: within the grace period all get the
// one new pair; without it one wins and the others are a reuse.
func TestServiceConcurrentRefresh(t *testing.T) {
	for _, grace := range []time.Duration{auth.DefaultPolicy().RefreshReuseGrace, 0} {
		t.Run(fmt.Sprintf("grace %s", grace), func(t *testing.T) {
			forEachEngine(t, func(t *testing.T, e *svcEnv) {
				p := auth.DefaultPolicy()
				p.RefreshReuseGrace = grace
				e.svc.SetPolicy(p)
				e.register(t, "alice")
				pair := e.login(t, "alice")
				const n = 10
				errs := make([]error, n)
				pairs := make([]auth.TokenPair, n)
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						<-start
						pairs[i], errs[i] = e.svc.Refresh(t.Context(), pair.RefreshToken)
					})
				}
				close(start)
				wg.Wait()
				ok := map[auth.TokenPair]int{}
				for i, err := range errs {
					switch {
					case err == nil:
						ok[pairs[i]]++
					case !errors.Is(err, auth.ErrInvalidToken):
						t.Errorf("Refresh = %v, want nil or ErrInvalidToken", err)
					}
				}
				want := map[bool]int{true: n, false: 1}[grace > 0]
				if len(ok) != 1 {
					t.Fatalf("concurrent refreshes of one token gave %d different pairs, want 1", len(ok))
				}
				for p, count := range ok {
					if count != want {
						t.Errorf("%d concurrent refreshes of one token succeeded, want %d", count, want)
					}
					// With the grace period the session lives on; without,
					// the losers' reuse revoked it.
					if _, err := e.svc.Refresh(t.Context(), p.RefreshToken); (err == nil) != (grace > 0) {
						t.Errorf("the new refresh token: %v", err)
					}
				}
			})
		})
	}
}

func TestServiceLogout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		e.register(t, "alice")
		phone, laptop := e.login(t, "alice"), e.login(t, "alice")
		if err := e.svc.Logout(ctx, phone.RefreshToken); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		if _, err := e.svc.Refresh(ctx, phone.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Refresh after Logout = %v, want ErrInvalidToken", err)
		}
		if err := e.svc.Logout(ctx, phone.RefreshToken); err != nil {
			t.Errorf("second Logout = %v, want nil (already logged out)", err)
		}
		if _, err := e.svc.Refresh(ctx, laptop.RefreshToken); err != nil {
			t.Errorf("Refresh of another session after Logout: %v", err)
		}
		for _, bad := range []string{phone.AccessToken, "garbage", ""} {
			if err := e.svc.Logout(ctx, bad); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Logout(%.10q…) = %v, want ErrInvalidToken", bad, err)
			}
		}
		forged := issue(t, e.tokens, auth.TypeRefresh, 1, "no-such-session", time.Now())
		if err := e.svc.Logout(ctx, forged); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Logout(unknown session) = %v, want ErrInvalidToken", err)
		}
	})
}

func TestServiceRevokeAllSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		alice := e.register(t, "alice")
		e.register(t, "bob")
		a1, a2 := e.login(t, "alice"), e.login(t, "alice")
		a2, err := e.svc.Refresh(ctx, a2.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		b := e.login(t, "bob")
		if err := e.svc.RevokeAllSessions(ctx, alice.ID); err != nil {
			t.Fatalf("RevokeAllSessions: %v", err)
		}
		for i, p := range []auth.TokenPair{a1, a2} {
			if _, err := e.svc.Refresh(ctx, p.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
				t.Errorf("Refresh(alice session %d) after RevokeAllSessions = %v, want ErrInvalidToken", i, err)
			}
		}
		if _, err := e.svc.Refresh(ctx, b.RefreshToken); err != nil {
			t.Errorf("Refresh(bob) after RevokeAllSessions(alice): %v", err)
		}
		// Logging in again starts a fresh session.
		if _, err := e.svc.Refresh(ctx, e.login(t, "alice").RefreshToken); err != nil {
			t.Errorf("Refresh of a new session after RevokeAllSessions: %v", err)
		}
	})
}

// TestServiceDeactivationRevokesSessions: a deactivated user's sessions
// end with the account, whichever interface deactivated it, and do not
// come back when it is reactivated.
func TestServiceDeactivationRevokesSessions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		alice, bob := e.register(t, "alice"), e.register(t, "bob")
		a, b := e.login(t, "alice"), e.login(t, "bob")
		for _, active := range []bool{false, true} {
			if _, err := e.svc.UpdateUser(ctx, bob, auth.Proof{}, alice.ID, users.Update{IsActive: patch.Value(active)}); err != nil {
				t.Fatalf("UpdateUser(is_active=%v): %v", active, err)
			}
		}
		if _, err := e.svc.Refresh(ctx, a.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Refresh(alice) after deactivation and reactivation = %v, want ErrInvalidToken", err)
		}
		if _, err := e.svc.Refresh(ctx, b.RefreshToken); err != nil {
			t.Errorf("Refresh(bob) after alice's deactivation: %v", err)
		}
	})
}

func TestServiceDeletedUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *svcEnv) {
		ctx := t.Context()
		e.register(t, "keeper")
		gone := e.register(t, "gone")
		pair := e.login(t, "gone")
		if err := e.db.DeleteUser(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		if u, err := e.svc.Authenticate(ctx, pair.AccessToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Authenticate(deleted user) = %+v, %v; want ErrInvalidToken", u, err)
		}
		if _, err := e.svc.Refresh(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Refresh(deleted user) = %v, want ErrInvalidToken", err)
		}
		if err := e.svc.Logout(ctx, pair.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("Logout(deleted user) = %v, want ErrInvalidToken", err)
		}
		// The next account must not inherit the deleted one's tokens.
		newcomer := e.register(t, "newcomer")
		if u, err := e.svc.Authenticate(ctx, pair.AccessToken); err == nil {
			t.Errorf("a deleted user's access token authenticates as %q (id %d, deleted id %d)", u.Username, newcomer.ID, gone.ID)
		}
		if _, err := e.svc.Refresh(ctx, pair.RefreshToken); err == nil {
			t.Errorf("a deleted user's refresh token works again after a new registration")
		}
	})
}

// The service honours a cancelled request instead of queueing bcrypt work.
func TestServiceLoginCancelled(t *testing.T) {
	t.Parallel()
	e := newSvc(t, testdb.Engines(t)[0].Open, bcrypt.MinCost)
	e.register(t, "alice")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := e.svc.Login(ctx, "alice", password); err == nil || errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Login with a cancelled context = %v, want a context error", err)
	}
}
