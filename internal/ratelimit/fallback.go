package ratelimit

import (
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
}

// Fallback returns a Counter that uses primary (a shared store such as Redis)
// while it works and an in-process counter while it does not, so a store
// outage never fails a request and limits still hold per instance. After a
// failure, primary is left alone for Retry; then one request tries it again
// (the others keep counting in-process) and, if it answers, it is used again.
// The returned Counter never returns an error.
//
// Counts made in-process during an outage are not copied to primary.
func Fallback(primary Counter, opts FallbackOptions) Counter {
	if opts.Retry <= 0 {
		opts.Retry = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &fallback{primary: primary, opts: opts}
}

type fallback struct {
	primary Counter
	opts    FallbackOptions

	mu      sync.Mutex
	local   Counter
	down    bool
	retryAt time.Time
	probing bool
}

var _ Counter = (*fallback)(nil)

func (f *fallback) Config(requestLimit int, windowLength time.Duration) {
	f.mu.Lock()
	f.local = httprate.NewLocalLimitCounter(windowLength)
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
	return local.IncrementBy(key, currentWindow, amount)
}

func (f *fallback) Get(key string, currentWindow, previousWindow time.Time) (int, int, error) {
	local, usePrimary := f.route()
	if usePrimary {
		c, p, err := f.primary.Get(key, currentWindow, previousWindow)
		if f.result(err) {
			return c, p, nil
		}
	}
	return local.Get(key, currentWindow, previousWindow)
}

// route says whether to try primary now, and returns the local counter.
func (f *fallback) route() (Counter, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.local == nil {
		f.local = httprate.NewLocalLimitCounter(time.Minute)
	}
	if !f.down {
		return f.local, true
	}
	if f.probing || f.opts.Now().Before(f.retryAt) {
		return f.local, false
	}
	f.probing = true // this caller probes; the others stay local meanwhile
	return f.local, true
}

// result records the outcome of a call to primary and reports whether it
// succeeded.
func (f *fallback) result(err error) bool {
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
