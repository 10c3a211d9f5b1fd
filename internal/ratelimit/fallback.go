package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// FallbackOptions tunes Fallback.
type FallbackOptions struct {
	// Retry is how long to count in-process after the primary store fails
	// before trying it again; 0 means 5 seconds.
	Retry time.Duration
	// OnDown is called when the primary store starts failing (once per
	// outage, not per request); OnUp when it works again.
	OnDown func(error)
	OnUp   func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Gate, if set, decides when primary is tried instead of Retry: one
	// record, shared with the other users of the same Redis (the cache), of
	// whether it answers, so they agree on an outage and it is logged once.
	// *redisconn.Breaker is one. OnDown and OnUp are still called, on the
	// changes this Fallback sees.
	Gate Gate
}

// Gate is a shared circuit breaker for the primary store.
type Gate interface {
	// Allow reports whether to try the store now: while it is down, true
	// for one caller per retry interval (the probe).
	Allow() bool
	// Record reports the outcome of a call Allow let through; ctx is the
	// call's context (Fallback passes context.Background(), as its own
	// deadline expiring means the store is slow). It returns err.
	Record(ctx context.Context, err error) error
}

// Fallback returns a Counter that uses primary (a shared store such as Redis)
// while it works and an in-process counter while it does not, so a store
// outage never fails a request and limits still hold per instance. After a
// failure, primary is left alone for Retry; then one request tries it again
// (the others keep counting in-process) and, if it answers, it is used again.
// The returned Counter never returns an error.
//
// Counts made in-process during an outage are not copied to primary, and
// during an outage each instance counts only its own requests (so N
// instances admit up to N times a limit).
//
// If primary checks and counts atomically (NewRedisCounter does), so does
// the returned Counter while primary works.
func Fallback(primary Counter, opts FallbackOptions) Counter {
	if opts.Retry <= 0 {
		opts.Retry = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	f := &fallback{primary: primary, opts: opts}
	if t, ok := primary.(atomicTaker); ok {
		return &fallbackTaker{fallback: f, taker: t}
	}
	return f
}

type fallback struct {
	primary Counter
	opts    FallbackOptions

	mu      sync.Mutex
	local   *lockedTaker // in-process counts, checked under its own lock
	down    bool
	retryAt time.Time
	probing bool
}

var _ Counter = (*fallback)(nil)

func (f *fallback) Config(requestLimit int, windowLength time.Duration) {
	f.mu.Lock()
	f.local = newLockedTaker(httprate.NewLocalLimitCounter(windowLength))
	f.mu.Unlock()
	f.primary.Config(requestLimit, windowLength)
}

func (f *fallback) Increment(key string, currentWindow time.Time) error {
	return f.IncrementBy(key, currentWindow, 1)
}

func (f *fallback) IncrementBy(key string, currentWindow time.Time, amount int) error {
	local, usePrimary := f.route()
	if usePrimary {
		err := f.primary.IncrementBy(key, currentWindow, amount)
		if f.result(err) {
			return nil
		}
	}
	return local.counter.IncrementBy(key, currentWindow, amount)
}

func (f *fallback) Get(key string, currentWindow, previousWindow time.Time) (int, int, error) {
	local, usePrimary := f.route()
	if usePrimary {
		c, p, err := f.primary.Get(key, currentWindow, previousWindow)
		if f.result(err) {
			return c, p, nil
		}
	}
	return local.counter.Get(key, currentWindow, previousWindow)
}

// fallbackTaker is a fallback whose primary checks and counts atomically.
type fallbackTaker struct {
	*fallback
	taker atomicTaker // fallback.primary
}

var _ atomicTaker = (*fallbackTaker)(nil)

func (f *fallbackTaker) take(key string, limit int, now time.Time, length time.Duration) (decision, error) {
	local, usePrimary := f.route()
	if usePrimary {
		d, err := f.taker.take(key, limit, now, length)
		if f.result(err) {
			return d, nil
		}
	}
	return local.take(key, limit, now, length)
}

// route says whether to try primary now, and returns the local counter.
func (f *fallback) route() (*lockedTaker, bool) {
	f.mu.Lock()
	if f.local == nil {
		f.local = newLockedTaker(httprate.NewLocalLimitCounter(time.Minute))
	}
	local := f.local
	try := f.opts.Gate != nil || f.mayTryLocked()
	f.mu.Unlock()
	if f.opts.Gate != nil {
		try = f.opts.Gate.Allow()
	}
	return local, try
}

// mayTryLocked is route's decision without a Gate; f.mu is held.
func (f *fallback) mayTryLocked() bool {
	if !f.down {
		return true
	}
	if f.probing || f.opts.Now().Before(f.retryAt) {
		return false
	}
	f.probing = true // this caller probes; the others stay local meanwhile
	return true
}

// result records the outcome of a call to primary and reports whether it
// succeeded.
func (f *fallback) result(err error) bool {
	if f.opts.Gate != nil {
		_ = f.opts.Gate.Record(context.Background(), err)
	}
	f.mu.Lock()
	wasDown := f.down
	f.probing = false
	if err != nil {
		f.down = true
		f.retryAt = f.opts.Now().Add(f.opts.Retry)
	} else {
		f.down = false
	}
	f.mu.Unlock()
	switch {
	case err != nil && !wasDown && f.opts.OnDown != nil:
		f.opts.OnDown(err)
	case err == nil && wasDown && f.opts.OnUp != nil:
		f.opts.OnUp()
	}
	return err == nil
}
