package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myapi/internal/auth"
	"myapi/internal/testdb"
)

func TestRegister(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.register(t, "alice")
		cases := []struct {
			name   string
			body   any
			status int
			detail string
		}{
			{"duplicate email", map[string]any{"email": "alice@example.com", "username": "other", "password": "password123"}, 400, "Email already registered"},
			{"duplicate email, other case", map[string]any{"email": "ALICE@EXAMPLE.COM", "username": "other", "password": "password123"}, 400, "Email already registered"},
			{"duplicate username", map[string]any{"email": "x@example.com", "username": "alice", "password": "password123"}, 400, "Username already taken"},
			{"duplicate username, other case", map[string]any{"email": "x@example.com", "username": "Alice", "password": "password123"}, 400, "Username already taken"},
			{"short username", map[string]any{"email": "x@example.com", "username": "ab", "password": "password123"}, 422, "body.username"},
			{"long username", map[string]any{"email": "x@example.com", "username": strings.Repeat("u", 51), "password": "password123"}, 422, "body.username"},
			{"short password", map[string]any{"email": "x@example.com", "username": "xavier", "password": "short"}, 422, "body.password"},
			{"long password", map[string]any{"email": "x@example.com", "username": "xavier", "password": strings.Repeat("p", 101)}, 422, "body.password"},
			{"bad email", map[string]any{"email": "not-an-email", "username": "xavier", "password": "password123"}, 422, "body.email"},
			{"missing field", map[string]any{"email": "x@example.com", "password": "password123"}, 422, "username"},
			{"wrong type", map[string]any{"email": "x@example.com", "username": 42, "password": "password123"}, 422, "body.username"},
			{"NUL in username", map[string]any{"email": "x@example.com", "username": "nul\u0000user", "password": "password123"}, 422, "body.username"},
			{"NUL in password", map[string]any{"email": "x@example.com", "username": "xavier", "password": "pass\u0000word1"}, 422, "body.password"},
			{"array body", []any{1, 2}, 422, "expected object"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := e.expect(t, tc.status, request{Method: "POST", Path: "/auth/register", JSON: tc.body})
				if d := res.Detail(t); !strings.Contains(d, tc.detail) {
					t.Errorf("detail %q does not mention %q", d, tc.detail)
				}
				if strings.Contains(string(res.Body), "password123") || strings.Contains(string(res.Body), "short") && tc.name == "short password" {
					t.Errorf("response echoes the password: %s", res.Body)
				}
			})
		}
		// Malformed JSON and a body of another content type: 4xx, nothing stored.
		e.expect(t, http.StatusBadRequest, request{Method: "POST", Path: "/auth/register", Body: `{"email": "y@example.com",`, ContentType: "application/json"})
		e.expect(t, http.StatusUnsupportedMediaType, request{Method: "POST", Path: "/auth/register", Body: `email=y@example.com`, ContentType: "text/plain"})
		e.expect(t, http.StatusBadRequest, request{Method: "POST", Path: "/auth/register", ContentType: "application/json"})
	})
}

func TestRegisterIgnoresPrivilegeFields(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		u := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
			"email": "mallory@example.com", "username": "mallory", "password": "password123",
			"is_superuser": true, "is_active": false, "id": 999,
		}}).JSON(t)
		if u["is_superuser"] != false || u["is_active"] != true || u["id"] == float64(999) {
			t.Errorf("privilege fields were honoured: %v", u)
		}
		if _, ok := u["hashed_password"]; ok {
			t.Errorf("password hash in response: %v", u)
		}
	})
}

func TestConcurrentRegistrationsOfOneName(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		const n = 20
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := e.do(t, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
					"email": "same" + strings.Repeat("x", i) + "@example.com", "username": "samename", "password": "password123",
				}})
				statuses <- res.Status
			}()
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[201] != 1 || count[400] != n-1 {
			t.Errorf("statuses %v, want one 201 and %d 400", count, n-1)
		}
	})
}

func TestLogin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.register(t, "bob")
		t.Run("case-insensitive username", func(t *testing.T) {
			e.expect(t, http.StatusOK, loginRequest("BOB", "password123"))
		})
		for _, tc := range []struct{ name, user, pass string }{
			{"wrong password", "bob", "wrong-password"},
			{"unknown user", "nobody", "password123"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.expect(t, http.StatusUnauthorized, loginRequest(tc.user, tc.pass))
				if d := res.Detail(t); d != "Incorrect username or password" {
					t.Errorf("detail %q", d)
				}
				if res.Header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
				}
			})
		}
		t.Run("JSON instead of form", func(t *testing.T) {
			e.expect(t, http.StatusUnsupportedMediaType, request{Method: "POST", Path: "/auth/login", JSON: map[string]string{"username": "bob", "password": "password123"}})
		})
		t.Run("missing password", func(t *testing.T) {
			res := e.expect(t, http.StatusUnprocessableEntity, request{Method: "POST", Path: "/auth/login", Body: "username=bob", ContentType: "application/x-www-form-urlencoded"})
			if !strings.Contains(res.Detail(t), "password") {
				t.Errorf("detail does not name the field: %s", res.Body)
			}
		})
		t.Run("wrong grant_type", func(t *testing.T) {
			e.expect(t, http.StatusUnprocessableEntity, request{Method: "POST", Path: "/auth/login", Body: "username=bob&password=password123&grant_type=client_credentials", ContentType: "application/x-www-form-urlencoded"})
		})
		t.Run("password longer than 72 bytes is not truncated", func(t *testing.T) {
			long := strings.Repeat("x", 72)
			e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
				"email": "long@example.com", "username": "longpass", "password": long + "AAAAAAAA",
			}})
			e.expect(t, http.StatusOK, loginRequest("longpass", long+"AAAAAAAA"))
			e.expect(t, http.StatusUnauthorized, loginRequest("longpass", long+"ZZZZ"))
		})
		if strings.Contains(e.Logs.String(), "password123") {
			t.Error("a password appears in the logs")
		}
	})
}

func TestInactiveUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin, _ := e.superuser(t, "admin")
		token, id := e.user(t, "carol")
		_, refresh := e.login(t, "carol")
		e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(id), Token: admin, JSON: map[string]any{"is_active": false}})
		// The very next request, login and refresh are all refused.
		if d := e.expect(t, http.StatusForbidden, request{Method: "GET", Path: "/users/me", Token: token}).Detail(t); d != "Inactive user" {
			t.Errorf("detail %q", d)
		}
		e.expect(t, http.StatusForbidden, loginRequest("carol", "password123"))
		e.expect(t, http.StatusForbidden, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": refresh}})
		e.expect(t, http.StatusForbidden, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": "x", "price": 1}})
		// Reactivated: can log in again, but the sessions of before the
		// deactivation stay revoked.
		e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(id), Token: admin, JSON: map[string]any{"is_active": true}})
		e.expect(t, http.StatusOK, loginRequest("carol", "password123"))
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": refresh}})
	})
}

func TestRefreshAndLogout(t *testing.T) {
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			clock := newTestClock()
			testRefreshAndLogout(t, newEnv(t, engine, envOptions{clock: clock}), clock)
		})
	}
}

func testRefreshAndLogout(t *testing.T, e *env, clock *testClock) {
	e.register(t, "dave")
	access, refresh := e.login(t, "dave")

	t.Run("JSON body rotates the token", func(t *testing.T) {
		pair := e.expect(t, http.StatusOK, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": refresh}}).JSON(t)
		newRefresh := pair["refresh_token"].(string)
		if newRefresh == refresh || pair["token_type"] != "bearer" {
			t.Fatalf("no new pair: %v", pair)
		}
		e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: pair["access_token"].(string)})
		// Reusing the rotated token once the grace period is over
		// fails, and revokes the session: the newest token stops
		// working too.
		clock.Advance(auth.DefaultPolicy().RefreshReuseGrace + time.Second)
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": refresh}})
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": newRefresh}})
	})
	t.Run("seed's query parameter", func(t *testing.T) {
		_, r := e.login(t, "dave")
		e.expect(t, http.StatusOK, request{Method: "POST", Path: "/auth/refresh?refresh_token=" + r})
	})
	t.Run("missing token", func(t *testing.T) {
		e.expect(t, http.StatusUnprocessableEntity, request{Method: "POST", Path: "/auth/refresh"})
	})
	t.Run("access token is not a refresh token", func(t *testing.T) {
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": access}})
	})
	t.Run("refresh token is not an access token", func(t *testing.T) {
		_, r := e.login(t, "dave")
		e.expect(t, http.StatusUnauthorized, request{Method: "GET", Path: "/users/me", Token: r})
	})
	t.Run("logout revokes the session", func(t *testing.T) {
		_, r := e.login(t, "dave")
		e.expect(t, http.StatusNoContent, request{Method: "POST", Path: "/auth/logout", JSON: map[string]string{"refresh_token": r}})
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": r}})
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/logout", JSON: map[string]string{"refresh_token": "garbage"}})
	})
	t.Run("sessions are independent", func(t *testing.T) {
		_, r1 := e.login(t, "dave")
		_, r2 := e.login(t, "dave")
		e.expect(t, http.StatusNoContent, request{Method: "POST", Path: "/auth/logout", JSON: map[string]string{"refresh_token": r1}})
		e.expect(t, http.StatusOK, request{Method: "POST", Path: "/auth/refresh", JSON: map[string]string{"refresh_token": r2}})
	})
}

func TestBadTokens(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		good, id := e.user(t, "erin")
		expired := signedToken(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": itoa(id), "type": "access", "exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()})
		noExp := signedToken(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": itoa(id), "type": "access"})
		otherKey := signedToken(t, jwt.SigningMethodHS256, "another-secret-another-secret-another", jwt.MapClaims{"sub": itoa(id), "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		hs512 := signedToken(t, jwt.SigningMethodHS512, testSecret, jwt.MapClaims{"sub": itoa(id), "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		usernameSub := signedToken(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": "erin", "type": "access", "exp": time.Now().Add(time.Hour).Unix()})
		noType := signedToken(t, jwt.SigningMethodHS256, testSecret, jwt.MapClaims{"sub": itoa(id), "exp": time.Now().Add(time.Hour).Unix()})
		parts := strings.Split(good, ".")
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1","type":"access","exp":9999999999}`)) + "." + parts[2]
		algNone := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."

		for _, tc := range []struct {
			name, header, detail string
		}{
			{"no header", "", "Not authenticated"},
			{"not bearer", "Basic " + good, "Not authenticated"},
			{"empty bearer", "Bearer ", "Not authenticated"},
			{"garbage", "Bearer not.a.token", "Could not validate credentials"},
			{"expired", "Bearer " + expired, "Could not validate credentials"},
			{"no exp", "Bearer " + noExp, "Could not validate credentials"},
			{"other key", "Bearer " + otherKey, "Could not validate credentials"},
			{"HS512", "Bearer " + hs512, "Could not validate credentials"},
			{"alg none", "Bearer " + algNone, "Could not validate credentials"},
			{"tampered payload", "Bearer " + tampered, "Could not validate credentials"},
			{"username as subject", "Bearer " + usernameSub, "Could not validate credentials"},
			{"no type", "Bearer " + noType, "Could not validate credentials"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req := request{Method: "GET", Path: "/users/me"}
				if tc.header != "" {
					req.Header = map[string]string{"Authorization": tc.header}
				}
				res := e.expect(t, http.StatusUnauthorized, req)
				if d := res.Detail(t); d != tc.detail {
					t.Errorf("detail %q, want %q", d, tc.detail)
				}
				if res.Header.Get("WWW-Authenticate") != "Bearer" {
					t.Errorf("WWW-Authenticate = %q", res.Header.Get("WWW-Authenticate"))
				}
			})
		}
		t.Run("deleted user", func(t *testing.T) {
			admin, _ := e.superuser(t, "root")
			token, uid := e.user(t, "gone")
			e.expect(t, http.StatusNoContent, request{Method: "DELETE", Path: "/users/" + itoa(uid), Token: admin})
			e.expect(t, http.StatusUnauthorized, request{Method: "GET", Path: "/users/me", Token: token})
		})
		t.Run("expiring access token from the service", func(t *testing.T) {
			short := auth.NewTokens([]byte(testSecret), -time.Minute, time.Hour)
			tok, _, err := short.Issue(auth.TypeAccess, id, "", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			e.expect(t, http.StatusUnauthorized, request{Method: "GET", Path: "/users/me", Token: tok})
		})
	})
}

func signedToken(t *testing.T, method jwt.SigningMethod, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
