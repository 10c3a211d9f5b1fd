package redisconn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is returned by Breaker.Do while Redis is considered down:
// the call was skipped, not attempted.
var ErrUnavailable = errors.New("redis is unavailable (skipped until it answers again)")

// DefaultRetry is how long a Breaker leaves Redis alone after a failure.
const DefaultRetry = 2 * time.Second

// BreakerOptions tune a Breaker.
type BreakerOptions struct {
	// Name is what log lines call the service; "" means "redis".
	Name string
	// Retry is how long Redis is skipped after a failure before one caller
	// tries it again; 0 means DefaultRetry.
	Retry time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Breaker records whether Redis answers, for every user of one Redis
// client (the cache, the rate limiter, readiness).
//
// While Redis is up, every call goes through. After a failure, Allow
// answers false for Retry, so requests skip Redis at no cost instead of
// each waiting for a timeout; then it answers true to one caller at a time
// per Retry interval (the probe). The first success marks Redis up again.
// A warning is logged once when Redis goes down and an info line once when
// it is back, with how long it was down and how many calls failed.
//
// A Breaker starts up (optimistic): the first failure marks it down.
type Breaker struct {
	log   *slog.Logger
	name  string
	retry time.Duration
	now   func() time.Time

	up atomic.Bool // read without the lock on the hot path

	mu        sync.Mutex
	since     time.Time // when Redis went down
	retryAt   time.Time // when the next probe may run
	failures  int       // failed calls in this outage
	lastErr   error
	listeners []func(up bool)
}

// NewBreaker returns a Breaker that logs to log (nil: slog.Default()).
func NewBreaker(log *slog.Logger, opts BreakerOptions) *Breaker {
	if log == nil {
		log = slog.Default()
	}
	if opts.Name == "" {
		opts.Name = "redis"
	}
	if opts.Retry <= 0 {
		opts.Retry = DefaultRetry
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	b := &Breaker{log: log, name: opts.Name, retry: opts.Retry, now: opts.Now}
	b.up.Store(true)
	return b
}

// Retry is how long Redis is skipped after a failure.
func (b *Breaker) Retry() time.Duration { return b.retry }

// Up reports whether the last call to Redis succeeded.
func (b *Breaker) Up() bool { return b.up.Load() }

// Err is nil while Redis is up, else an error naming the last failure, for
// a readiness check.
func (b *Breaker) Err() error {
	if b.up.Load() {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lastErr == nil {
		return nil
	}
	return errors.Join(ErrUnavailable, b.lastErr)
}

// OnChange registers fn to be called on every transition, with up=false
// when Redis goes down and up=true when it is back. Calls are made in
// order, under the Breaker's lock: fn must be quick and must not call the
// Breaker.
func (b *Breaker) OnChange(fn func(up bool)) {
	b.mu.Lock()
	b.listeners = append(b.listeners, fn)
	b.mu.Unlock()
}

// Allow reports whether the caller may use Redis now: always while it is
// up; while it is down, to one caller per Retry interval (the probe), who
// must then Record the outcome.
func (b *Breaker) Allow() bool {
	if b.up.Load() {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.up.Load() {
		return true
	}
	now := b.now()
	if now.Before(b.retryAt) {
		return false
	}
	b.retryAt = now.Add(b.retry)
	return true
}

// Record reports the outcome of a call to Redis made with ctx. nil and
// redis.Nil (a missing key) mean Redis answered. An error after ctx itself
// ended says nothing about Redis (the caller gave up) and is ignored.
// Record returns err unchanged.
func (b *Breaker) Record(ctx context.Context, err error) error {
	switch {
	case err == nil || errors.Is(err, redis.Nil):
		if !b.up.Load() {
			b.markUp()
		}
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		// The caller's own deadline or cancellation.
	default:
		b.markDown(err)
	}
	return err
}

// Do runs fn unless Redis is down (then it returns ErrUnavailable at once)
// and records its outcome.
func (b *Breaker) Do(ctx context.Context, fn func(context.Context) error) error {
	if !b.Allow() {
		return ErrUnavailable
	}
	return b.Record(ctx, fn(ctx))
}

// Watch pings Redis every interval until ctx ends, so that an outage is
// noticed (and logged, and reported by Up) even when no request uses
// Redis, and its end too. ping is typically client.Ping(ctx).Err.
func (b *Breaker) Watch(ctx context.Context, interval time.Duration, ping func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = b.Record(ctx, ping(ctx))
		}
	}
}

func (b *Breaker) markDown(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.lastErr = err
	b.retryAt = now.Add(b.retry)
	if !b.up.Load() {
		b.failures++
		return
	}
	b.up.Store(false)
	b.since = now
	b.failures = 1
	b.log.Warn(b.name+" is unavailable; carrying on without it and retrying in the background",
		"error", err.Error(), "retry_every", b.retry.String())
	for _, fn := range b.listeners {
		fn(false)
	}
}

func (b *Breaker) markUp() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.up.Load() {
		return
	}
	b.up.Store(true)
	b.lastErr = nil
	b.log.Info(b.name+" is available again",
		"down_for", b.now().Sub(b.since).Round(time.Millisecond).String(), "failed_calls", b.failures)
	for _, fn := range b.listeners {
		fn(true)
	}
}
