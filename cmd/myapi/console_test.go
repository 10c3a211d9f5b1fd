package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// consoleSettings is an instance with a first superuser, root.
func consoleSettings(dbURL string) settings {
	return baseSettings(dbURL).with(
		"FIRST_SUPERUSER_EMAIL", "root@example.com", "FIRST_SUPERUSER_USERNAME", "root",
		"FIRST_SUPERUSER_PASSWORD", "root-password", "RATE_LIMIT_PER_MINUTE", "0", "LOGIN_RATE_LIMIT_PER_MINUTE", "0",
	)
}

// browserish is a client with its own cookies that does not follow
// redirects, so tests see the console's answers as they are.
type browserish struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowserish(t *testing.T, base string) *browserish {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browserish{t: t, base: base, c: &http.Client{
		Jar: jar, Timeout: waitLimit,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// answer is what a test reads of a response, its body already read and
// closed.
type answer struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

func (a *answer) Cookies() []*http.Cookie { return a.cookies }

func (b *browserish) do(method, path string, form url.Values, header ...string) (*answer, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &answer{StatusCode: resp.StatusCode, Header: resp.Header, cookies: resp.Cookies()}, string(out)
}

// findUser is the user called name, as root sees it through the API.
func findUser(t *testing.T, base, token, name string) user {
	t.Helper()
	for _, u := range listUsers(t, base, token) {
		if u.Username == name {
			return u
		}
	}
	t.Fatalf("no user %q", name)
	return user{}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token in a page's first form.
func csrf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

// signIn signs in through the form and returns the response to the POST.
func (b *browserish) signIn(username, password string, header ...string) (*answer, string) {
	b.t.Helper()
	_, page := b.do(http.MethodGet, "/admin/login", nil, header...)
	return b.do(http.MethodPost, "/admin/login", url.Values{"csrf": {csrf(b.t, page)}, "username": {username}, "password": {password}}, header...)
}

func TestConsoleSignIn(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		in := start(t, consoleSettings(engine.URL(t)))
		rootToken := login(t, in.URL, "root", "root-password")
		register(t, in.URL, "plain@example.com", "plain", "plain-password")

		anon := newBrowserish(t, in.URL)
		if resp, _ := anon.do(http.MethodGet, "/admin", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/login" {
			t.Errorf("GET /admin signed out: %d to %q, want 303 to the sign-in form", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, page := anon.do(http.MethodGet, "/admin/login", nil)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != http.StatusOK || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "default-src 'none'") || strings.Contains(page, "<script") {
			t.Errorf("sign-in page: %d, CSP %q, scripts: %v", resp.StatusCode, csp, strings.Contains(page, "<script"))
		}

		tests := []struct {
			name, user, password string
			status               int
			says                 string
		}{
			{"wrong password", "root", "nope-nope-nope", http.StatusUnauthorized, "Incorrect username or password."},
			{"unknown user", "nobody", "nope-nope-nope", http.StatusUnauthorized, "Incorrect username or password."},
			{"not a superuser", "plain", "plain-password", http.StatusForbidden, "Not allowed: the console is for superusers only."},
		}
		for _, tc := range tests {
			b := newBrowserish(t, in.URL)
			resp, page := b.signIn(tc.user, tc.password)
			if resp.StatusCode != tc.status || !strings.Contains(page, tc.says) || len(resp.Cookies()) != 1 {
				t.Errorf("%s: %d, cookies %v, want %d saying %q", tc.name, resp.StatusCode, resp.Cookies(), tc.status, tc.says)
			}
			if strings.Contains(page, "plain@example.com") || strings.Contains(page, "Dashboard") {
				t.Errorf("%s: the refusal reveals more than a refusal", tc.name)
			}
		}

		// A sign-in POST without the form's token is refused.
		resp, _ = newBrowserish(t, in.URL).do(http.MethodPost, "/admin/login", url.Values{"username": {"root"}, "password": {"root-password"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in without a CSRF token: %d, want 403", resp.StatusCode)
		}

		root := newBrowserish(t, in.URL)
		resp, _ = root.signIn("root", "root-password")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
			t.Fatalf("root sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "myapi_console" {
				session = c
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/admin" || session.Secure {
			t.Fatalf("session cookie over plain HTTP = %+v; want HttpOnly, SameSite=Strict, Path=/admin, not Secure", session)
		}
		resp, page = root.do(http.MethodGet, "/admin", nil)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Dashboard") {
			t.Fatalf("dashboard: %d\n%s", resp.StatusCode, page)
		}
		token := csrf(t, page)

		// A state-changing POST needs the session's CSRF token.
		plain := findUser(t, in.URL, rootToken, "plain")
		path := "/admin/users/" + itoa(plain.ID) + "/promote"
		for _, form := range []url.Values{{}, {"csrf": {"forged"}}} {
			if resp, _ := root.do(http.MethodPost, path, form); resp.StatusCode != http.StatusForbidden {
				t.Errorf("promote with csrf %q: %d, want 403", form.Get("csrf"), resp.StatusCode)
			}
		}
		if findUser(t, in.URL, rootToken, "plain").IsSuperuser {
			t.Fatal("a POST without the CSRF token promoted the user")
		}
		if resp, _ := root.do(http.MethodPost, path, url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("promote with the token: %d", resp.StatusCode)
		}
		if !findUser(t, in.URL, rootToken, "plain").IsSuperuser {
			t.Fatal("promote did not promote")
		}

		// The new superuser signs in; demoted by root, they lose access
		// at their next request.
		other := newBrowserish(t, in.URL)
		if resp, _ := other.signIn("plain", "plain-password"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("promoted user's sign-in: %d", resp.StatusCode)
		}
		if resp, _ := other.do(http.MethodGet, "/admin/users", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("promoted user's users page: %d", resp.StatusCode)
		}
		if resp, _ := root.do(http.MethodPost, "/admin/users/"+itoa(plain.ID)+"/demote", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("demote: %d", resp.StatusCode)
		}
		if resp, _ := other.do(http.MethodGet, "/admin/users", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("demoted user's next request: %d, want 303 to the sign-in form", resp.StatusCode)
		}

		// Root cannot demote or deactivate itself.
		rootID := findUser(t, in.URL, rootToken, "root").ID
		for _, op := range []string{"demote", "deactivate", "delete"} {
			if resp, _ := root.do(http.MethodPost, "/admin/users/"+itoa(rootID)+"/"+op, url.Values{"csrf": {token}, "confirm": {"root"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("root %s itself: %d, want 403", op, resp.StatusCode)
			}
		}

		// Logout ends the session: a copy of the cookie taken before is
		// worth nothing after.
		stolen := newBrowserish(t, in.URL)
		u, _ := url.Parse(in.URL + "/admin")
		stolen.c.Jar.SetCookies(u, []*http.Cookie{{Name: "myapi_console", Value: session.Value, Path: "/admin"}})
		if resp, _ := stolen.do(http.MethodGet, "/admin", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("copied cookie before logout: %d, want 200", resp.StatusCode)
		}
		if resp, _ := root.do(http.MethodPost, "/admin/logout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		if resp, _ := stolen.do(http.MethodGet, "/admin", nil); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("copied cookie after logout: %d, want 303 to the sign-in form", resp.StatusCode)
		}
	})
}

func TestConsoleCookieSecureBehindProxy(t *testing.T) {
	tests := []struct {
		name    string
		proxies string
		proto   string
		secure  bool
	}{
		{"trusted proxy says https", "127.0.0.1/32", "https", true},
		{"trusted proxy says http", "127.0.0.1/32", "http", false},
		{"untrusted peer says https", "", "https", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := consoleSettings(testdb.Engines(t)[0].URL(t))
			if tc.proxies != "" {
				env = env.with("TRUSTED_PROXIES", tc.proxies)
			}
			in := start(t, env)
			resp, _ := newBrowserish(t, in.URL).signIn("root", "root-password", "X-Forwarded-Proto", tc.proto)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", resp.StatusCode)
			}
			for _, c := range resp.Cookies() {
				if c.Name == "myapi_console" && c.Secure != tc.secure {
					t.Errorf("Secure = %v, want %v", c.Secure, tc.secure)
				}
			}
			if got := resp.Header.Get("Strict-Transport-Security") != ""; got != tc.secure {
				t.Errorf("HSTS sent = %v, want %v", got, tc.secure)
			}
		})
	}
}

func TestConsoleDisabledAndRoutes(t *testing.T) {
	url := testdb.Engines(t)[0].URL(t)
	off := start(t, consoleSettings(url).with("ADMIN_ENABLED", "false"))
	for _, p := range []string{"/admin", "/admin/login", "/admin/users", "/admin/static/console.css"} {
		if status, _ := call(t, http.MethodGet, off.URL+p, "", "", nil); status != http.StatusNotFound {
			t.Errorf("ADMIN_ENABLED=false: GET %s = %d, want 404", p, status)
		}
	}
	_ = off.stop(t)
	on := start(t, consoleSettings(url))
	for _, srv := range []*instance{on} {
		// The API's own /admin/jobs answers as before, console on.
		if status, body := call(t, http.MethodGet, srv.URL+"/admin/jobs", "", "", nil); status != http.StatusUnauthorized || !strings.Contains(string(body), "Not authenticated") {
			t.Errorf("GET /admin/jobs without a token: %d %s", status, body)
		}
		if status, _ := call(t, http.MethodPost, srv.URL+"/admin/jobs", "", "", nil); status != http.StatusMethodNotAllowed {
			t.Errorf("POST /admin/jobs: %d, want 405", status)
		}
		tok := login(t, srv.URL, "root", "root-password")
		if status, body := call(t, http.MethodGet, srv.URL+"/admin/jobs", "", tok, nil); status != http.StatusOK || !strings.Contains(string(body), `"counts"`) {
			t.Errorf("GET /admin/jobs as root: %d %s", status, body)
		}
	}
}

func TestConsoleLoginRateLimit(t *testing.T) {
	in := start(t, consoleSettings(testdb.Engines(t)[0].URL(t)).with("LOGIN_RATE_LIMIT_PER_MINUTE", "2"))
	b := newBrowserish(t, in.URL)
	var last int
	for range 3 {
		resp, _ := b.signIn("root", "wrong-password")
		last = resp.StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("third sign-in in a minute with LOGIN_RATE_LIMIT_PER_MINUTE=2: %d, want 429", last)
	}
}
