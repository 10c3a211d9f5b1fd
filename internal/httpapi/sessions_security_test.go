package httpapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myapi/internal/auth"
	"myapi/internal/testdb"
)

// forEachEngineWith runs fn against a fresh server with opts, and the
// server's clock, on every available engine.
func forEachEngineWith(t *testing.T, opts func() envOptions, fn func(t *testing.T, e *env, clock *testClock)) {
	t.Helper()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			o := opts()
			if o.clock == nil {
				o.clock = newTestClock()
			}
			fn(t, newEnv(t, engine, o), o.clock)
		})
	}
}

func defaults() envOptions { return envOptions{} }

func refreshRequest(token string) request {
	return request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": token}}
}

// refreshAll presents one refresh token n times at once.
func refreshAll(t *testing.T, e *env, token string, n int) []response {
	t.Helper()
	out := make([]response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = e.do(t, refreshRequest(token))
		}()
	}
	wg.Wait()
	return out
}

// TestRefreshGrace: the same refresh token presented twice at once (a
// double click, a retried request) gets one new pair, the same for both,
// and the session lives on; presented again after the grace period, it
// revokes the session as before.
func TestRefreshGrace(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, clock *testClock) {
		e.register(t, "gina")
		_, r0 := e.login(t, "gina")

		results := refreshAll(t, e, r0, 8)
		first := results[0]
		for i, res := range results {
			if res.Status != http.StatusOK {
				t.Fatalf("concurrent refresh %d: %d %s", i, res.Status, res.Body)
			}
			if string(res.Body) != string(first.Body) {
				t.Fatalf("concurrent refreshes got different pairs:\n%s\n%s", first.Body, res.Body)
			}
		}
		pair := first.JSON(t)
		r1, a1 := pair["refresh_token"].(string), pair["access_token"].(string)
		if r1 == r0 {
			t.Fatal("the refresh token did not rotate")
		}
		e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: a1})

		// Later, but within the grace period: still that pair.
		clock.Advance(auth.DefaultPolicy().RefreshReuseGrace - time.Second)
		if again := e.expect(t, http.StatusOK, refreshRequest(r0)); string(again.Body) != string(first.Body) {
			t.Fatalf("retry within the grace period got another pair:\n%s\n%s", first.Body, again.Body)
		}
		// The session lives on: the new token rotates as usual.
		r2 := e.expect(t, http.StatusOK, refreshRequest(r1)).JSON(t)["refresh_token"].(string)

		// r1 was replaced; after the grace period presenting it (even
		// several times at once) is a reuse: every copy is refused and the
		// session is revoked.
		clock.Advance(auth.DefaultPolicy().RefreshReuseGrace + time.Second)
		for i, res := range refreshAll(t, e, r1, 4) {
			if res.Status != http.StatusUnauthorized {
				t.Fatalf("reuse %d after the grace period: %d %s", i, res.Status, res.Body)
			}
		}
		e.expect(t, http.StatusUnauthorized, refreshRequest(r2))

		// A token older than the last rotation is a reuse at once, even
		// within the grace period.
		_, s0 := e.login(t, "gina")
		s1 := e.expect(t, http.StatusOK, refreshRequest(s0)).JSON(t)["refresh_token"].(string)
		s2 := e.expect(t, http.StatusOK, refreshRequest(s1)).JSON(t)["refresh_token"].(string)
		e.expect(t, http.StatusUnauthorized, refreshRequest(s0))
		e.expect(t, http.StatusUnauthorized, refreshRequest(s2))
	})
}

// TestRefreshGraceOff: with REFRESH_REUSE_GRACE_SECONDS=0 a second refresh
// with one token revokes the session at once, concurrent or not.
func TestRefreshGraceOff(t *testing.T) {
	opts := func() envOptions {
		p := auth.DefaultPolicy()
		p.RefreshReuseGrace = 0
		return envOptions{policy: &p}
	}
	forEachEngineWith(t, opts, func(t *testing.T, e *env, _ *testClock) {
		e.register(t, "hank")
		_, r0 := e.login(t, "hank")
		ok := 0
		var r1 string
		for _, res := range refreshAll(t, e, r0, 4) {
			if res.Status == http.StatusOK {
				ok++
				r1 = res.JSON(t)["refresh_token"].(string)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent refreshes succeeded, want 1", ok)
		}
		e.expect(t, http.StatusUnauthorized, refreshRequest(r1))
	})
}

// TestSessionMaxLifetime: refreshing renews a session only up to
// SESSION_MAX_DAYS after its password login; then the user logs in again.
func TestSessionMaxLifetime(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, clock *testClock) {
		e.register(t, "ivan")
		start := clock.Now()
		_, refresh := e.login(t, "ivan")
		end := start.Add(auth.DefaultPolicy().SessionMax)
		// Refreshed every 20 hours (the refresh token lives 24): the
		// session is kept alive, but never past its end.
		for clock.Now().Add(20 * time.Hour).Before(end) {
			clock.Advance(20 * time.Hour)
			pair := e.expect(t, http.StatusOK, refreshRequest(refresh)).JSON(t)
			refresh = pair["refresh_token"].(string)
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: pair["access_token"].(string)})
			for _, tok := range []string{refresh, pair["access_token"].(string)} {
				exp := claims(t, tok).ExpiresAt.Time
				if exp.After(end) {
					t.Fatalf("a token of the session expires at %v, after the session's end %v", exp, end)
				}
			}
		}
		clock.Advance(end.Sub(clock.Now()))
		if d := e.expect(t, http.StatusUnauthorized, refreshRequest(refresh)).Detail(t); d != "Invalid refresh token" {
			t.Errorf("refresh at the session's end: detail %q", d)
		}
		e.expect(t, http.StatusOK, loginRequest("ivan", "password123"))
	})
}

// claims decodes a token of the test server (its signature is not the
// point here).
func claims(t *testing.T, token string) *auth.Claims {
	t.Helper()
	var c auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

// TestNoStore: every response carrying a token or a user's data says
// Cache-Control: no-store (token responses also Pragma: no-cache, RFC 6749
// §5.1); public item pages do not.
func TestNoStore(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, _ *testClock) {
		admin, adminID := e.superuser(t, "root")
		reg := e.do(t, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
			"email": "joan@example.com", "username": "joan", "password": "password123",
		}})
		login := e.do(t, loginRequest("joan", "password123"))
		pair := login.JSON(t)
		cases := []struct {
			name    string
			res     response
			noStore bool
			pragma  bool
		}{
			{"register", reg, true, false},
			{"login", login, true, true},
			{"refresh", e.do(t, refreshRequest(pair["refresh_token"].(string))), true, true},
			{"GET /users/me", e.do(t, request{Method: "GET", Path: "/users/me", Token: pair["access_token"].(string)}), true, false},
			{"PUT /users/me", e.do(t, request{Method: "PUT", Path: "/users/me", Token: pair["access_token"].(string), JSON: map[string]any{"username": "joanna"}}), true, false},
			{"GET /users", e.do(t, request{Method: "GET", Path: "/users", Token: admin}), true, false},
			{"GET /users/{id}", e.do(t, request{Method: "GET", Path: "/users/" + itoa(adminID), Token: admin}), true, false},
			{"PATCH /users/{id}", e.do(t, request{Method: "PATCH", Path: "/users/" + itoa(adminID), Token: admin, JSON: map[string]any{"username": "root2"}}), true, false},
			{"GET /items", e.do(t, request{Method: "GET", Path: "/items"}), false, false},
		}
		for _, c := range cases {
			if c.res.Status >= 300 {
				t.Fatalf("%s: %d %s", c.name, c.res.Status, c.res.Body)
			}
			if got := c.res.Header.Get("Cache-Control") == "no-store"; got != c.noStore {
				t.Errorf("%s: Cache-Control %q", c.name, c.res.Header.Get("Cache-Control"))
			}
			if got := c.res.Header.Get("Pragma") == "no-cache"; got != c.pragma {
				t.Errorf("%s: Pragma %q", c.name, c.res.Header.Get("Pragma"))
			}
		}
	})
}

// TestCORSWithoutCredentials: bearer tokens, no cookies, so a browser is
// never told to send credentials cross-origin; the origin is still allowed.
func TestCORSWithoutCredentials(t *testing.T) {
	forEachEngineWith(t, defaults, func(t *testing.T, e *env, _ *testClock) {
		for _, req := range []request{
			{Method: "OPTIONS", Path: "/users/me", Header: map[string]string{
				"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization",
			}},
			{Method: "GET", Path: "/items", Header: map[string]string{"Origin": "http://localhost:3000"}},
		} {
			res := e.do(t, req)
			if res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q", req.Method, req.Path, res.Header.Get("Access-Control-Allow-Origin"))
			}
			if v, ok := res.Header["Access-Control-Allow-Credentials"]; ok {
				t.Errorf("%s %s: Access-Control-Allow-Credentials %q, want none", req.Method, req.Path, v)
			}
		}
	})
}
