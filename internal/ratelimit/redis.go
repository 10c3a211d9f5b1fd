package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisTimeout bounds every call NewRedisCounter's Counter makes to Redis
// (dial, retries and all), so a slow Redis delays a request by about this
// much before Fallback takes over. Build the client with
// ContextTimeoutEnabled so the bound also cuts a socket read short;
// otherwise a read already in flight may run on to the client's
// ReadTimeout. Through an autopipeliner (redisconn.AutoPipelined, as
// cmd/myapi uses) a queued command ignores its deadline and the client's
// ReadTimeout and WriteTimeout bound it instead.
const RedisTimeout = 50 * time.Millisecond

// maxKeyLen is the longest client key stored as is; longer ones (a
// username in a failure key can be long) are stored by their SHA-256.
const maxKeyLen = 128

// NewRedisCounter returns a Counter that keeps the counts in Redis, so that
// every instance sharing that Redis counts against the same limits. A window's
// count of key lives at
//
//	prefix + "{" + key + "}:" + <window start, Unix milliseconds>
//
// (the braces keep both windows of a key in one Redis Cluster slot; a key
// longer than 128 bytes or holding a brace is replaced by "sha256:" and its
// hex digest) and expires 2 windows + 1 s after its last increment. Each
// call is one round trip (two for the first script call after Redis starts,
// which loads the script), bounded by RedisTimeout; errors are returned, so
// wrap the Counter in Fallback to keep limiting, in-process, while Redis is
// down or slow. A call that outlasts RedisTimeout (also when a burst leaves
// it waiting for a pooled connection) counts as Redis failing.
//
// Limits are exact across instances while Redis answers: the Limiter checks
// and counts a request in one Lua script (read the current and previous
// window, decide, increment if allowed), not Get then IncrementBy. Windows
// are cut by each instance's clock, so instances whose clocks disagree by d
// also disagree on when a window turns over by d; keep them
// NTP-synchronised. During an outage (Fallback) each instance counts only
// its own requests.
//
// Wiring, in cmd/myapi, when REDIS_URL is set. The client needs short
// timeouts (~50 ms) and ContextTimeoutEnabled, as redisconn.Open sets them,
// or:
//
//	opt, err := redis.ParseURL(cfg.RedisURL)
//	// ...
//	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = 50*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond
//	opt.ContextTimeoutEnabled = true
//	client := redis.NewClient(opt) // one client for cache and limits; closed at shutdown
//	commands, err := redisconn.AutoPipelined(client) // batches concurrent requests' commands
//
// then
//
//	counter := ratelimit.Fallback(ratelimit.NewRedisCounter(commands, "myapi:rl:"), ratelimit.FallbackOptions{
//		OnDown: func(err error) {
//			log.Warn("redis unavailable: rate limits count per instance until it answers", "err", err)
//		},
//		OnUp: func() { log.Info("redis answers again: rate limits shared across instances") },
//	})
//	limiter := ratelimit.New(limitsCfg, clientip.New(trusted, header), userKey, counter)
//
// or, to share one circuit breaker (and one outage log line) with the cache,
// FallbackOptions{Gate: breaker} with the cache's *redisconn.Breaker and no
// OnDown/OnUp logging. Without REDIS_URL pass a nil Counter (in-process).
func NewRedisCounter(client redis.Cmdable, prefix string) Counter {
	c := &redisCounter{client: client, prefix: prefix, timeout: RedisTimeout}
	c.window.Store(int64(time.Minute))
	return c
}

type redisCounter struct {
	client  redis.Cmdable
	prefix  string
	timeout time.Duration // per call; RedisTimeout (tests lengthen it)
	window  atomic.Int64  // window length (a time.Duration), from Config
}

var (
	_ Counter     = (*redisCounter)(nil)
	_ atomicTaker = (*redisCounter)(nil)
)

// takeScript checks a request against the sliding-window estimate and counts
// it if allowed, atomically.
//
//	KEYS[1], KEYS[2]: the current and the previous window's count
//	ARGV[1]: limit; ARGV[2]: time elapsed in the current window and
//	ARGV[3]: window length, both in microseconds; ARGV[4]: expiry, ms
//
// It returns {allowed (1 or 0), current count, previous count}, the counts as
// they were before this request. The test is slidingWindow's,
// round(prev*(length-elapsed)/length + cur) + 1 <= limit, in integers:
// round(x) <= limit-1 <=> x < limit-0.5.
var takeScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local limit = tonumber(ARGV[1])
local elapsed = tonumber(ARGV[2])
local length = tonumber(ARGV[3])
if 2 * (prev * (length - elapsed) + cur * length) < (2 * limit - 1) * length then
	redis.call('INCR', KEYS[1])
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
	return {1, cur, prev}
end
return {0, cur, prev}
`)

func (c *redisCounter) Config(_ int, windowLength time.Duration) {
	if windowLength > 0 {
		c.window.Store(int64(windowLength))
	}
}

func (c *redisCounter) Increment(key string, currentWindow time.Time) error {
	return c.IncrementBy(key, currentWindow, 1)
}

func (c *redisCounter) IncrementBy(key string, currentWindow time.Time, amount int) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	k := c.key(key, currentWindow)
	ttl := expiry(time.Duration(c.window.Load()))
	_, err := c.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.IncrBy(ctx, k, int64(amount))
		p.PExpire(ctx, k, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis rate-limit increment: %w", err)
	}
	return nil
}

func (c *redisCounter) Get(key string, currentWindow, previousWindow time.Time) (int, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	vals, err := c.client.MGet(ctx, c.key(key, currentWindow), c.key(key, previousWindow)).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("redis rate-limit get: %w", err)
	}
	if len(vals) != 2 {
		return 0, 0, fmt.Errorf("redis rate-limit get: %d values for 2 keys", len(vals))
	}
	cur, err := parseCount(vals[0])
	if err != nil {
		return 0, 0, err
	}
	prev, err := parseCount(vals[1])
	if err != nil {
		return 0, 0, err
	}
	return cur, prev, nil
}

func (c *redisCounter) take(key string, limit int, now time.Time, length time.Duration) (decision, error) {
	cur := now.Truncate(length)
	elapsed := now.Sub(cur)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	res, err := takeScript.Run(ctx, c.client,
		[]string{c.key(key, cur), c.key(key, cur.Add(-length))},
		limit, elapsed.Microseconds(), max(1, length.Microseconds()), expiry(length).Milliseconds(),
	).Int64Slice()
	if err != nil {
		return decision{}, fmt.Errorf("redis rate-limit take: %w", err)
	}
	if len(res) != 3 {
		return decision{}, fmt.Errorf("redis rate-limit take: reply %v", res)
	}
	return decide(int(res[1]), int(res[2]), limit, elapsed, length, res[0] == 1), nil
}

// key is the Redis key of key's count in the window starting at window.
func (c *redisCounter) key(key string, window time.Time) string {
	if len(key) > maxKeyLen || strings.ContainsAny(key, "{}") {
		sum := sha256.Sum256([]byte(key))
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	return c.prefix + "{" + key + "}:" + strconv.FormatInt(window.UnixMilli(), 10)
}

// expiry is how long a window's count is kept after its last increment: it
// is read as the previous window until 2 windows after its start; the extra
// second covers clocks that disagree a little between instances.
func expiry(length time.Duration) time.Duration {
	return 2*length + time.Second
}

func parseCount(v any) (int, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("redis rate-limit get: count %q: %w", v, err)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("redis rate-limit get: count of type %T", v)
	}
}
