package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"myapi/internal/redisconn"
)

// DefaultPrefix starts every key the Redis store writes.
const DefaultPrefix = "myapi:cache:"

// DefaultGenerationTTL is how long Redis keeps a generation that no entry
// uses: short, so that reads of ids that do not exist (never cached) leave
// little behind. Storing an entry keeps its generations at least twice the
// entry's TTL.
const DefaultGenerationTTL = 2 * time.Minute

// RedisOptions tune the Redis store.
type RedisOptions struct {
	// Prefix starts every key; "" means DefaultPrefix. Instances that share
	// a cache must share the prefix.
	Prefix string
	// Breaker is shared with the other users of the client; nil means a
	// Breaker of the store's own.
	Breaker *redisconn.Breaker
	// Log receives the Breaker's outage lines when Breaker is nil.
	Log *slog.Logger
	// GenerationTTL is how long a generation no entry uses is kept; 0 means
	// DefaultGenerationTTL. Correctness does not depend on it (a missing
	// generation gets a fresh value, which only costs misses).
	GenerationTTL time.Duration
}

// Redis is the Store shared by every instance through Redis.
//
// Every key is under the prefix: "<prefix>g:<generation>" holds a
// generation's value (a random token, never a counter that could restart
// after an eviction), "<prefix>e:<entry>" holds "<tag><body>", where tag
// lists the generation values the body was read under. A read is one
// MGET (generations and entry, compared here); a store is one Lua script
// that compares the tag inside Redis, so a stale body is never stored.
//
// Faults: any Redis error makes the store answer ErrUnavailable (skip the
// cache) until the Breaker lets a call through again, and marks the store
// as needing a resync: before Redis is read again, the epoch is bumped,
// which invalidates every entry, because an invalidation may have been
// lost during the outage (see Bump). A background goroutine does the
// resync as soon as Redis answers; Close stops it.
type Redis struct {
	client  redis.Cmdable
	breaker *redisconn.Breaker
	prefix  string
	genTTL  time.Duration

	resyncMu  sync.Mutex
	pending   atomic.Bool   // the epoch must be bumped before Redis is read
	failures  atomic.Uint64 // failed calls so far
	running   atomic.Bool   // the resync goroutine runs
	done      chan struct{}
	closeOnce sync.Once
}

var _ Store = (*Redis)(nil)

// NewRedis returns a Store on client. It does not contact Redis: a first
// resync (epoch bump, see Redis) runs in the background at once, and
// entries are read from Redis only after it succeeded.
func NewRedis(client redis.Cmdable, opts RedisOptions) *Redis {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.GenerationTTL <= 0 {
		opts.GenerationTTL = DefaultGenerationTTL
	}
	if opts.Breaker == nil {
		opts.Breaker = redisconn.NewBreaker(opts.Log, redisconn.BreakerOptions{Name: "redis (cache)"})
	}
	r := &Redis{
		client:  client,
		breaker: opts.Breaker,
		prefix:  opts.Prefix,
		genTTL:  opts.GenerationTTL,
		done:    make(chan struct{}),
	}
	// An outage noticed by another user of the Breaker (the rate limiter,
	// a health watch) may have hidden a lost invalidation as well.
	r.breaker.OnChange(func(up bool) {
		if !up {
			r.markPending()
		}
	})
	// At start, this process cannot know whether an earlier one lost an
	// invalidation before it stopped: resync first.
	r.markPending()
	return r
}

// Close stops the background resync.
func (r *Redis) Close() error {
	r.closeOnce.Do(func() { close(r.done) })
	return nil
}

// Ready reports whether reads go to Redis now: it is up and resynced.
func (r *Redis) Ready() bool { return r.breaker.Up() && !r.pending.Load() }

// readScript: KEYS = generation keys..., entry key; ARGV = a fresh token
// for missing generations, their TTL in ms. Returns {tag} or {tag, body}.
var readScript = redis.NewScript(`
local n = #KEYS
local tag = ''
for i = 1, n - 1 do
  local g = redis.call('GET', KEYS[i])
  if not g then
    g = ARGV[1]
    redis.call('SET', KEYS[i], g, 'PX', ARGV[2])
  end
  tag = tag .. g .. ':'
end
local v = redis.call('GET', KEYS[n])
if v and string.sub(v, 1, #tag) == tag then
  return {tag, string.sub(v, #tag + 1)}
end
return {tag}
`)

// storeScript: KEYS as readScript; ARGV = tag, tag..body, entry TTL in ms,
// generation TTL in ms (at least twice the entry's, so generations outlive
// the entries that use them). Stores only if tag is still current.
var storeScript = redis.NewScript(`
local n = #KEYS
local tag = ''
for i = 1, n - 1 do
  local g = redis.call('GET', KEYS[i])
  if not g then return 0 end
  tag = tag .. g .. ':'
end
if tag ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[n], ARGV[2], 'PX', ARGV[3])
for i = 1, n - 1 do
  redis.call('PEXPIRE', KEYS[i], ARGV[4])
end
return 1
`)

// Get implements Store. It answers ErrUnavailable without calling Redis
// while Redis is down or not yet resynced.
//
// One round trip (MGET of the generations and the entry) when every
// generation exists, which is nearly always; a second one (readScript)
// creates the missing ones.
func (r *Redis) Get(ctx context.Context, key Key) (string, []byte, error) {
	if !r.usable() {
		return "", nil, ErrUnavailable
	}
	keys := r.keys(key)
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err := r.record(ctx, err); err != nil {
		return "", nil, err
	}
	if len(vals) != len(keys) {
		return "", nil, fmt.Errorf("cache: MGET answered %d values for %d keys", len(vals), len(keys))
	}
	var b strings.Builder
	for _, v := range vals[:len(vals)-1] {
		g, ok := v.(string)
		if !ok {
			return r.getCreating(ctx, keys)
		}
		b.WriteString(g)
		b.WriteByte(':')
	}
	tag := b.String()
	if v, ok := vals[len(vals)-1].(string); ok && strings.HasPrefix(v, tag) {
		return tag, []byte(v[len(tag):]), nil
	}
	return tag, nil, nil
}

// getCreating is Get when a generation is missing: readScript creates it
// (atomically: two readers cannot both create one) and reads the entry.
func (r *Redis) getCreating(ctx context.Context, keys []string) (string, []byte, error) {
	res, err := readScript.Run(ctx, r.client, keys, token(), r.genTTL.Milliseconds()).Slice()
	if err := r.record(ctx, err); err != nil {
		return "", nil, err
	}
	if len(res) == 0 {
		return "", nil, fmt.Errorf("cache: unexpected reply %v", res)
	}
	tag, ok := res[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("cache: unexpected reply %v", res)
	}
	if len(res) < 2 {
		return tag, nil, nil
	}
	body, ok := res[1].(string)
	if !ok {
		return "", nil, fmt.Errorf("cache: unexpected reply %v", res)
	}
	return tag, []byte(body), nil
}

// Set implements Store.
func (r *Redis) Set(ctx context.Context, key Key, tag string, body []byte, ttl time.Duration) error {
	if !r.usable() {
		return ErrUnavailable
	}
	val := make([]byte, 0, len(tag)+len(body))
	val = append(append(val, tag...), body...)
	err := storeScript.Run(ctx, r.client, r.keys(key), tag, val, ttl.Milliseconds(), max(r.genTTL, 2*ttl).Milliseconds()).Err()
	return r.record(ctx, err)
}

// Bump implements Store. It always calls Redis, even while the Breaker
// says it is down (a lost invalidation is worse than a slow write), and
// detaches from ctx's cancellation: a client that hangs up right after its
// write must not cancel the invalidation. If the bump fails, the store
// resyncs (bumps the epoch) before it reads Redis again. If an earlier
// failure is not resynced yet, the epoch is bumped instead of gens.
func (r *Redis) Bump(ctx context.Context, gens ...string) error {
	ctx = context.WithoutCancel(ctx)
	if r.pending.Load() {
		gens = []string{Epoch}
	}
	tok := token()
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, g := range gens {
			p.Set(ctx, r.prefix+"g:"+g, tok, r.genTTL)
		}
		return nil
	})
	return r.record(ctx, err)
}

func (r *Redis) keys(key Key) []string {
	keys := make([]string, 0, len(key.Gens)+1)
	for _, g := range key.Gens {
		keys = append(keys, r.prefix+"g:"+g)
	}
	return append(keys, r.prefix+"e:"+key.Entry)
}

// usable reports whether a read or store may go to Redis now.
func (r *Redis) usable() bool {
	return !r.pending.Load() && r.breaker.Allow()
}

// record reports err to the Breaker and, if Redis failed, schedules a
// resync. A failure caused by the caller's own context is not Redis's.
func (r *Redis) record(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		_ = r.breaker.Record(ctx, nil)
		return nil
	}
	_ = r.breaker.Record(ctx, err)
	if ctx.Err() == nil {
		r.markPending()
	}
	return err
}

func (r *Redis) markPending() {
	r.failures.Add(1)
	r.pending.Store(true)
	if r.running.CompareAndSwap(false, true) {
		go r.resyncLoop()
	}
}

// resyncLoop bumps the epoch, every Retry interval until it succeeds.
func (r *Redis) resyncLoop() {
	for {
		if r.resync() {
			r.running.Store(false)
			// A failure that came in meanwhile found the loop running and
			// left the work to it: take it up, unless another loop did.
			if !r.pending.Load() || !r.running.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		select {
		case <-r.done:
			r.running.Store(false)
			return
		case <-time.After(r.breaker.Retry()):
		}
	}
}

// resync bumps the epoch once. It reports whether nothing is pending any
// more: the bump worked and no call failed meanwhile.
func (r *Redis) resync() bool {
	r.resyncMu.Lock()
	defer r.resyncMu.Unlock()
	if !r.pending.Load() {
		return true
	}
	before := r.failures.Load()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := r.client.Set(ctx, r.prefix+"g:"+Epoch, token(), r.genTTL).Err()
	_ = r.breaker.Record(ctx, err)
	if err != nil || r.failures.Load() != before {
		return false
	}
	r.pending.Store(false)
	return true
}

// token is a fresh generation value: 64 random bits, so values are
// unique across instances and restarts without coordination.
func token() string {
	return strconv.FormatUint(rand.Uint64(), 36) //nolint:gosec // uniqueness, not secrecy
}
