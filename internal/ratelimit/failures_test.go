package ratelimit

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tryPassword runs one password check of username from remote through l's
// Client middleware, as a handler would: it reports whether the check was
// allowed, and takes the attempt back unless fail.
func tryPassword(t *testing.T, l *Limiter, remote, username string, fail bool) bool {
	t.Helper()
	allowed := false
	h := l.Client(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := l.PasswordAttempt(r.Context(), username)
		var ex *ExceededError
		switch {
		case errors.As(err, &ex):
			return
		case err != nil:
			t.Fatalf("PasswordAttempt: %v", err)
		}
		allowed = true
		if !fail {
			a.Succeeded()
		}
	}))
	r := req{remote: remote}.build()
	h.ServeHTTP(httptest.NewRecorder(), r)
	return allowed
}

func TestPasswordAttempts(t *testing.T) { testPasswordAttempts(t, inProcess) }

func testPasswordAttempts(t *testing.T, counter newCounter) {
	type step struct {
		remote, user string
		fail         bool // the password turns out wrong
		want         bool // the check is allowed
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"successes never count", []step{
			{"203.0.113.1", "alice", false, true}, {"203.0.113.1", "alice", false, true},
			{"203.0.113.1", "alice", false, true}, {"203.0.113.1", "alice", false, true},
		}},
		// A forced lockout: failures as "VICTIM " from one network, then
		// the right password from another network gets through.
		{"failures stop their own network only", []step{
			{"203.0.113.5", "VICTIM ", true, true}, {"203.0.113.5", "victim", true, true},
			{"203.0.113.5", "Victim", true, false},
			{"203.0.113.5", "victim", false, false}, // even the right password: not from here
			{"198.51.100.7", "victim", false, true},
			{"198.51.100.7", "victim", false, true},
			{"203.0.113.5", "someone-else", true, true},
		}},
		{"neighbouring addresses share the budget (/24)", []step{
			{"203.0.113.1", "bob", true, true}, {"203.0.113.2", "bob", true, true},
			{"203.0.113.200", "bob", true, false}, {"203.0.114.1", "bob", true, true},
		}},
		{"IPv6 networks are /48s", []step{
			{"2001:db8:1:1::1", "carol", true, true}, {"2001:db8:1:2::1", "carol", true, true},
			{"2001:db8:1:ffff::9", "carol", true, false}, {"2001:db8:2::1", "carol", true, true},
		}},
		{"a failure followed by a success keeps the failure", []step{
			{"203.0.113.1", "dave", true, true}, {"203.0.113.1", "dave", false, true},
			{"203.0.113.1", "dave", true, true}, {"203.0.113.1", "dave", false, false},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			l := New(Config{LoginPerMinute: 2, Now: clk.Now}, resolver(t), nil, counter(t))
			for i, s := range tc.steps {
				if got := tryPassword(t, l, s.remote, s.user, s.fail); got != s.want {
					t.Fatalf("step %d %+v: allowed %v, want %v", i+1, s, got, s.want)
				}
				clk.Advance(100 * time.Millisecond)
			}
		})
	}
}

// TestPasswordAttemptRefusal: the refusal says when to retry, truthfully,
// and is counted once as login_username.
func TestPasswordAttemptRefusal(t *testing.T) {
	clk := newClock() // 10 s into the window
	var kinds []string
	l := New(Config{LoginPerMinute: 2, Now: clk.Now, OnReject: func(k string) { kinds = append(kinds, k) }}, nil, nil, nil)
	ctx := withClient(req{remote: "203.0.113.1"}.build(), netip.MustParseAddr("203.0.113.1")).Context()
	for range 2 {
		if _, err := l.PasswordAttempt(ctx, "erin"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := l.PasswordAttempt(ctx, "erin")
	var ex *ExceededError
	if !errors.As(err, &ex) {
		t.Fatalf("third failure: %v, want *ExceededError", err)
	}
	h := ex.Headers()
	if h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Remaining") != "0" || h.Get("Retry-After") != strconv.Itoa(ex.RetryAfter) || ex.RetryAfter < 50 {
		t.Fatalf("headers %v, RetryAfter %d", h, ex.RetryAfter)
	}
	want := "Too many failed password attempts for this account from your network: 2 per minute. Retry in " + strconv.Itoa(ex.RetryAfter) + " seconds."
	if ex.Error() != want {
		t.Fatalf("message %q, want %q", ex.Error(), want)
	}
	if len(kinds) != 1 || kinds[0] != KindLoginUsername {
		t.Fatalf("OnReject kinds %v", kinds)
	}
	clk.Advance(time.Duration(ex.RetryAfter-1) * time.Second)
	if _, err := l.PasswordAttempt(ctx, "erin"); err == nil {
		t.Fatal("allowed a second before Retry-After")
	}
	clk.Advance(time.Second)
	if _, err := l.PasswordAttempt(ctx, "erin"); err != nil {
		t.Fatalf("at Retry-After: %v", err)
	}
}

func TestDisabledPasswordAttempts(t *testing.T) {
	for _, l := range []*Limiter{nil, New(Config{PerMinute: 5}, nil, nil, nil)} {
		for range 5 {
			a, err := l.PasswordAttempt(req{remote: "203.0.113.1"}.build().Context(), "frank")
			if a != nil || err != nil {
				t.Fatalf("PasswordAttempt with no login limit = %v, %v", a, err)
			}
			a.Succeeded() // a nil Attempt is fine
		}
	}
}

func TestConcurrentPasswordAttempts(t *testing.T) {
	testConcurrentPasswordAttempts(t, inProcess)
}

// testConcurrentPasswordAttempts: failures are counted before the check, so
// concurrent wrong guesses never exceed the budget.
func testConcurrentPasswordAttempts(t *testing.T, counter newCounter) {
	clk := newClock()
	l := New(Config{LoginPerMinute: 5, Now: clk.Now}, nil, nil, counter(t))
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tryPassword(t, l, "203.0.113.1", "grace", true) {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := allowed.Load(); got != 5 {
		t.Fatalf("%d concurrent failed passwords allowed, want exactly 5", got)
	}
}
