package cache_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"myapi/internal/cache"
	"myapi/internal/redisconn"
	"myapi/internal/redisconn/redistest"
)

// store is one Store implementation under test.
type store struct {
	name string
	open func(t *testing.T) cache.Store
}

// stores lists the in-process store always and the Redis one when
// TEST_REDIS_URL is set (each Redis store under a fresh key prefix).
func stores(t *testing.T) []store {
	list := []store{{"memory", func(*testing.T) cache.Store { return cache.NewMemory(cache.MemoryOptions{}) }}}
	if redistest.Available(t) {
		list = append(list,
			store{"redis", func(t *testing.T) cache.Store { return openRedisStore(t, false) }},
			store{"redis autopipelined", func(t *testing.T) cache.Store { return openRedisStore(t, true) }})
	}
	return list
}

// openRedisStore opens a Redis store on the shared test server, through the
// client itself or through its autopipeliner (as cmd/myapi does).
func openRedisStore(t *testing.T, batched bool) cache.Store {
	t.Helper()
	c, prefix := redistest.Shared(t)
	breaker := redisconn.NewBreaker(slog.New(slog.DiscardHandler), redisconn.BreakerOptions{Retry: 50 * time.Millisecond})
	var cmds redis.Cmdable = c
	if batched {
		cmds = autopipelined(t, c)
	}
	s := cache.NewRedis(cmds, cache.RedisOptions{Prefix: prefix, Breaker: breaker})
	t.Cleanup(func() { _ = s.Close() })
	waitReady(t, s)
	return s
}

// autopipelined returns c's autopipeliner, as cmd/myapi uses it.
func autopipelined(t testing.TB, c *redis.Client) redis.Cmdable {
	t.Helper()
	ap, err := redisconn.AutoPipelined(c)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

// waitReady waits for a Redis store's first resync.
func waitReady(t testing.TB, s *cache.Redis) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the Redis store did not become ready within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func forEachStore(t *testing.T, fn func(t *testing.T, s cache.Store)) {
	t.Helper()
	for _, st := range stores(t) {
		t.Run(st.name, func(t *testing.T) {
			t.Parallel()
			fn(t, st.open(t))
		})
	}
}

func itemKey(id int) cache.Key {
	g := fmt.Sprintf("item:%d", id)
	return cache.Key{Entry: g, Gens: []string{cache.Epoch, g}}
}

func listKey(skip, limit int) cache.Key {
	return cache.Key{Entry: fmt.Sprintf("list:%d:%d", skip, limit), Gens: []string{cache.Epoch, "list"}}
}

func mustGet(t *testing.T, s cache.Store, k cache.Key) (string, []byte) {
	t.Helper()
	tag, body, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get(%s): %v", k.Entry, err)
	}
	if tag == "" {
		t.Fatalf("Get(%s): empty tag", k.Entry)
	}
	return tag, body
}

func mustSet(t *testing.T, s cache.Store, k cache.Key, tag, body string, ttl time.Duration) {
	t.Helper()
	if err := s.Set(context.Background(), k, tag, []byte(body), ttl); err != nil {
		t.Fatalf("Set(%s): %v", k.Entry, err)
	}
}

func mustBump(t *testing.T, s cache.Store, gens ...string) {
	t.Helper()
	if err := s.Bump(context.Background(), gens...); err != nil {
		t.Fatalf("Bump(%v): %v", gens, err)
	}
}

func TestStoreContract(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, s cache.Store)
	}{
		{"miss, set, hit", func(t *testing.T, s cache.Store) {
			k := itemKey(1)
			tag, body := mustGet(t, s, k)
			if body != nil {
				t.Fatalf("hit on an empty store: %q", body)
			}
			mustSet(t, s, k, tag, `{"id":1}`, time.Minute)
			tag2, body := mustGet(t, s, k)
			if string(body) != `{"id":1}` || tag2 != tag {
				t.Fatalf("got %q under %q, want the stored body under %q", body, tag2, tag)
			}
		}},
		{"bump invalidates the entry and changes the tag", func(t *testing.T, s cache.Store) {
			k := itemKey(2)
			tag, _ := mustGet(t, s, k)
			mustSet(t, s, k, tag, "old", time.Minute)
			mustBump(t, s, "item:2")
			tag2, body := mustGet(t, s, k)
			if body != nil || tag2 == tag {
				t.Fatalf("after a bump: body %q, tag %q (was %q)", body, tag2, tag)
			}
		}},
		{"the classic race: a read from before a write is not stored after it", func(t *testing.T, s cache.Store) {
			k := itemKey(3)
			tag, _ := mustGet(t, s, k) // reader: miss, reads the old row ...
			mustBump(t, s, "item:3")   // ... a write commits and invalidates ...
			mustSet(t, s, k, tag, "old row", time.Minute)
			if _, body := mustGet(t, s, k); body != nil {
				t.Fatalf("stale body served: %q", body)
			}
		}},
		{"a stale store does not clobber a fresh entry", func(t *testing.T, s cache.Store) {
			k := itemKey(4)
			oldTag, _ := mustGet(t, s, k)
			mustBump(t, s, "item:4")
			newTag, _ := mustGet(t, s, k)
			mustSet(t, s, k, newTag, "new row", time.Minute)
			mustSet(t, s, k, oldTag, "old row", time.Minute)
			if _, body := mustGet(t, s, k); string(body) != "new row" {
				t.Fatalf("got %q, want the new row", body)
			}
		}},
		{"bumping one item leaves the others", func(t *testing.T, s cache.Store) {
			a, b := itemKey(5), itemKey(6)
			ta, _ := mustGet(t, s, a)
			tb, _ := mustGet(t, s, b)
			mustSet(t, s, a, ta, "a", time.Minute)
			mustSet(t, s, b, tb, "b", time.Minute)
			mustBump(t, s, "item:5")
			if _, body := mustGet(t, s, b); string(body) != "b" {
				t.Fatalf("item 6 lost: %q", body)
			}
		}},
		{"list generation covers every page", func(t *testing.T, s cache.Store) {
			p1, p2 := listKey(0, 10), listKey(10, 10)
			t1, _ := mustGet(t, s, p1)
			t2, _ := mustGet(t, s, p2)
			mustSet(t, s, p1, t1, "page 1", time.Minute)
			mustSet(t, s, p2, t2, "page 2", time.Minute)
			mustBump(t, s, "list")
			for _, k := range []cache.Key{p1, p2} {
				if _, body := mustGet(t, s, k); body != nil {
					t.Fatalf("%s survived the bump: %q", k.Entry, body)
				}
			}
		}},
		{"epoch covers everything", func(t *testing.T, s cache.Store) {
			keys := []cache.Key{itemKey(7), listKey(0, 5)}
			for _, k := range keys {
				tag, _ := mustGet(t, s, k)
				mustSet(t, s, k, tag, "x", time.Minute)
			}
			mustBump(t, s, cache.Epoch)
			for _, k := range keys {
				if _, body := mustGet(t, s, k); body != nil {
					t.Fatalf("%s survived the epoch bump", k.Entry)
				}
			}
		}},
		{"entries expire", func(t *testing.T, s cache.Store) {
			k := itemKey(8)
			tag, _ := mustGet(t, s, k)
			mustSet(t, s, k, tag, "short", 30*time.Millisecond)
			time.Sleep(80 * time.Millisecond)
			if _, body := mustGet(t, s, k); body != nil {
				t.Fatalf("expired entry served: %q", body)
			}
		}},
		{"bodies are kept byte for byte", func(t *testing.T, s cache.Store) {
			k := itemKey(9)
			body := "{\"title\":\"caf\u00e9 <b>&</b> \\u0000 \U0001F600\"}\n\x00\xff"
			tag, _ := mustGet(t, s, k)
			mustSet(t, s, k, tag, body, time.Minute)
			if _, got := mustGet(t, s, k); string(got) != body {
				t.Fatalf("got %q, want %q", got, body)
			}
		}},
	}
	forEachStore(t, func(t *testing.T, s cache.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tt.run(t, s) })
		}
	})
}

// The in-process store keeps at most MaxEntries responses and MaxBytes
// bytes, dropping the least recently used.
func TestMemoryIsBounded(t *testing.T) {
	t.Run("entries", func(t *testing.T) {
		m := cache.NewMemory(cache.MemoryOptions{MaxEntries: 100})
		for i := 0; i < 1000; i++ {
			k := itemKey(i)
			tag, _ := mustGet(t, m, k)
			mustSet(t, m, k, tag, "x", time.Minute)
		}
		if m.Len() != 100 {
			t.Fatalf("%d entries, want 100", m.Len())
		}
		// The newest are kept.
		if _, body := mustGet(t, m, itemKey(999)); body == nil {
			t.Fatal("the newest entry was evicted")
		}
		// Generations were bounded too, and forgetting one is safe: an
		// evicted entry's item comes back as a miss, never stale.
		if _, body := mustGet(t, m, itemKey(0)); body != nil {
			t.Fatal("an evicted entry was served")
		}
	})
	t.Run("bytes", func(t *testing.T) {
		m := cache.NewMemory(cache.MemoryOptions{MaxEntries: 1000, MaxBytes: 64 << 10})
		big := string(make([]byte, 10<<10))
		for i := 0; i < 100; i++ {
			k := itemKey(i)
			tag, _ := mustGet(t, m, k)
			mustSet(t, m, k, tag, big, time.Minute)
		}
		if n := m.Len(); n > 6 || n == 0 {
			t.Fatalf("%d entries of 10 KiB under a 64 KiB bound", n)
		}
	})
	t.Run("a forgotten generation never matches again", func(t *testing.T) {
		m := cache.NewMemory(cache.MemoryOptions{MaxEntries: 1}) // room for ~17 generations
		k := itemKey(1)
		tag, _ := mustGet(t, m, k)
		mustBump(t, m, "item:1") // the entry's item changed ...
		for i := 2; i < 100; i++ {
			mustGet(t, m, itemKey(i)) // ... and its generation is pushed out
		}
		mustSet(t, m, k, tag, "old", time.Minute)
		if _, body := mustGet(t, m, k); body != nil {
			t.Fatalf("stale body served after generation eviction: %q", body)
		}
	})
}
