// Package redisconn opens the Redis client that myapi's cache and rate
// limits share, and tracks whether Redis answers (Breaker), so that a Redis
// outage costs each request nothing more than a skipped cache: requests
// don't each wait for a timeout, and the outage is logged once.
//
// Redis never holds the only copy of anything in myapi: every user of this
// package must keep working, more slowly, while Redis is down.
package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Default timeouts. They are short on purpose: a cache that answers after
// 50 ms is no faster than the database, and a Redis that does not answer
// must not hold requests up.
const (
	DefaultDialTimeout  = 100 * time.Millisecond
	DefaultReadTimeout  = 50 * time.Millisecond
	DefaultWriteTimeout = 50 * time.Millisecond
	// DefaultPoolTimeout bounds the wait for a free connection when all of
	// them are busy.
	DefaultPoolTimeout = 100 * time.Millisecond
)

// Open returns a client for url (redis://, rediss:// or unix://, as
// understood by redis.ParseURL). It does not connect: connections are
// made on first use, so Open succeeds while Redis is down, and the client
// reconnects by itself when Redis comes back.
//
// Timeouts given in the URL (dial_timeout, read_timeout, write_timeout,
// pool_timeout, max_retries, pool_size) win; otherwise the short defaults
// above apply, with no retries (a failed command fails at once and the
// caller falls back to the database) and one dial attempt per connection.
func Open(url string) (*redis.Client, error) {
	opt, err := Options(url)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// AutoPipelined returns the commands surface the cache and the rate limiter
// use: c's autopipeliner, which sends the commands of concurrent requests
// to Redis together, one write and one read for a whole batch instead of
// one each per command. On the 2-core benchmark machine this doubled the
// throughput of cached reads from Redis and cut their p99 from ~40 ms to
// ~14 ms (bench/NOTES.md), since round trips, not Redis, were the cost.
//
// A batched command does not honour its context's deadline once queued
// (go-redis's choice); its connection's ReadTimeout and WriteTimeout, short
// here (see Open), still bound it, so a command waits at most about those
// plus the batch ahead of it. Closing c stops the autopipeliner too.
func AutoPipelined(c *redis.Client) (redis.Cmdable, error) {
	ap, err := c.AutoPipeline()
	if err != nil {
		return nil, fmt.Errorf("redis autopipeline: %w", err)
	}
	return ap, nil
}

// Options parses url and applies the short defaults (see Open).
func Options(url string) (*redis.Options, error) {
	if url == "" {
		return nil, fmt.Errorf("redis URL is empty")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = DefaultWriteTimeout
	}
	if opt.PoolTimeout == 0 {
		opt.PoolTimeout = DefaultPoolTimeout
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1 // go-redis: -1, not 0, disables retries
	}
	// One dial attempt: go-redis otherwise retries a failed dial 5 times
	// with 100 ms pauses, which a request would wait through.
	opt.DialerRetries = 1
	// PoolSize stays go-redis's default, 10 connections per CPU: each
	// request holds a connection for one round trip, so that is plenty for
	// thousands of requests per second per CPU.
	opt.ContextTimeoutEnabled = true
	// CLIENT SETINFO and CLIENT MAINT_NOTIFICATIONS fail on older or
	// managed servers; neither is needed.
	opt.DisableIdentity = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return opt, nil
}

// SetLogger sends go-redis's own log lines (such as one per failed dial
// during an outage) to log at debug level, instead of plain text on
// stderr: a Breaker already reports an outage once, at warning level. It
// affects every go-redis client of the process; call it once at start.
func SetLogger(log *slog.Logger) {
	redis.SetLogger(slogPrintf{log})
}

type slogPrintf struct{ log *slog.Logger }

func (l slogPrintf) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "), "component", "go-redis")
}
