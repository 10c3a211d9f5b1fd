package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"myapi/internal/clientip"
)

// fakeClock is a settable clock; it starts 10 s into a minute.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 10, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testUserKey stands in for the server's JWT check: "Bearer valid-<id>" is
// user <id>, anything else is anonymous.
func testUserKey(r *http.Request) string {
	if id, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer valid-"); ok {
		return "user:" + id
	}
	return ""
}

func resolver(t *testing.T) *clientip.Resolver {
	t.Helper()
	p, err := clientip.ParsePrefixes([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	return clientip.New(p, clientip.XForwardedFor)
}

// echo answers 200 with the body it received.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	_, _ = w.Write(b)
})

// req describes one request of a scenario.
type req struct {
	remote string // socket peer, "ip" or "ip:port"
	xff    string
	token  string // "valid-7" = user 7
	form   string // login form username (POST /auth/login)
	json   string // register JSON username (POST /auth/register)
	want   int
}

func (q req) build() *http.Request {
	var r *http.Request
	switch {
	case q.form != "":
		r = httptest.NewRequest("POST", "/auth/login", strings.NewReader("grant_type=password&username="+urlEscape(q.form)+"&password=secret123"))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case q.json != "":
		b, _ := json.Marshal(map[string]string{"email": "a@example.com", "username": q.json, "password": "secret123"})
		r = httptest.NewRequest("POST", "/auth/register", strings.NewReader(string(b)))
		r.Header.Set("Content-Type", "application/json")
	default:
		r = httptest.NewRequest("GET", "/items", nil)
	}
	r.RemoteAddr = q.remote
	if !strings.Contains(q.remote, "]:") && strings.Count(q.remote, ":") != 1 {
		r.RemoteAddr = addPort(q.remote)
	}
	if q.xff != "" {
		r.Header.Set("X-Forwarded-For", q.xff)
	}
	if q.token != "" {
		r.Header.Set("Authorization", "Bearer "+q.token)
	}
	return r
}

func addPort(ip string) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:40000"
	}
	return ip + ":40000"
}

func urlEscape(s string) string { return strings.ReplaceAll(s, " ", "+") }

// newCounter makes the Counter for one Limiter of a test; nil means the
// in-process default. The Redis tests run the same scenarios on Redis.
type newCounter func(t *testing.T) Counter

func inProcess(*testing.T) Counter { return nil }

func TestScenarios(t *testing.T) { testScenarios(t, inProcess) }

func testScenarios(t *testing.T, counter newCounter) {
	tests := []struct {
		name  string
		cfg   Config
		login bool // mount Login instead of General
		steps []req
	}{
		{name: "N+1-th request in a minute is 429", cfg: Config{PerMinute: 3}, steps: []req{
			{remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 200},
			{remote: "203.0.113.1", want: 429}, {remote: "203.0.113.1", want: 429},
		}},
		{name: "different IPs are counted separately", cfg: Config{PerMinute: 2}, steps: []req{
			{remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 429},
			{remote: "203.0.113.2", want: 200}, {remote: "203.0.113.2", want: 200}, {remote: "203.0.113.2", want: 429},
			{remote: "2001:db8::1", want: 200},
		}},
		{name: "an IPv6 client is bucketed by its /64", cfg: Config{PerMinute: 2}, steps: []req{
			{remote: "2001:db8::1", want: 200}, {remote: "2001:db8::ffff", want: 200}, {remote: "2001:db8::1:2", want: 429},
			{remote: "2001:db8:0:1::1", want: 200},
		}},
		{name: "an authenticated user is counted per user across IPs", cfg: Config{PerMinute: 2}, steps: []req{
			{remote: "203.0.113.1", token: "valid-7", want: 200},
			{remote: "203.0.113.2", token: "valid-7", want: 200},
			{remote: "2001:db8::9", token: "valid-7", want: 429},
			{remote: "203.0.113.2", token: "valid-8", want: 200}, // another user from the same IP
			{remote: "203.0.113.2", want: 200},                   // anonymous: that IP's own bucket
			{remote: "203.0.113.2", want: 200},
			{remote: "203.0.113.2", want: 429},
		}},
		{name: "an invalid token counts per IP", cfg: Config{PerMinute: 1}, steps: []req{
			{remote: "203.0.113.1", token: "forged", want: 200},
			{remote: "203.0.113.1", token: "forged-2", want: 429},
		}},
		{name: "a spoofed X-Forwarded-For from an untrusted peer does not change the key", cfg: Config{PerMinute: 2}, steps: []req{
			{remote: "203.0.113.1", xff: "198.51.100.1", want: 200},
			{remote: "203.0.113.1", xff: "198.51.100.2", want: 200},
			{remote: "203.0.113.1", xff: "198.51.100.3, 10.0.0.1", want: 429},
			{remote: "203.0.113.1", want: 429},
		}},
		{name: "behind a trusted proxy each forwarded client has its own bucket", cfg: Config{PerMinute: 1}, steps: []req{
			{remote: "10.0.0.1", xff: "198.51.100.1", want: 200},
			{remote: "10.0.0.1", xff: "198.51.100.2", want: 200},
			{remote: "10.0.0.2", xff: "6.6.6.6, 198.51.100.1", want: 429}, // client-written entry on the left is ignored
		}},
		{name: "PerMinute 0 disables the general limit", cfg: Config{PerMinute: 0, LoginPerMinute: 1}, steps: []req{
			{remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 200}, {remote: "203.0.113.1", want: 200},
		}},

		// One account's attempts from many addresses are not limited here:
		// only failed passwords count against an account (PasswordAttempt).
		{name: "login is not limited per username", cfg: Config{LoginPerMinute: 2}, login: true, steps: []req{
			{remote: "203.0.113.1", form: "alice", want: 200},
			{remote: "203.0.113.2", form: "alice", want: 200},
			{remote: "2001:db8::5", form: "ALICE", want: 200},
		}},
		{name: "login is limited per IP across usernames", cfg: Config{LoginPerMinute: 2}, login: true, steps: []req{
			{remote: "203.0.113.1", form: "u1", want: 200},
			{remote: "203.0.113.1", form: "u2", want: 200},
			{remote: "203.0.113.1", form: "u3", want: 429},
			{remote: "203.0.113.2", form: "u3", want: 200},
		}},
		{name: "registration counts per IP, never per username", cfg: Config{LoginPerMinute: 2}, login: true, steps: []req{
			{remote: "203.0.113.1", json: "Carol", want: 200},
			{remote: "203.0.113.2", json: "carol", want: 200},
			{remote: "203.0.113.3", json: "CAROL", want: 200},
			{remote: "203.0.113.4", form: "carol", want: 200},
		}},
		{name: "a spoofed X-Forwarded-For does not escape the login IP limit", cfg: Config{LoginPerMinute: 2}, login: true, steps: []req{
			{remote: "203.0.113.1", xff: "1.1.1.1", form: "a1", want: 200},
			{remote: "203.0.113.1", xff: "2.2.2.2", form: "a2", want: 200},
			{remote: "203.0.113.1", xff: "3.3.3.3", form: "a3", want: 429},
		}},
		{name: "LoginPerMinute 0 disables the login limit", cfg: Config{PerMinute: 1, LoginPerMinute: 0}, login: true, steps: []req{
			{remote: "203.0.113.1", form: "alice", want: 200}, {remote: "203.0.113.1", form: "alice", want: 200},
			{remote: "203.0.113.1", form: "alice", want: 200},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			tc.cfg.Now = clk.Now
			l := New(tc.cfg, resolver(t), testUserKey, counter(t))
			h := l.General(echo)
			if tc.login {
				h = l.Login(echo)
			}
			for i, step := range tc.steps {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, step.build())
				if rec.Code != step.want {
					t.Fatalf("step %d (%+v): status %d, want %d; body %s", i+1, step, rec.Code, step.want, rec.Body)
				}
				clk.Advance(100 * time.Millisecond)
			}
		})
	}
}

func TestRejectionResponse(t *testing.T) { testRejectionResponse(t, inProcess) }

func testRejectionResponse(t *testing.T, counter newCounter) {
	tests := []struct {
		name      string
		cfg       Config
		login     bool
		first     req // sent limit times
		over      req
		wantLimit int
		wantKind  string
	}{
		{name: "general", cfg: Config{PerMinute: 3}, first: req{remote: "203.0.113.1"}, over: req{remote: "203.0.113.1"}, wantLimit: 3, wantKind: KindGeneral},
		{name: "login per IP", cfg: Config{LoginPerMinute: 2}, login: true,
			first: req{remote: "203.0.113.1", form: "x"}, over: req{remote: "203.0.113.1", form: "y"}, wantLimit: 2, wantKind: KindLoginIP},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock() // 10 s into the window
			var kinds []string
			tc.cfg.Now = clk.Now
			tc.cfg.OnReject = func(k string) { kinds = append(kinds, k) }
			l := New(tc.cfg, nil, testUserKey, counter(t))
			h := l.General(echo)
			if tc.login {
				h = l.Login(echo)
			}
			for i := range tc.wantLimit {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tc.first.build())
				if rec.Code != 200 {
					t.Fatalf("request %d: %d", i+1, rec.Code)
				}
				wantHeaders(t, rec, tc.wantLimit, tc.wantLimit-i-1, 50)
				if rec.Header().Get("Retry-After") != "" {
					t.Fatal("Retry-After on an allowed response")
				}
			}
			over := tc.over.build
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, over())
			if rec.Code != http.StatusTooManyRequests {
				t.Fatalf("status %d, want 429", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("Content-Type %q", ct)
			}
			wantHeaders(t, rec, tc.wantLimit, 0, 50)
			// All counted 10 s into the current window: the window resets in
			// 50 s, but the sliding estimate lets a request in only once the
			// previous window's share has decayed, so Retry-After >= 50.
			retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
			if err != nil || retry < 50 {
				t.Fatalf("Retry-After %q, want >= the window reset (50)", rec.Header().Get("Retry-After"))
			}
			var body struct {
				Title  string `json:"title"`
				Status int    `json:"status"`
				Detail string `json:"detail"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			wantDetail := fmt.Sprintf("Rate limit exceeded: %d requests per minute. Retry in %d seconds.", tc.wantLimit, retry)
			if body.Title != "Too Many Requests" || body.Status != 429 || body.Detail != wantDetail {
				t.Fatalf("body %+v, want detail %q", body, wantDetail)
			}
			if len(kinds) != 1 || kinds[0] != tc.wantKind {
				t.Fatalf("OnReject kinds %v, want [%s]", kinds, tc.wantKind)
			}

			// Retry-After is truthful: a second earlier is still refused,
			// at Retry-After the request passes.
			clk.Advance(time.Duration(retry-1) * time.Second)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, over())
			if rec.Code != 429 {
				t.Fatalf("one second before Retry-After: %d, want 429", rec.Code)
			}
			clk.Advance(time.Second)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, over())
			if rec.Code != 200 {
				t.Fatalf("at Retry-After: %d, want 200", rec.Code)
			}
		})
	}
}

func wantHeaders(t *testing.T, rec *httptest.ResponseRecorder, limit, remaining, reset int) {
	t.Helper()
	h := rec.Header()
	got := [3]string{h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset")}
	want := [3]string{strconv.Itoa(limit), strconv.Itoa(remaining), strconv.Itoa(reset)}
	if got != want {
		t.Fatalf("RateLimit-Limit/-Remaining/-Reset = %v, want %v", got, want)
	}
}

func TestDisabledLimitsAddNoHeaders(t *testing.T) {
	l := New(Config{}, nil, nil, nil)
	for _, h := range []http.Handler{l.General(echo), l.Login(echo), (*Limiter)(nil).General(echo), (*Limiter)(nil).Login(echo)} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: "203.0.113.1", form: "a"}.build())
		if rec.Code != 200 || rec.Header().Get("RateLimit-Limit") != "" {
			t.Fatalf("status %d headers %v", rec.Code, rec.Header())
		}
	}
}

// TestLoginPassesTheWholeBody: the login limit never reads the body, so the
// handler gets it untouched, whatever its size or form.
func TestLoginPassesTheWholeBody(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"form", "application/x-www-form-urlencoded", "grant_type=password&username=Alice&password=s3cret+pass&scope="},
		{"json", "application/json", `{"email":"a@example.com","username":"Alice","password":"hunter22"}`},
		{"malformed json", "application/json", `{"username":`},
		{"empty", "application/x-www-form-urlencoded", ""},
		{"large", "application/json", `{"username":"a","pad":"` + strings.Repeat("x", 64<<10) + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatal(err)
				}
				seen = string(b)
			})
			l := New(Config{LoginPerMinute: 5}, nil, nil, nil)
			r := httptest.NewRequest("POST", "/auth/login", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			l.Login(next).ServeHTTP(rec, r)
			if rec.Code != 200 || seen != tc.body {
				t.Fatalf("status %d; next handler read %d bytes, want the %d sent", rec.Code, len(seen), len(tc.body))
			}
		})
	}
}

func TestStricterLimitShownInHeaders(t *testing.T) {
	clk := newClock()
	l := New(Config{PerMinute: 10, LoginPerMinute: 3, Now: clk.Now}, nil, nil, nil)
	login, plain := l.General(l.Login(echo)), l.General(echo)
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, req{remote: "203.0.113.1", form: "alice"}.build())
	wantHeaders(t, rec, 3, 2, 50)
	rec = httptest.NewRecorder()
	plain.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
	wantHeaders(t, rec, 10, 8, 50)
}

func TestWindowSlides(t *testing.T) { testWindowSlides(t, inProcess) }

func testWindowSlides(t *testing.T, counter newCounter) {
	clk := newClock()
	l := New(Config{PerMinute: 2, Now: clk.Now}, nil, nil, counter(t))
	h := l.General(echo)
	send := func() int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
		return rec.Code
	}
	for i, want := range []int{200, 200, 429} {
		if got := send(); got != want {
			t.Fatalf("request %d: %d, want %d", i+1, got, want)
		}
	}
	clk.Advance(50 * time.Second) // window reset, but the last minute still holds 2
	if got := send(); got != 429 {
		t.Fatalf("right after the window reset: %d, want 429 (sliding window)", got)
	}
	clk.Advance(2 * time.Minute)
	if got := send(); got != 200 {
		t.Fatalf("two windows later: %d, want 200", got)
	}
}

func TestShortWindowRealClock(t *testing.T) { testShortWindowRealClock(t, inProcess) }

func testShortWindowRealClock(t *testing.T, counter newCounter) {
	const window = 200 * time.Millisecond
	l := New(Config{PerMinute: 1, Window: window}, nil, nil, counter(t))
	h := l.General(echo)
	codes := func() (a, b int) {
		r1, r2 := httptest.NewRecorder(), httptest.NewRecorder()
		h.ServeHTTP(r1, req{remote: "203.0.113.1"}.build())
		h.ServeHTTP(r2, req{remote: "203.0.113.1"}.build())
		return r1.Code, r2.Code
	}
	if a, b := codes(); a != 200 || b != 429 {
		t.Fatalf("got %d, %d; want 200, 429", a, b)
	}
	time.Sleep(3 * window)
	if a, _ := codes(); a != 200 {
		t.Fatalf("after the window: %d, want 200", a)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
	if !strings.Contains(rec.Body.String(), "1 requests per 200ms") {
		t.Fatalf("detail for a non-minute window: %s", rec.Body)
	}
}

func TestConcurrentRequestsCountExactly(t *testing.T) {
	testConcurrentRequestsCountExactly(t, inProcess)
}

func testConcurrentRequestsCountExactly(t *testing.T, counter newCounter) {
	l := New(Config{PerMinute: 25, OnError: func(err error) { t.Error(err) }}, nil, nil, counter(t))
	h := l.General(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
			if rec.Code == 200 {
				ok.Add(1)
			} else {
				limited.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 25 || limited.Load() != 175 {
		t.Fatalf("allowed %d, limited %d; want 25, 175", ok.Load(), limited.Load())
	}
}

// failingCounter fails while down is set, else counts in a map.
type failingCounter struct {
	mu     sync.Mutex
	down   bool
	calls  int
	counts map[string]int
}

func (c *failingCounter) setDown(v bool)            { c.mu.Lock(); c.down = v; c.mu.Unlock() }
func (c *failingCounter) Config(int, time.Duration) {}
func (c *failingCounter) Increment(key string, w time.Time) error {
	return c.IncrementBy(key, w, 1)
}

func (c *failingCounter) IncrementBy(key string, w time.Time, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.down {
		return errors.New("connection refused")
	}
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[key+w.String()] += n
	return nil
}

func (c *failingCounter) Get(key string, cur, prev time.Time) (int, int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.down {
		return 0, 0, errors.New("connection refused")
	}
	return c.counts[key+cur.String()], c.counts[key+prev.String()], nil
}

func TestStoreErrorLetsRequestsThrough(t *testing.T) {
	var errs atomic.Int32
	store := &failingCounter{down: true}
	l := New(Config{PerMinute: 1, OnError: func(error) { errs.Add(1) }}, nil, nil, store)
	h := l.General(echo)
	for range 3 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
		if rec.Code != 200 || rec.Header().Get("RateLimit-Limit") != "" {
			t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
		}
	}
	if errs.Load() != 3 {
		t.Fatalf("OnError called %d times, want 3", errs.Load())
	}
}

func TestFallback(t *testing.T) {
	clk := newClock()
	primary := &failingCounter{}
	var downs, ups atomic.Int32
	store := Fallback(primary, FallbackOptions{
		Retry:  5 * time.Second,
		Now:    clk.Now,
		OnDown: func(error) { downs.Add(1) },
		OnUp:   func() { ups.Add(1) },
	})
	l := New(Config{PerMinute: 2, Now: clk.Now}, nil, nil, store)
	h := l.General(echo)
	send := func(remote string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: remote}.build())
		return rec.Code
	}

	if send("203.0.113.1") != 200 || len(primary.counts) != 1 {
		t.Fatal("primary not used while it works")
	}
	primary.setDown(true)
	// Still limited, in-process, while the primary fails; logged once.
	for i, want := range []int{200, 200, 429, 429} {
		if got := send("203.0.113.2"); got != want {
			t.Fatalf("during outage, request %d: %d, want %d", i+1, got, want)
		}
	}
	if downs.Load() != 1 {
		t.Fatalf("OnDown called %d times, want 1", downs.Load())
	}
	calls := primary.calls
	send("203.0.113.3")
	if primary.calls != calls {
		t.Fatal("primary retried before Retry elapsed")
	}
	clk.Advance(6 * time.Second)
	send("203.0.113.3") // probes, fails again: not logged again
	if primary.calls == calls || downs.Load() != 1 {
		t.Fatalf("after Retry: primary calls %d -> %d, OnDown %d", calls, primary.calls, downs.Load())
	}
	primary.setDown(false)
	clk.Advance(6 * time.Second)
	if send("203.0.113.4") != 200 || ups.Load() != 1 {
		t.Fatalf("primary not used again after recovery (OnUp %d)", ups.Load())
	}
	calls = primary.calls
	send("203.0.113.4")
	if primary.calls == calls {
		t.Fatal("primary not used after recovery")
	}
}

// fakeGate lets calls through while allow is set and records outcomes; a
// failure closes it, as a circuit breaker does.
type fakeGate struct {
	mu      sync.Mutex
	allow   bool
	results []error
}

func (g *fakeGate) set(allow bool) { g.mu.Lock(); g.allow = allow; g.mu.Unlock() }
func (g *fakeGate) Allow() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.allow
}

func (g *fakeGate) Record(ctx context.Context, err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ctx.Err() != nil {
		panic("Record given an ended context")
	}
	g.results = append(g.results, err)
	if err != nil {
		g.allow = false
	}
	return err
}

func (g *fakeGate) recorded() (ok, failed int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, err := range g.results {
		if err == nil {
			ok++
		} else {
			failed++
		}
	}
	return ok, failed
}

func TestFallbackGate(t *testing.T) {
	clk := newClock()
	primary := &failingCounter{}
	gate := &fakeGate{allow: true}
	var downs, ups atomic.Int32
	store := Fallback(primary, FallbackOptions{
		Gate:   gate,
		Now:    clk.Now,
		OnDown: func(error) { downs.Add(1) },
		OnUp:   func() { ups.Add(1) },
	})
	l := New(Config{PerMinute: 2, Now: clk.Now}, nil, nil, store)
	h := l.General(echo)
	send := func(remote string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: remote}.build())
		return rec.Code
	}

	if send("203.0.113.1") != 200 || len(primary.counts) != 1 {
		t.Fatal("primary not used while the gate allows it")
	}
	if ok, failed := gate.recorded(); ok != 2 || failed != 0 { // Get, IncrementBy
		t.Fatalf("gate saw %d successes, %d failures; want 2, 0", ok, failed)
	}
	primary.setDown(true)
	if send("203.0.113.2") != 200 {
		t.Fatal("request failed with the primary")
	}
	if _, failed := gate.recorded(); failed != 1 || downs.Load() != 1 {
		t.Fatalf("gate saw %d failures, OnDown %d; want 1, 1", failed, downs.Load())
	}
	// The failure closed the gate: it keeps everyone off the primary, and
	// limits count in-process.
	calls := primary.calls
	for i, want := range []int{200, 429} {
		if got := send("203.0.113.2"); got != want {
			t.Fatalf("gate closed, request %d: %d, want %d", i+1, got, want)
		}
	}
	if primary.calls != calls {
		t.Fatal("primary called while the gate is closed")
	}
	primary.setDown(false)
	gate.set(true)
	if send("203.0.113.3") != 200 || ups.Load() != 1 || primary.calls == calls {
		t.Fatalf("primary not used again once the gate allows it (OnUp %d)", ups.Load())
	}
}

// TestRetryAfterIsExact checks retryAfter against a brute-force search for
// the first instant at which the sliding-window estimate lets a request in.
func TestRetryAfterIsExact(t *testing.T) {
	const w = time.Minute
	tests := []struct {
		cur, prev, limit int
		elapsed          time.Duration
	}{
		{3, 0, 3, 10 * time.Second},
		{0, 5, 5, 0},
		{0, 5, 5, 5 * time.Second},
		{2, 5, 5, 30 * time.Second},
		{5, 5, 5, 59 * time.Second},
		{1, 1, 1, 0},
		{100, 100, 100, 12 * time.Second},
		{7, 3, 8, 45 * time.Second},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			allowed := func(after time.Duration) bool {
				return allowedAfter(tc.cur, tc.prev, tc.limit, tc.elapsed+after, w)
			}
			if allowed(0) {
				t.Fatal("case is not over the limit")
			}
			got := retryAfter(tc.cur, tc.prev, tc.limit, tc.elapsed, w)
			if allowed(got - time.Millisecond) {
				t.Fatalf("retryAfter %v: allowed already 1ms earlier", got)
			}
			if !allowed(got + time.Millisecond) {
				t.Fatalf("retryAfter %v: still refused 1ms later", got)
			}
			secs := retrySeconds(tc.cur, tc.prev, tc.limit, tc.elapsed, w)
			if !allowed(time.Duration(secs)*time.Second) || allowed(time.Duration(secs-1)*time.Second) {
				t.Fatalf("retrySeconds %d is not the first whole second that passes (retryAfter %v)", secs, got)
			}
		})
	}
}
