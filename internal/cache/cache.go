// Package cache keeps encoded item responses (GET /items/{item_id} and
// GET /items?skip&limit) for CACHE_TTL_SECONDS, in Redis when REDIS_URL is
// set (shared by every instance) or in process otherwise (bounded memory).
//
// # Invalidation without races
//
// Every response depends on generations: an item on the epoch and its own
// generation ("item:<id>"), a page of the list on the epoch and the list's
// generation ("list"). A Store keeps one opaque value per generation and
// tags every entry with the values it was read under. Then:
//
//  1. A read first gets the current tag (and, in the same round trip, the
//     entry, returned only if it carries that tag).
//  2. On a miss it reads the database, and stores the body under the tag
//     from step 1, only if that tag is still current (checked atomically
//     in the store).
//  3. A write bumps the generations it affects (create: the list; update
//     and delete: the list and the item) after its database commit and
//     before it returns.
//
// A reader that starts after a write returned sees the new generation
// values, so it can only match entries stored under them; an entry stored
// under a tag was read from the database after that tag became current,
// which is after the write's commit. The classic race (a reader that read
// the old row before the write stores it after the invalidation) cannot
// serve stale data: its tag is old, so the store refuses it, and even if it
// were stored nobody would look it up under that tag. Generation values
// are never reused (Store's contract), so evictions and expiries are safe.
//
// Concurrent misses on one entry and one tag share one database read
// (singleflight); a reader with a newer tag never joins an older read.
//
// # Faults
//
// A Store error (Redis down or slow) is never a request error: the request
// is served from the database and marked a miss. See Redis for what happens
// to invalidations lost during an outage.
package cache

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"myapi/internal/redisconn"
)

// ErrUnavailable is what a Store answers when it skips a call because its
// backend is known to be down: not a new error, nothing to count.
var ErrUnavailable = redisconn.ErrUnavailable

// Results passed to Options.OnResult.
const (
	ResultHit    = "hit"    // served from the cache
	ResultMiss   = "miss"   // not cached yet: read from the database, then stored
	ResultBypass = "bypass" // the store failed or is down: read from the database
	ResultError  = "error"  // a store call failed (counted besides the lookup's result)
)

// DefaultTTL is how long a response stays fresh unless invalidated.
const DefaultTTL = 60 * time.Second

// DefaultMaxBodyBytes is the largest response that is cached.
const DefaultMaxBodyBytes = 1 << 20

// Options tune a Cache.
type Options struct {
	// TTL is how long a response is served from the cache; 0 means
	// DefaultTTL. Writes invalidate sooner.
	TTL time.Duration
	// MaxBodyBytes: larger responses are not cached; 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int
	// OnResult, if set, is called once per lookup with ResultHit,
	// ResultMiss or ResultBypass, and once per failed store call with
	// ResultError (for a metrics counter). It must be quick.
	OnResult func(result string)
}

// Loader reads a response from the database and encodes it.
type Loader func(ctx context.Context) ([]byte, error)

// Stats counts what a Cache did since it was made.
type Stats struct {
	Hits, Misses, Bypasses, Errors uint64
}

// Cache serves item responses from a Store. A nil *Cache is valid and
// caches nothing: lookups call the loader, invalidations do nothing.
type Cache struct {
	store    Store
	ttl      time.Duration
	maxBody  int
	onResult func(string)
	flight   singleflight.Group

	hits, misses, bypasses, errors atomic.Uint64
}

// New returns a Cache over store.
func New(store Store, opts Options) *Cache {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.TTL < time.Millisecond {
		opts.TTL = time.Millisecond
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return &Cache{store: store, ttl: opts.TTL, maxBody: opts.MaxBodyBytes, onResult: opts.OnResult}
}

// Generation names.
const genList = "list"

func genItem(id int64) string { return "item:" + strconv.FormatInt(id, 10) }

// Item returns the response for GET /items/{id}: from the cache (hit
// true), or from load, which is then cached. load's errors (such as "not
// found") are returned as they are and not cached.
func (c *Cache) Item(ctx context.Context, id int64, load Loader) (body []byte, hit bool, err error) {
	g := genItem(id)
	return c.get(ctx, Key{Entry: g, Gens: []string{Epoch, g}}, load)
}

// List returns the response for GET /items?skip&limit, like Item.
func (c *Cache) List(ctx context.Context, skip, limit int64, load Loader) (body []byte, hit bool, err error) {
	entry := "list:" + strconv.FormatInt(skip, 10) + ":" + strconv.FormatInt(limit, 10)
	return c.get(ctx, Key{Entry: entry, Gens: []string{Epoch, genList}}, load)
}

// ItemCreated invalidates what a new item changes: every page of the list.
// Call it after the database write, before responding.
func (c *Cache) ItemCreated(ctx context.Context) {
	c.bump(ctx, genList)
}

// ItemChanged invalidates what an update or deletion of item id changes:
// the item and every page of the list. Call it after the database write
// (also when the write failed: it may have committed), before responding.
func (c *Cache) ItemChanged(ctx context.Context, id int64) {
	c.bump(ctx, genList, genItem(id))
}

// InvalidateAll invalidates every cached response, e.g. after a user and
// all their items were deleted.
func (c *Cache) InvalidateAll(ctx context.Context) {
	c.bump(ctx, Epoch)
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	if c == nil {
		return Stats{}
	}
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), Bypasses: c.bypasses.Load(), Errors: c.errors.Load()}
}

func (c *Cache) bump(ctx context.Context, gens ...string) {
	if c == nil {
		return
	}
	if err := c.store.Bump(context.WithoutCancel(ctx), gens...); err != nil {
		c.count(ResultError)
	}
}

func (c *Cache) get(ctx context.Context, key Key, load Loader) ([]byte, bool, error) {
	if c == nil {
		b, err := load(ctx)
		return b, false, err
	}
	tag, body, err := c.store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, ErrUnavailable) {
			c.count(ResultError)
		}
		c.count(ResultBypass)
		b, err := load(ctx)
		return b, false, err
	}
	if body != nil {
		c.count(ResultHit)
		return body, true, nil
	}
	c.count(ResultMiss)
	// The flight is keyed by the tag read before the database: a reader
	// that got a newer tag (after a write) never shares an older read.
	ch := c.flight.DoChan(key.Entry+"\x00"+tag, func() (any, error) {
		return c.fill(ctx, key, tag, load)
	})
	select {
	case r := <-ch:
		var p *panicked
		if errors.As(r.Err, &p) {
			panic(p.String())
		}
		if r.Err != nil {
			return nil, false, r.Err
		}
		return r.Val.([]byte), false, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// fill loads a response and stores it under tag. It runs once for all the
// readers of a flight, so it does not stop when the first one's client
// goes away, only at its deadline.
func (c *Cache) fill(ctx context.Context, key Key, tag string, load Loader) (b []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{value: v, stack: debug.Stack()}
		}
	}()
	lctx := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		lctx, cancel = context.WithDeadline(lctx, deadline)
		defer cancel()
	}
	// A reader that saw the miss just before an earlier flight stored its
	// result may start this flight just after that one ended: look again
	// before going to the database, so that concurrent misses reach it
	// once even when readers are slow to be scheduled.
	if _, cached, err := c.store.Get(lctx, key); err == nil && cached != nil {
		return cached, nil
	}
	b, err = load(lctx)
	if err != nil {
		return nil, err
	}
	if len(b) <= c.maxBody {
		if err := c.store.Set(lctx, key, tag, b, c.ttl); err != nil && !errors.Is(err, ErrUnavailable) {
			c.count(ResultError)
		}
	}
	return b, nil
}

func (c *Cache) count(result string) {
	switch result {
	case ResultHit:
		c.hits.Add(1)
	case ResultMiss:
		c.misses.Add(1)
	case ResultBypass:
		c.bypasses.Add(1)
	case ResultError:
		c.errors.Add(1)
	}
	if c.onResult != nil {
		c.onResult(result)
	}
}

// panicked carries a loader's panic to the readers of its flight, who
// panic again in their own goroutine, where the server's recovery
// middleware handles it (singleflight's DoChan would crash the process).
type panicked struct {
	value any
	stack []byte
}

func (p *panicked) Error() string  { return p.String() }
func (p *panicked) String() string { return fmt.Sprintf("%v\n\nloader stack:\n%s", p.value, p.stack) }
