package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"myapi/internal/cache"
	"myapi/internal/redisconn"
	"myapi/internal/redisconn/redistest"
)

// loader counts its calls and returns body (or err).
type loader struct {
	calls atomic.Int64
	delay time.Duration
	mu    sync.Mutex
	body  string
	err   error
}

func (l *loader) set(body string) {
	l.mu.Lock()
	l.body = body
	l.mu.Unlock()
}

func (l *loader) load(context.Context) ([]byte, error) {
	l.calls.Add(1)
	time.Sleep(l.delay)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	return []byte(l.body), nil
}

// results counts OnResult calls.
type results struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *results) add(s string) {
	r.mu.Lock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[s]++
	r.mu.Unlock()
}

func (r *results) get(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[s]
}

func forEachCache(t *testing.T, fn func(t *testing.T, c *cache.Cache, res *results)) {
	t.Helper()
	forEachStore(t, func(t *testing.T, s cache.Store) {
		res := &results{}
		fn(t, cache.New(s, cache.Options{TTL: time.Minute, OnResult: res.add}), res)
	})
}

func item(t *testing.T, c *cache.Cache, id int64, l *loader) (string, bool) {
	t.Helper()
	b, hit, err := getItem(context.Background(), c, id, l.load)
	if err != nil {
		t.Fatalf("Item(%d): %v", id, err)
	}
	return string(b), hit
}

func list(t *testing.T, c *cache.Cache, skip, limit int64, l *loader) (string, bool) {
	t.Helper()
	b, hit, err := getList(context.Background(), c, skip, limit, l.load)
	if err != nil {
		t.Fatalf("List(%d, %d): %v", skip, limit, err)
	}
	return string(b), hit
}

func TestCacheMissThenHit(t *testing.T) {
	forEachCache(t, func(t *testing.T, c *cache.Cache, res *results) {
		l := &loader{body: "{\"id\":1}\n"}
		first, hit := item(t, c, 1, l)
		if hit {
			t.Fatal("first read was a hit")
		}
		second, hit := item(t, c, 1, l)
		if !hit || second != first {
			t.Fatalf("second read: hit=%v body %q, want a hit with %q", hit, second, first)
		}
		if l.calls.Load() != 1 {
			t.Fatalf("loaded %d times, want 1", l.calls.Load())
		}
		if res.get(cache.ResultHit) != 1 || res.get(cache.ResultMiss) != 1 {
			t.Fatalf("results %v", res.n)
		}
		if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || st.Errors != 0 {
			t.Fatalf("stats %+v", st)
		}
		// Pages are cached per skip and limit.
		pl := &loader{body: "[]\n"}
		list(t, c, 0, 10, pl)
		list(t, c, 0, 10, pl)
		list(t, c, 0, 5, pl)
		if pl.calls.Load() != 2 {
			t.Fatalf("pages loaded %d times, want 2", pl.calls.Load())
		}
	})
}

func TestCacheInvalidation(t *testing.T) {
	tests := []struct {
		name      string
		write     func(c *cache.Cache)
		itemFresh bool // item 1 must be reloaded
		otherItem bool // item 2 must be reloaded
		listFresh bool
	}{
		{"create", func(c *cache.Cache) { c.Invalidate(context.Background(), "list") }, false, false, true},
		{"update or delete", func(c *cache.Cache) { c.Invalidate(context.Background(), "list", "item:1") }, true, false, true},
		{"everything", func(c *cache.Cache) { c.Invalidate(context.Background(), cache.Epoch) }, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachCache(t, func(t *testing.T, c *cache.Cache, _ *results) {
				i1, i2, pg := &loader{body: "one v1"}, &loader{body: "two v1"}, &loader{body: "page v1"}
				item(t, c, 1, i1)
				item(t, c, 2, i2)
				list(t, c, 0, 10, pg)
				i1.set("one v2")
				i2.set("two v2")
				pg.set("page v2")
				tt.write(c)
				check := func(what string, got string, hit bool, fresh bool, want string) {
					t.Helper()
					if fresh && (hit || got != want) {
						t.Errorf("%s: got %q (hit %v), want %q from the database", what, got, hit, want)
					}
					if !fresh && !hit {
						t.Errorf("%s: invalidated needlessly", what)
					}
				}
				got, hit := item(t, c, 1, i1)
				check("item 1", got, hit, tt.itemFresh, "one v2")
				got, hit = item(t, c, 2, i2)
				check("item 2", got, hit, tt.otherItem, "two v2")
				got, hit = list(t, c, 0, 10, pg)
				check("list", got, hit, tt.listFresh, "page v2")
			})
		})
	}
}

var errNotFound = errors.New("item not found")

func TestCacheDoesNotCacheErrors(t *testing.T) {
	forEachCache(t, func(t *testing.T, c *cache.Cache, _ *results) {
		l := &loader{err: errNotFound}
		for i := 0; i < 2; i++ {
			if _, _, err := getItem(context.Background(), c, 5, l.load); !errors.Is(err, errNotFound) {
				t.Fatalf("err = %v, want the loader's", err)
			}
		}
		if l.calls.Load() != 2 {
			t.Fatalf("loaded %d times, want 2: errors must not be cached", l.calls.Load())
		}
	})
}

func TestCacheConcurrentMissesLoadOnce(t *testing.T) {
	forEachCache(t, func(t *testing.T, c *cache.Cache, _ *results) {
		l := &loader{body: "shared", delay: 200 * time.Millisecond}
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 100)
		for i := 0; i < 100; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				b, _, err := getItem(context.Background(), c, 7, l.load)
				if err == nil && string(b) != "shared" {
					err = fmt.Errorf("body %q", b)
				}
				if err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := l.calls.Load(); n != 1 {
			t.Fatalf("100 concurrent misses loaded %d times, want 1", n)
		}
	})
}

// A reader that starts after a write returned never shares the database
// read of a reader that started before it.
func TestCacheReaderAfterWriteDoesNotJoinOlderRead(t *testing.T) {
	forEachCache(t, func(t *testing.T, c *cache.Cache, _ *results) {
		release := make(chan struct{})
		started := make(chan struct{})
		slowOld := func(context.Context) ([]byte, error) {
			close(started)
			<-release
			return []byte("old"), nil
		}
		done := make(chan string)
		go func() {
			b, _, _ := getItem(context.Background(), c, 9, slowOld)
			done <- string(b)
		}()
		<-started
		c.Invalidate(context.Background(), "list", "item:9") // the write returns
		fresh := &loader{body: "new"}
		if got, hit := item(t, c, 9, fresh); got != "new" || hit {
			t.Fatalf("reader after the write got %q (hit %v), want a fresh read", got, hit)
		}
		close(release)
		<-done // the old reader gets "old": it was concurrent with the write
		if got, _ := item(t, c, 9, fresh); got != "new" {
			t.Fatalf("after the old reader finished, got %q: its stale read was cached", got)
		}
	})
}

func TestCacheNilIsValid(t *testing.T) {
	var c *cache.Cache
	l := &loader{body: "x"}
	for i := 0; i < 2; i++ {
		if got, hit := item(t, c, 1, l); got != "x" || hit {
			t.Fatalf("nil cache: %q hit %v", got, hit)
		}
	}
	c.Invalidate(context.Background(), "list")
	c.Invalidate(context.Background(), "list", "item:1")
	c.Invalidate(context.Background(), cache.Epoch)
	if l.calls.Load() != 2 || c.Stats() != (cache.Stats{}) {
		t.Fatal("a nil cache must call the loader every time")
	}
}

func TestCacheSkipsHugeBodies(t *testing.T) {
	c := cache.New(cache.NewMemory(cache.MemoryOptions{}), cache.Options{MaxBodyBytes: 10})
	l := &loader{body: strings.Repeat("x", 11)}
	item(t, c, 1, l)
	if _, hit := item(t, c, 1, l); hit {
		t.Fatal("a body over MaxBodyBytes was cached")
	}
}

func TestCacheLoaderPanicReachesTheCaller(t *testing.T) {
	c := cache.New(cache.NewMemory(cache.MemoryOptions{}), cache.Options{})
	defer func() {
		v := recover()
		if v == nil || !strings.Contains(fmt.Sprint(v), "kaboom") {
			t.Fatalf("recovered %v, want the loader's panic", v)
		}
	}()
	_, _, _ = getItem(context.Background(), c, 1, func(context.Context) ([]byte, error) { panic("kaboom") })
}

// failingStore fails every call.
type failingStore struct{ calls atomic.Int64 }

var errStore = errors.New("store down")

func (f *failingStore) Get(context.Context, cache.Key) (string, []byte, error) {
	f.calls.Add(1)
	return "", nil, errStore
}

func (f *failingStore) Set(context.Context, cache.Key, string, []byte, time.Duration) error {
	f.calls.Add(1)
	return errStore
}

func (f *failingStore) Bump(context.Context, ...string) error {
	f.calls.Add(1)
	return errStore
}

func TestCacheBypassesAFailingStore(t *testing.T) {
	res := &results{}
	c := cache.New(&failingStore{}, cache.Options{OnResult: res.add})
	l := &loader{body: "from the database"}
	for i := 0; i < 3; i++ {
		if got, hit := item(t, c, 1, l); got != "from the database" || hit {
			t.Fatalf("got %q hit %v", got, hit)
		}
	}
	c.Invalidate(context.Background(), "list", "item:1") // must not panic or block
	if res.get(cache.ResultBypass) != 3 || res.get(cache.ResultError) != 4 || res.get(cache.ResultHit) != 0 {
		t.Fatalf("results %v", res.n)
	}
}

// redisStoreVia returns a Redis store whose client goes through proxy,
// with redisconn's real short timeouts, a fast retry and, like cmd/myapi,
// commands autopipelined.
func redisStoreVia(t *testing.T, url, prefix string) (*cache.Redis, *redisconn.Breaker) {
	t.Helper()
	client := redistest.Client(t, url, true)
	breaker := redisconn.NewBreaker(slog.New(slog.DiscardHandler), redisconn.BreakerOptions{Retry: 50 * time.Millisecond})
	s := cache.NewRedis(autopipelined(t, client), cache.RedisOptions{Prefix: prefix, Breaker: breaker})
	t.Cleanup(func() { _ = s.Close() })
	waitReady(t, s)
	return s, breaker
}

// An invalidation lost while Redis was unreachable (Redis kept its data)
// must not let the old entry be served once Redis is back: the store bumps
// the epoch before reading Redis again.
func TestRedisStoreNoStaleEntryAfterOutage(t *testing.T) {
	srv := redistest.StartServer(t)
	proxy := redistest.StartProxy(t, srv.Addr())
	prefix := redistest.Prefix()
	a, breaker := redisStoreVia(t, proxy.URL(0), prefix)
	// b reaches Redis directly: another instance that saw no outage.
	b, _ := redisStoreVia(t, srv.URL(), prefix)
	ca := cache.New(a, cache.Options{})
	cb := cache.New(b, cache.Options{})

	l := &loader{body: "v1"}
	item(t, ca, 1, l)
	if _, hit := item(t, ca, 1, l); !hit {
		t.Fatal("no hit before the outage")
	}

	proxy.Cut()
	l.set("v2")
	start := time.Now()
	for i := 0; i < 20; i++ {
		if got, hit := item(t, ca, 1, l); got != "v2" || hit {
			t.Fatalf("during the outage: %q hit %v, want v2 from the database", got, hit)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 reads during the outage took %v", d)
	}
	if breaker.Up() || a.Ready() {
		t.Fatal("the outage went unnoticed")
	}
	ca.Invalidate(context.Background(), "list", "item:1") // the write's invalidation is lost
	if st := ca.Stats(); st.Errors == 0 || st.Bypasses == 0 {
		t.Fatalf("stats %+v: the outage was not counted", st)
	}

	proxy.Restore()
	waitReady(t, a)
	if got, _ := item(t, ca, 1, l); got != "v2" {
		t.Fatalf("after the outage instance A read %q, want v2", got)
	}
	if got, _ := item(t, cb, 1, l); got != "v2" {
		t.Fatalf("after the outage instance B read %q, want v2", got)
	}
	if _, hit := item(t, ca, 1, l); !hit {
		t.Fatal("Redis not used again after the outage")
	}
}

// An outage reported by another user of the Breaker (the rate limiter, a
// health watch) also makes the store resync before reading again.
func TestRedisStoreResyncsAfterAnOutageSeenByOthers(t *testing.T) {
	client, prefix := redistest.Shared(t)
	breaker := redisconn.NewBreaker(slog.New(slog.DiscardHandler), redisconn.BreakerOptions{Retry: 20 * time.Millisecond})
	s := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix, Breaker: breaker})
	defer s.Close()
	waitReady(t, s)
	c := cache.New(s, cache.Options{})
	l := &loader{body: "v1"}
	item(t, c, 1, l)
	_ = breaker.Record(context.Background(), errors.New("rate limiter: i/o timeout"))
	waitReady(t, s)
	if _, hit := item(t, c, 1, l); hit {
		t.Fatal("entry from before the outage served")
	}
}

// A new instance resyncs at start: it cannot know whether the instance it
// replaces lost an invalidation.
func TestRedisStoreResyncsAtStart(t *testing.T) {
	client, prefix := redistest.Shared(t)
	first := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix})
	defer first.Close()
	waitReady(t, first)
	c := cache.New(first, cache.Options{})
	l := &loader{body: "v1"}
	item(t, c, 1, l)
	second := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix})
	defer second.Close()
	waitReady(t, second)
	if _, hit := item(t, c, 1, l); hit {
		t.Fatal("entry from before a new instance's start served")
	}
}

func BenchmarkCacheItemHit(b *testing.B) {
	body := []byte(`{"id":1,"title":"Desk lamp","description":"Brass, 1950s","price":49.5,"owner_id":1}` + "\n")
	load := func(context.Context) ([]byte, error) { return body, nil }
	run := func(b *testing.B, s cache.Store) {
		c := cache.New(s, cache.Options{})
		ctx := context.Background()
		if _, _, err := getItem(ctx, c, 1, load); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetParallelism(16) // concurrent requests, as in a server
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, hit, err := getItem(ctx, c, 1, load); err != nil || !hit {
					b.Fatalf("hit %v err %v", hit, err)
				}
			}
		})
	}
	b.Run("memory", func(b *testing.B) { run(b, cache.NewMemory(cache.MemoryOptions{})) })
	b.Run("redis", func(b *testing.B) {
		client, prefix := redistest.Shared(b)
		s := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix})
		defer s.Close()
		waitReady(b, s)
		run(b, s)
	})
}

// Every key the Redis store writes expires: reads of ids that never exist
// leave only short-lived generations, and generations outlive the entries
// that use them.
func TestRedisStoreKeysExpire(t *testing.T) {
	client, prefix := redistest.Shared(t)
	s := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix, GenerationTTL: time.Minute})
	defer s.Close()
	waitReady(t, s)
	c := cache.New(s, cache.Options{TTL: 5 * time.Minute})
	ctx := context.Background()
	if _, _, err := getItem(ctx, c, 404, (&loader{err: errNotFound}).load); !errors.Is(err, errNotFound) {
		t.Fatal(err)
	}
	item(t, c, 1, &loader{body: "x"})
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{ // key -> least TTL
		prefix + "g:item:404": 50 * time.Second,
		prefix + "g:item:1":   9 * time.Minute,
		prefix + "g:epoch":    9 * time.Minute,
		prefix + "e:item:1":   4 * time.Minute,
	}
	if len(keys) != len(want) {
		t.Errorf("keys %v, want %d", keys, len(want))
	}
	for key, least := range want {
		ttl, err := client.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < least || ttl > 10*time.Minute {
			t.Errorf("%s expires in %v, want %v..10m", strings.TrimPrefix(key, prefix), ttl, least)
		}
	}
}

// getItem looks item id up the way GET /items/{id} does.
func getItem(ctx context.Context, c *cache.Cache, id int64, load cache.Loader) ([]byte, bool, error) {
	g := "item:" + strconv.FormatInt(id, 10)
	return c.Lookup(ctx, g, []string{g}, load)
}

// getList looks a page of the list up the way GET /items does.
func getList(ctx context.Context, c *cache.Cache, skip, limit int64, load cache.Loader) ([]byte, bool, error) {
	return c.Lookup(ctx, "list:"+strconv.FormatInt(skip, 10)+":"+strconv.FormatInt(limit, 10), []string{"list"}, load)
}
