package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// Counter stores request counts per key and per window. It is httprate's
// LimitCounter, the interface that httprate-redis implements, so a shared
// (Redis) store plugs in without changes here:
//
//   - Config(limit, window) is called once by New with the window length, so
//     a store can expire its keys (e.g. after 2 windows);
//   - IncrementBy(key, window, n) adds n to key's count in the window that
//     starts at window (wall-clock aligned: t.Truncate(length));
//   - Get(key, current, previous) returns the counts of those two windows.
//
// Errors are never turned into failed requests: see Config.OnError and
// Fallback.
type Counter = httprate.LimitCounter

// decision is the outcome of one check against one key.
type decision struct {
	allowed    bool
	limit      int
	remaining  int
	reset      time.Duration // until the current window ends
	retryAfter int           // denied only: whole seconds until a request passes
}

// slidingWindow is httprate's sliding-window estimate (the count of the
// previous window weighted by how much of it still overlaps the last
// window-length of time, plus the current window's count), run on a Counter.
// Unlike httprate.RateLimiter it locks per key instead of per limiter (so a
// slow shared store does not serialise unrelated clients), reads time from
// an injectable clock, and reports how long until the window resets and
// until a denied client may retry.
type slidingWindow struct {
	taker   atomicTaker
	counter Counter // the store under taker, for taking a count back
	length  time.Duration
	now     func() time.Time
}

func newSlidingWindow(c Counter, length time.Duration, now func() time.Time) *slidingWindow {
	t, ok := c.(atomicTaker)
	if !ok {
		t = newLockedTaker(c)
	}
	return &slidingWindow{taker: t, counter: c, length: length, now: now}
}

// take counts one request against key if that keeps it within limit.
func (s *slidingWindow) take(key string, limit int) (decision, error) {
	return s.taker.take(key, limit, s.now().UTC(), s.length)
}

// takeAt is take at a given time (UTC), for a caller that must know which
// window the request was counted in.
func (s *slidingWindow) takeAt(key string, limit int, now time.Time) (decision, error) {
	return s.taker.take(key, limit, now, s.length)
}

// atomicTaker is implemented by a Counter that checks a key against a limit
// and counts the request in one atomic step of the store itself (the Redis
// counter, with a Lua script), so the limit holds exactly across all the
// processes sharing the store. slidingWindow uses it when the Counter has
// it; any other Counter runs through a lockedTaker, exact only within one
// process.
type atomicTaker interface {
	// take counts one request against key, in the window of length that
	// holds now, if the sliding-window estimate stays within limit.
	take(key string, limit int, now time.Time, length time.Duration) (decision, error)
}

// lockedTaker makes any Counter an atomicTaker for one process: Get, decide,
// IncrementBy under a per-key lock (striped, so unrelated keys rarely wait
// on each other). Processes sharing the store do not see each other's lock:
// between one's Get and its IncrementBy another may count too, so together
// they can admit a few requests more than the limit (at most one per
// process per race).
type lockedTaker struct {
	counter Counter
	seed    maphash.Seed
	locks   [256]sync.Mutex
}

func newLockedTaker(c Counter) *lockedTaker {
	return &lockedTaker{counter: c, seed: maphash.MakeSeed()}
}

func (l *lockedTaker) take(key string, limit int, now time.Time, length time.Duration) (decision, error) {
	mu := &l.locks[maphash.String(l.seed, key)%uint64(len(l.locks))]
	mu.Lock()
	defer mu.Unlock()

	cur := now.Truncate(length)
	elapsed := now.Sub(cur)
	curN, prevN, err := l.counter.Get(key, cur, cur.Add(-length))
	if err != nil {
		return decision{}, err
	}
	allowed := int(math.Round(estimate(curN, prevN, elapsed, length)))+1 <= limit
	if allowed {
		if err := l.counter.IncrementBy(key, cur, 1); err != nil {
			return decision{}, err
		}
	}
	return decide(curN, prevN, limit, elapsed, length, allowed), nil
}

// decide builds the decision for a request that found curN and prevN
// counted (before its own) at elapsed into the current window, and was
// allowed (and counted) or not.
func decide(curN, prevN, limit int, elapsed, length time.Duration, allowed bool) decision {
	used := int(math.Round(estimate(curN, prevN, elapsed, length)))
	d := decision{allowed: allowed, limit: limit, reset: length - elapsed}
	if allowed {
		d.remaining = max(0, limit-used-1)
		return d
	}
	d.remaining = max(0, limit-used)
	d.retryAfter = retrySeconds(curN, prevN, limit, elapsed, length)
	return d
}

// estimate is the number of requests in the last window-length of time.
func estimate(curN, prevN int, elapsed, length time.Duration) float64 {
	return float64(prevN)*float64(length-elapsed)/float64(length) + float64(curN)
}

// retryAfter is how long until estimate() rounds below limit, assuming no
// more requests are counted meanwhile: later in this window if the previous
// window's share decays enough, else some way into the next window (where
// this window's count becomes the decaying previous one). Resetting the
// window is not enough on its own: right after it, the previous window still
// weighs fully.
func retryAfter(curN, prevN, limit int, elapsed, length time.Duration) time.Duration {
	// round(x)+1 <= limit  <=>  x < limit-0.5
	threshold := float64(limit) - 0.5
	w := float64(length)
	c, p := float64(curN), float64(prevN)
	if c < threshold && p > 0 {
		// p*(1-d/w) + c < threshold  <=>  d > w*(1-(threshold-c)/p)
		if d := w * (1 - (threshold-c)/p); d < w {
			return max(0, time.Duration(d)-elapsed)
		}
	}
	rest := length - elapsed
	if c <= threshold {
		return rest
	}
	// c*(1-d/w) < threshold  <=>  d > w*(1-threshold/c)
	return rest + time.Duration(w*(1-threshold/c))
}

// retrySeconds is retryAfter in whole seconds, strictly after the instant
// the estimate drops below the limit, checked against the same rounding
// take() applies so that float error never makes it a second short.
func retrySeconds(curN, prevN, limit int, elapsed, length time.Duration) int {
	secs := int(retryAfter(curN, prevN, limit, elapsed, length)/time.Second) + 1
	for ; secs < int(2*length/time.Second)+1; secs++ {
		if allowedAfter(curN, prevN, limit, elapsed+time.Duration(secs)*time.Second, length) {
			break
		}
	}
	return secs
}

// allowedAfter reports whether a request would pass at elapsed (which may run
// past the current window) if nothing more were counted.
func allowedAfter(curN, prevN, limit int, elapsed, length time.Duration) bool {
	switch {
	case elapsed >= 2*length:
		curN, prevN, elapsed = 0, 0, elapsed%length
	case elapsed >= length:
		curN, prevN, elapsed = 0, curN, elapsed-length
	}
	return int(math.Round(estimate(curN, prevN, elapsed, length)))+1 <= limit
}
