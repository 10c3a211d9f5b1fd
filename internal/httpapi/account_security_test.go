package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"myapi/internal/auth"
	"myapi/internal/patch"
	"myapi/internal/ratelimit"
	"myapi/internal/users"
)

func putMe(token string, body map[string]any) request {
	return request{Method: "PUT", Path: "/users/me", Token: token, JSON: body}
}

// TestEmailChangeNeedsReauth: a bearer token alone changes the email only
// right after a password login (the seed's "log in, then update" flow);
// later it takes the current password. Refreshing does not make a session
// fresh again, and the reset tokens sent to the old address stop working.
func TestEmailChangeNeedsReauth(t *testing.T) {
	opts := func() envOptions { return envOptions{limits: ratelimit.Config{LoginPerMinute: 3}} }
	forEachEngineWith(t, opts, func(t *testing.T, e *env, clock *testClock) {
		ctx := context.Background()
		u := e.register(t, "kim")
		id := int64(u["id"].(float64))
		access, refresh := e.login(t, "kim")

		// Fresh login: the seed's clients change the email as before.
		if got := e.expect(t, http.StatusOK, putMe(access, map[string]any{"email": "kim2@example.com"})).JSON(t); got["email"] != "kim2@example.com" {
			t.Fatalf("email after a fresh change: %v", got)
		}
		resetToken, err := e.Auth.ResetTokenFor(ctx, e.DB, id, time.Hour, 0)
		if err != nil || resetToken == "" {
			t.Fatalf("ResetTokenFor: %q, %v", resetToken, err)
		}

		clock.Advance(auth.DefaultPolicy().FreshLogin + time.Second)
		// Refreshing keeps the login's time: still not fresh.
		access = e.expect(t, http.StatusOK, refreshRequest(refresh)).JSON(t)["access_token"].(string)
		cases := []struct {
			name   string
			body   map[string]any
			status int
			detail string
		}{
			{"stale, no password", map[string]any{"email": "evil@example.net"}, 403, "current_password"},
			{"stale, wrong password", map[string]any{"email": "evil@example.net", "current_password": "wrong-password"}, 403, "Incorrect password"},
			{"stale, null password", map[string]any{"email": "evil@example.net", "current_password": nil}, 422, "current_password"},
			{"username needs no proof", map[string]any{"username": "kimberly"}, 200, ""},
			{"the same email in another case needs no proof", map[string]any{"email": "KIM2@example.com"}, 200, ""},
			{"stale, right password", map[string]any{"email": "kim3@example.com", "current_password": "password123"}, 200, ""},
		}
		for _, c := range cases {
			res := e.expect(t, c.status, putMe(access, c.body))
			if c.detail != "" && !strings.Contains(res.Detail(t), c.detail) {
				t.Errorf("%s: detail %q does not mention %q", c.name, res.Detail(t), c.detail)
			}
		}
		got, err := e.DB.UserByID(ctx, id)
		if err != nil || got.Email != "kim3@example.com" || got.Username != "kimberly" {
			t.Fatalf("stored user %+v, %v", got, err)
		}
		// The token mailed to kim@example.com died with the first change.
		if _, err := e.Auth.ResetPassword(ctx, e.DB, resetToken, "attacker-password"); err == nil {
			t.Error("a reset token sent to the old address still works")
		}

		// Wrong current passwords count as failed logins: after the
		// budget (3, one used above) the check is not even made.
		e.expect(t, http.StatusForbidden, putMe(access, map[string]any{"email": "x@example.net", "current_password": "wrong-2"}))
		e.expect(t, http.StatusForbidden, putMe(access, map[string]any{"email": "x@example.net", "current_password": "wrong-3"}))
		res := e.expect(t, http.StatusTooManyRequests, putMe(access, map[string]any{"email": "x@example.net", "current_password": "password123"}))
		if res.Header.Get("Retry-After") == "" || !strings.Contains(res.Detail(t), "failed password") {
			t.Errorf("429: %v %s", res.Header, res.Body)
		}

		// A new password login is fresh again.
		clock.Advance(2 * time.Minute)
		fresh, _ := e.login(t, "kimberly")
		e.expect(t, http.StatusOK, putMe(fresh, map[string]any{"email": "kim4@example.com"}))
	})
}

// TestAdminEmailChangeNeedsReauth: a superuser's stale token cannot move
// another account to a new address either (PATCH is the same way in).
func TestAdminEmailChangeNeedsReauth(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, clock *testClock) {
		admin, _ := e.superuser(t, "boss")
		_, id := e.user(t, "lee")
		path := "/users/" + itoa(id)
		clock.Advance(auth.DefaultPolicy().FreshLogin + time.Second)
		e.expect(t, http.StatusForbidden, request{Method: "PATCH", Path: path, Token: admin, JSON: map[string]any{"email": "evil@example.net"}})
		e.expect(t, http.StatusForbidden, request{Method: "PATCH", Path: path, Token: admin, JSON: map[string]any{"email": "evil@example.net", "current_password": "nope-nope"}})
		e.expect(t, http.StatusOK, request{Method: "PATCH", Path: path, Token: admin, JSON: map[string]any{"is_active": true, "username": "lee2"}})
		e.expect(t, http.StatusOK, request{Method: "PATCH", Path: path, Token: admin, JSON: map[string]any{"email": "lee@new.example", "current_password": "password123"}})
		e.expect(t, http.StatusNotFound, request{Method: "PATCH", Path: "/users/999999", Token: admin, JSON: map[string]any{"email": "x@example.net"}})
	})
}

// from is a request header set for a client behind the test's trusted
// proxy (127.0.0.1).
func from(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

func loginFrom(ip, username, password string) request {
	r := loginRequest(username, password)
	r.Header = from(ip)
	return r
}

// TestLockoutCannotBeForced: failed logins as
// "VICTIM " from one network do not keep the owner, elsewhere, out; only
// failures count, and registration bodies do not count against a name.
func TestLockoutCannotBeForced(t *testing.T) {
	opts := func() envOptions {
		return envOptions{limits: ratelimit.Config{PerMinute: 1000, LoginPerMinute: 10}, trustedProxies: []string{"127.0.0.1", "::1"}}
	}
	forEachEngineWith(t, opts, func(t *testing.T, e *env, _ *testClock) {
		e.register(t, "victim")
		for range 9 {
			e.expect(t, http.StatusUnauthorized, loginFrom("203.0.113.5", "VICTIM ", "guess-guess"))
		}
		e.expect(t, http.StatusOK, loginFrom("198.51.100.7", "victim", "password123"))

		// The attacker's tenth failure uses up their network's budget;
		// neighbouring addresses share it, the owner does not.
		e.expect(t, http.StatusUnauthorized, loginFrom("203.0.113.5", "victim", "guess-guess"))
		e.expect(t, http.StatusTooManyRequests, loginFrom("203.0.113.5", "victim", "password123"))
		if d := e.expect(t, http.StatusTooManyRequests, loginFrom("203.0.113.77", "victim", "guess-guess")).Detail(t); !strings.Contains(d, "failed password") {
			t.Errorf("429 from the attacker's network: %q", d)
		}
		// Successes never count: the owner logs in again and again (from
		// addresses of their own, each under the per-IP limit).
		for i := range 12 {
			e.expect(t, http.StatusOK, loginFrom(fmt.Sprintf("198.51.100.%d", 10+i), "victim", "password123"))
			e.expect(t, http.StatusOK, loginFrom(fmt.Sprintf("2001:db8:7:%x::1", i), "Victim", "password123"))
		}
		// Registration bodies naming the account, from many addresses, do
		// not count against it either.
		for i := range 15 {
			req := request{Method: "POST", Path: "/auth/register", Header: from(fmt.Sprintf("192.0.2.%d", i+1)), JSON: map[string]any{
				"email": fmt.Sprintf("v%d@example.com", i), "username": "victim", "password": "password123",
			}}
			e.expect(t, http.StatusBadRequest, req)
		}
		e.expect(t, http.StatusOK, loginFrom("192.0.2.200", "victim", "password123"))
	})
}

// TestClientIPHeader: the one header named by CLIENT_IP_HEADER decides the
// client behind a trusted proxy; rotating the other one, or the entries a
// client writes at the left of X-Forwarded-For, escapes no limit.
func TestClientIPHeader(t *testing.T) {
	const limit = 5
	for _, c := range []struct {
		name    string
		header  string
		headers func(i int) map[string]string
		escapes bool // each request is a client of its own
	}{
		{"X-Real-IP proxy, client rotates X-Forwarded-For", "X-Real-IP", func(i int) map[string]string {
			return map[string]string{"X-Real-IP": "203.0.113.9", "X-Forwarded-For": fmt.Sprintf("10.9.%d.1", i)}
		}, false},
		{"X-Forwarded-For proxy, client rotates X-Real-IP", "X-Forwarded-For", func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Real-IP": fmt.Sprintf("10.9.%d.1", i)}
		}, false},
		{"X-Forwarded-For proxy, client prepends entries", "X-Forwarded-For", func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("10.9.%d.1, 203.0.113.9", i)}
		}, false},
		{"X-Real-IP proxy, distinct clients", "X-Real-IP", func(i int) map[string]string {
			return map[string]string{"X-Real-IP": fmt.Sprintf("198.51.%d.1", i)}
		}, true},
		{"X-Forwarded-For proxy, distinct clients", "X-Forwarded-For", func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.%d.1", i)}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := func() envOptions {
				return envOptions{limits: ratelimit.Config{LoginPerMinute: limit}, trustedProxies: []string{"127.0.0.1", "::1"}, clientIPHeader: c.header}
			}
			forEachEngineWith(t, opts, func(t *testing.T, e *env, _ *testClock) {
				limited := 0
				for i := range limit + 3 {
					r := loginRequest(fmt.Sprintf("nobody%d", i), "guess-guess")
					r.Header = c.headers(i)
					if e.do(t, r).Status == http.StatusTooManyRequests {
						limited++
					}
				}
				if (limited == 0) != c.escapes {
					t.Errorf("%d of %d logins refused; escapes=%v expected", limited, limit+3, c.escapes)
				}
			})
		})
	}
}

// TestLastSuperuser: two superusers removing each other at once (demote,
// deactivate, delete) leave exactly one.
func TestLastSuperuser(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, _ *testClock) {
		removals := []struct {
			name string
			req  func(path, token string) request
		}{
			{"demote", func(path, token string) request {
				return request{Method: "PATCH", Path: path, Token: token, JSON: map[string]any{"is_superuser": false}}
			}},
			{"deactivate", func(path, token string) request {
				return request{Method: "PATCH", Path: path, Token: token, JSON: map[string]any{"is_active": false}}
			}},
			{"delete", func(path, token string) request { return request{Method: "DELETE", Path: path, Token: token} }},
		}
		var survivor int64
		for round, rm := range removals {
			a, aID := e.superuser(t, fmt.Sprintf("a%d", round))
			b, bID := e.superuser(t, fmt.Sprintf("b%d", round))
			if survivor != 0 {
				if _, err := e.DB.UpdateUser(context.Background(), survivor, users.Update{IsSuperuser: patch.Value(false)}); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			res := make([]response, 2)
			for i, r := range []request{rm.req("/users/"+itoa(bID), a), rm.req("/users/"+itoa(aID), b)} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = e.do(t, r)
				}()
			}
			wg.Wait()
			done := 0
			for i, r := range res {
				switch r.Status {
				case http.StatusOK, http.StatusNoContent:
					done++
				case http.StatusUnauthorized, http.StatusForbidden:
					// Refused as the last superuser, or because the other's
					// change landed first and this one is no longer a
					// superuser (or no longer exists): either way it did
					// nothing, and its target survives.
					survivor = []int64{bID, aID}[i]
					if d := r.Detail(t); r.Status == http.StatusForbidden && !strings.Contains(d, "last active superuser") &&
						d != "Not enough permissions" && d != "Inactive user" {
						t.Errorf("%s: refused with %q", rm.name, d)
					}
				default:
					t.Fatalf("%s: %d %s", rm.name, r.Status, r.Body)
				}
			}
			if n := activeSuperusers(t, e); done != 1 || n != 1 {
				t.Fatalf("%s each other at once: %d done, %d active superusers; want 1, 1", rm.name, done, n)
			}
		}
	})
}

func activeSuperusers(t *testing.T, e *env) int {
	t.Helper()
	list, err := e.DB.ListUsers(context.Background(), 0, 100)
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

// TestRehashOnLogin: a hash made at another cost (an older BCRYPT_COST)
// is replaced at login by one at the configured cost, so every account's
// failed login costs what an unknown user's does.
func TestRehashOnLogin(t *testing.T) {
	opts := func() envOptions { return envOptions{bcryptCost: 5} }
	forEachEngineWith(t, opts, func(t *testing.T, e *env, _ *testClock) {
		ctx := context.Background()
		old, err := bcrypt.GenerateFromPassword([]byte("password123"), 4)
		if err != nil {
			t.Fatal(err)
		}
		u := &users.User{Email: "old@example.com", Username: "oldtimer", PasswordHash: string(old), IsActive: true}
		if err := e.DB.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		e.expect(t, http.StatusUnauthorized, loginRequest("oldtimer", "password124"))
		if got, _ := e.DB.UserByID(ctx, u.ID); got.PasswordHash != string(old) {
			t.Fatal("a failed login replaced the hash")
		}
		e.expect(t, http.StatusOK, loginRequest("oldtimer", "password123"))
		got, err := e.DB.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cost, err := bcrypt.Cost([]byte(got.PasswordHash)); err != nil || cost != 5 {
			t.Fatalf("hash cost after login = %d, %v; want 5", cost, err)
		}
		e.expect(t, http.StatusOK, loginRequest("oldtimer", "password123"))
		e.expect(t, http.StatusUnauthorized, loginRequest("oldtimer", "password124"))
	})
}
