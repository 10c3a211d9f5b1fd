package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/testdb"
)

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signedIn returns a console over a fresh store, with root signed in,
// and root's session cookie.
func signedIn(t *testing.T, clk *clock) (*Console, *http.Cookie) {
	t.Helper()
	store := testdb.Engines(t)[0].Open(t)
	hasher, err := auth.NewHasher(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(store, store, hasher, auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute, time.Hour))
	if _, err := svc.CreateSuperuser(context.Background(), "root@example.com", "root", "root-password"); err != nil {
		t.Fatal(err)
	}
	c, err := New(Config{IdleTimeout: 30 * time.Minute, Lifetime: 2 * time.Hour},
		Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: svc, Store: store, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	get := httptest.NewRecorder()
	c.ServeHTTP(get, httptest.NewRequest(http.MethodGet, "/admin/login", nil))
	token := csrfField.FindStringSubmatch(get.Body.String())[1]
	form := url.Values{"csrf": {token}, "username": {"root"}, "password": {"root-password"}}
	req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range get.Result().Cookies() {
		req.AddCookie(ck)
	}
	post := httptest.NewRecorder()
	c.ServeHTTP(post, req)
	for _, ck := range post.Result().Cookies() {
		if ck.Name == sessionCookie && ck.Value != "" {
			return c, ck
		}
	}
	t.Fatalf("sign-in: %d, no session cookie", post.Code)
	return nil, nil
}

// TestSessionTimeouts: a session ends after ADMIN_SESSION_IDLE without a
// request, and after ADMIN_SESSION_LIFETIME however busy it is.
func TestSessionTimeouts(t *testing.T) {
	tests := []struct {
		name  string
		steps []time.Duration // a request after each pause
		open  bool            // the session still opens the users page after the last one
	}{
		{"busy within the idle timeout", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"busy past the lifetime", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			c, ck := signedIn(t, clk)
			var code int
			for _, pause := range tc.steps {
				clk.advance(pause)
				req := httptest.NewRequest(http.MethodGet, "/admin/users", nil)
				req.AddCookie(ck)
				rec := httptest.NewRecorder()
				c.ServeHTTP(rec, req)
				code = rec.Code
			}
			if open := code == http.StatusOK; open != tc.open {
				t.Errorf("last request: %d, session open = %v, want %v", code, open, tc.open)
			}
		})
	}
}
