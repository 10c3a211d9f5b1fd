// Package ratelimit limits requests per client (RATE_LIMIT_PER_MINUTE) and,
// more strictly (LOGIN_RATE_LIMIT_PER_MINUTE), login-class requests per IP
// and failed password checks per account and client network.
//
// Counting uses a sliding window (httprate's estimate) over a Counter:
// httprate's in-process counter by default, or Redis (NewRedisCounter,
// wrapped in Fallback) so a limit counts the requests to every instance.
// Over a limit the client gets 429 problem+json with Retry-After and
// RateLimit-Limit/-Remaining/-Reset; allowed responses carry the RateLimit-*
// headers too.
package ratelimit

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/go-chi/httprate"

	"myapi/internal/clientip"
)

// Rejection kinds passed to Config.OnReject.
const (
	KindGeneral       = "general"        // RATE_LIMIT_PER_MINUTE, per user or per IP
	KindLoginIP       = "login_ip"       // LOGIN_RATE_LIMIT_PER_MINUTE, per IP
	KindLoginUsername = "login_username" // LOGIN_RATE_LIMIT_PER_MINUTE failed passwords, per username and network
)

// Response header names.
const (
	HeaderLimit      = "RateLimit-Limit"
	HeaderRemaining  = "RateLimit-Remaining"
	HeaderReset      = "RateLimit-Reset"
	HeaderRetryAfter = "Retry-After"
)

// Config sets the limits. A limit of 0 (or less) disables it.
type Config struct {
	PerMinute int // every API request, per user when authenticated, else per client IP
	// LoginPerMinute limits login-class requests per client IP, and failed
	// password checks per username and client network (PasswordAttempt).
	LoginPerMinute int

	// Window is the length of the counting window; 0 means a minute. Tests
	// shorten it. The limits above are per Window.
	Window time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnReject, if set, is called once per 429 with one of the Kind* values
	// (for a metrics counter).
	OnReject func(kind string)
	// OnError, if set, is called when the Counter fails. The request is then
	// let through without rate-limit headers: a broken store never fails a
	// request. Wrap a remote store in Fallback to keep limiting instead.
	OnError func(error)
}

// Limiter holds the limits and the counts. Its methods are safe for
// concurrent use. A nil *Limiter limits nothing.
type Limiter struct {
	cfg     Config
	ips     *clientip.Resolver
	userKey func(*http.Request) string
	win     *slidingWindow
	per     string // "minute", or the window length
}

// New returns a Limiter. ips finds the client address (nil trusts no proxy
// header). userKey returns a stable id of the authenticated user ("user:42"),
// or "" when the request has no valid credentials; nil means always "".
// counter is the store of counts; nil means an in-process one
// (httprate.NewLocalLimitCounter).
func New(cfg Config, ips *clientip.Resolver, userKey func(*http.Request) string, counter Counter) *Limiter {
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if counter == nil {
		counter = httprate.NewLocalLimitCounter(cfg.Window)
	}
	counter.Config(max(cfg.PerMinute, cfg.LoginPerMinute), cfg.Window)
	per := "minute"
	if cfg.Window != time.Minute {
		per = cfg.Window.String()
	}
	return &Limiter{
		cfg:     cfg,
		ips:     ips,
		userKey: userKey,
		win:     newSlidingWindow(counter, cfg.Window, cfg.Now),
		per:     per,
	}
}

// General limits every request to Config.PerMinute per client: per user when
// userKey names one, else per client IP (an IPv6 client by its /64, as
// httprate.CanonicalizeIP does, since one host commonly holds a whole /64).
func (l *Limiter) General(next http.Handler) http.Handler {
	if l == nil || l.cfg.PerMinute <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := ""
		if l.userKey != nil {
			key = l.userKey(r)
		}
		if key != "" {
			key = "general|u|" + key
		} else {
			key = "general|ip|" + ipKey(l.ips.IP(r))
		}
		if !l.check(w, key, l.cfg.PerMinute, KindGeneral) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Login limits login-class requests (login, registration, password
// recovery and reset) to Config.LoginPerMinute per client IP, whatever the
// body says, and remembers the client for PasswordAttempt.
func (l *Limiter) Login(next http.Handler) http.Handler {
	if l == nil || l.cfg.LoginPerMinute <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := l.ips.IP(r)
		if !l.check(w, "login|ip|"+ipKey(ip), l.cfg.LoginPerMinute, KindLoginIP) {
			return
		}
		next.ServeHTTP(w, withClient(r, ip))
	})
}

// check counts the request against key. It reports whether to go on; if not,
// it has written the 429.
func (l *Limiter) check(w http.ResponseWriter, key string, limit int, kind string) bool {
	d, err := l.win.take(key, limit)
	if err != nil {
		if l.cfg.OnError != nil {
			l.cfg.OnError(fmt.Errorf("rate limit store: %w", err))
		}
		return true
	}
	if d.allowed {
		setHeaders(w.Header(), d, false)
		return true
	}
	h := w.Header()
	setHeaders(h, d, true)
	retry := d.retryAfter
	h.Set(HeaderRetryAfter, strconv.Itoa(retry))
	writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf(
		"Rate limit exceeded: %d requests per %s. Retry in %d seconds.", limit, l.per, retry))
	if l.cfg.OnReject != nil {
		l.cfg.OnReject(kind)
	}
	return false
}

// setHeaders writes the RateLimit-* headers of d. When several limits apply to
// one request (General then Login), the one with the fewest remaining
// requests is shown, unless force.
func setHeaders(h http.Header, d decision, force bool) {
	if !force {
		if prev := h[keyRemaining]; len(prev) == 1 {
			if n, err := strconv.Atoi(prev[0]); err == nil && n < d.remaining {
				return
			}
		}
	}
	// On every request: canonical keys and one backing array, rather than
	// three Header.Set calls that each convert the name and allocate.
	v := []string{strconv.Itoa(d.limit), strconv.Itoa(d.remaining), strconv.Itoa(max(1, int(math.Ceil(d.reset.Seconds()))))}
	h[keyLimit], h[keyRemaining], h[keyReset] = v[0:1:1], v[1:2:2], v[2:3:3]
}

// The RateLimit-* names as http.Header stores them.
var (
	keyLimit     = http.CanonicalHeaderKey(HeaderLimit)
	keyRemaining = http.CanonicalHeaderKey(HeaderRemaining)
	keyReset     = http.CanonicalHeaderKey(HeaderReset)
)

type problem struct {
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func writeProblem(w http.ResponseWriter, status int, detail string) {
	body, _ := json.Marshal(problem{Title: http.StatusText(status), Status: status, Detail: detail})
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ipKey is the per-IP bucket: the address, or its /64 for IPv6.
func ipKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return a.String()
	}
}
