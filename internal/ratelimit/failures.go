package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Failed password checks are limited per account and per client network,
// not per account alone: a budget per account would let anyone lock its
// owner out by failing on purpose, and one that counted successes too
// would refuse the owner after someone else's failures. Keyed by network,
// failures from one place stop further guesses from that place only; the
// owner, elsewhere, logs in as usual. The network is wider than the per-IP
// bucket (an IPv4 /24, an IPv6 /48) so that hopping between neighbouring
// addresses does not refill the budget, while the per-IP login limit still
// bounds what any one address sends.

// Networks whose failures share one budget per account.
const (
	failureBitsV4 = 24
	failureBitsV6 = 48
)

type clientKey struct{}

// withClient remembers the client's address for PasswordAttempt.
func withClient(r *http.Request, ip netip.Addr) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), clientKey{}, ip))
}

// Client is middleware that remembers the client's address for
// PasswordAttempt on routes outside the login class (those under Login
// have it already), e.g. a change of email that checks the current
// password.
func (l *Limiter) Client(next http.Handler) http.Handler {
	if l == nil || l.cfg.LoginPerMinute <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Context().Value(clientKey{}).(netip.Addr); ok {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, withClient(r, l.ips.IP(r)))
	})
}

// networkKey is the failure bucket of an address: its /24 or /48.
func networkKey(a netip.Addr) string {
	bits := failureBitsV4
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		bits = failureBitsV6
	}
	p, _ := a.Prefix(bits)
	return p.String()
}

// ExceededError refuses a password check: the account has had
// Config.LoginPerMinute failed ones from the client's network.
type ExceededError struct {
	Limit      int    // failures allowed per window
	Per        string // "minute", or the window length
	RetryAfter int    // seconds until a check is allowed again
	d          decision
}

func (e *ExceededError) Error() string {
	return fmt.Sprintf("Too many failed password attempts for this account from your network: %d per %s. Retry in %d seconds.",
		e.Limit, e.Per, e.RetryAfter)
}

// Headers are Retry-After and the RateLimit-* headers of the refusal.
func (e *ExceededError) Headers() http.Header {
	h := http.Header{}
	setHeaders(h, e.d, true)
	h.Set(HeaderRetryAfter, strconv.Itoa(e.RetryAfter))
	return h
}

// Attempt is a failed password check counted in advance: Succeeded takes
// it back. Counting first keeps the budget exact however many checks run
// at once. A nil *Attempt (no limit) does nothing.
type Attempt struct {
	l      *Limiter
	key    string
	window time.Time
}

// PasswordAttempt counts one failed password check of username (as typed
// at login: it is trimmed and lower-cased, as accounts are looked up) from
// the client of ctx (see Login and Client) before the check runs. Over the
// budget it returns an *ExceededError and the password must not be
// checked. Call Succeeded on the Attempt unless the check failed.
func (l *Limiter) PasswordAttempt(ctx context.Context, username string) (*Attempt, error) {
	return l.attempt(ctx, "name|"+strings.ToLower(strings.TrimSpace(username)))
}

// UserPasswordAttempt is PasswordAttempt for a check of a signed-in
// user's password (a current_password), keyed by the account's id: a
// rename does not refill the budget.
func (l *Limiter) UserPasswordAttempt(ctx context.Context, userID int64) (*Attempt, error) {
	return l.attempt(ctx, "id|"+strconv.FormatInt(userID, 10))
}

func (l *Limiter) attempt(ctx context.Context, account string) (*Attempt, error) {
	if l == nil || l.cfg.LoginPerMinute <= 0 {
		return nil, nil
	}
	ip, _ := ctx.Value(clientKey{}).(netip.Addr)
	key := "pwfail|" + networkKey(ip) + "|" + account
	now := l.cfg.Now().UTC()
	d, err := l.win.takeAt(key, l.cfg.LoginPerMinute, now)
	if err != nil {
		if l.cfg.OnError != nil {
			l.cfg.OnError(fmt.Errorf("rate limit store: %w", err))
		}
		return nil, nil
	}
	if !d.allowed {
		if l.cfg.OnReject != nil {
			l.cfg.OnReject(KindLoginUsername)
		}
		return nil, &ExceededError{Limit: l.cfg.LoginPerMinute, Per: l.per, RetryAfter: d.retryAfter, d: d}
	}
	return &Attempt{l: l, key: key, window: now.Truncate(l.win.length)}, nil
}

// Succeeded takes the attempt back: the password was right, or was never
// checked. In a later window there is nothing to take back from (the count
// only weighs on the next one), so the count stays.
func (a *Attempt) Succeeded() {
	if a == nil || a.l.cfg.Now().UTC().Truncate(a.l.win.length) != a.window {
		return
	}
	if err := a.l.win.counter.IncrementBy(a.key, a.window, -1); err != nil && a.l.cfg.OnError != nil {
		a.l.cfg.OnError(fmt.Errorf("rate limit store: %w", err))
	}
}
