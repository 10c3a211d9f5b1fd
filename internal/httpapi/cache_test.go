package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"myapi/internal/cache"
	"myapi/internal/items"
	"myapi/internal/redisconn"
	"myapi/internal/redisconn/redistest"
	"myapi/internal/storage"
	"myapi/internal/testdb"
)

// cacheBackend makes response caches of one kind. For Redis, each cache
// it makes has a key prefix of its own (deleted at the end of the test
// that opened it).
type cacheBackend struct {
	name string
	open func(t testing.TB) *cache.Cache
}

// cacheBackends lists the in-process cache always and Redis when
// TEST_REDIS_URL is set (under CI=true its absence fails t).
func cacheBackends(t *testing.T) []cacheBackend {
	t.Helper()
	list := []cacheBackend{{name: "memory", open: func(testing.TB) *cache.Cache {
		return cache.New(cache.NewMemory(cache.MemoryOptions{}), cache.Options{TTL: time.Minute})
	}}}
	if redistest.Available(t) {
		// Each cache its own prefix: caches of one prefix are instances of
		// one deployment, and a write in one parallel subtest would bump
		// the generations another is reading (TestCacheTwoInstancesShare
		// Invalidation shares one on purpose, through sharedRedisCaches).
		list = append(list, cacheBackend{name: "redis", open: func(tb testing.TB) *cache.Cache {
			return sharedRedisCaches(tb)(tb)
		}})
	}
	return list
}

// sharedRedisCaches returns a maker of caches on TEST_REDIS_URL under one
// fresh prefix (deleted at the end of t).
func sharedRedisCaches(t testing.TB) func(testing.TB) *cache.Cache {
	t.Helper()
	var (
		once   sync.Once
		client *redis.Client
		prefix string
	)
	return func(tb testing.TB) *cache.Cache {
		tb.Helper()
		once.Do(func() { client, prefix = redistest.Shared(t) })
		return redisCache(tb, client, prefix, nil)
	}
}

// redisCache is a cache on client under prefix, ready (resynced), with a
// quick retry so that fault tests don't wait long. log receives the
// Breaker's lines (nil: discarded).
func redisCache(t testing.TB, client redis.UniversalClient, prefix string, log *slog.Logger) *cache.Cache {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	breaker := redisconn.NewBreaker(log, redisconn.BreakerOptions{Retry: 100 * time.Millisecond})
	s := cache.NewRedis(client, cache.RedisOptions{Prefix: prefix, Breaker: breaker})
	t.Cleanup(func() { _ = s.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the Redis cache did not become ready within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return cache.New(s, cache.Options{TTL: time.Minute})
}

// forEachCacheEnv runs fn against a fresh server with a cache, for every
// engine and every cache backend.
func forEachCacheEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range testdb.Engines(t) {
		for _, backend := range cacheBackends(t) {
			t.Run(engine.Name+"/"+backend.name, func(t *testing.T) {
				t.Parallel()
				fn(t, newEnv(t, engine, envOptions{cache: backend.open(t)}))
			})
		}
	}
}

// get reads path and checks the status and X-Cache header.
func (e *env) get(t *testing.T, path string, status int, xcache string) response {
	t.Helper()
	res := e.expect(t, status, request{Method: "GET", Path: path})
	if got := res.Header.Get("X-Cache"); got != xcache {
		t.Fatalf("GET %s: X-Cache %q, want %q", path, got, xcache)
	}
	return res
}

// createItem creates an item titled title as token's user and returns its id.
func (e *env) createItem(t *testing.T, token, title string) int64 {
	t.Helper()
	m := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token,
		JSON: map[string]any{"title": title, "description": "<b>&</b> café", "price": 9.5}}).JSON(t)
	return int64(m["id"].(float64))
}

func titles(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, it := range r.List(t) {
		out = append(out, it["title"].(string))
	}
	return out
}

func TestCacheHitAndMissHeaders(t *testing.T) {
	forEachCacheEnv(t, func(t *testing.T, e *env) {
		token, _ := e.user(t, "alice")
		id := e.createItem(t, token, "lamp")
		path := "/items/" + itoa(id)

		miss := e.get(t, path, http.StatusOK, "MISS")
		hit := e.get(t, path, http.StatusOK, "HIT")
		if !bytes.Equal(miss.Body, hit.Body) {
			t.Fatalf("HIT body differs from MISS body:\n%q\n%q", miss.Body, hit.Body)
		}
		if ct := hit.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if m := hit.JSON(t); m["title"] != "lamp" || m["description"] != "<b>&</b> café" || m["id"] != float64(id) {
			t.Errorf("body %s", hit.Body)
		}

		// /items and /items/ are one page (skip 0, limit 10); other pages
		// are cached apart.
		tests := []struct {
			path, want string
		}{
			{"/items", "MISS"},
			{"/items", "HIT"},
			{"/items/", "HIT"},
			{"/items?skip=0&limit=10", "HIT"},
			{"/items?limit=5", "MISS"},
			{"/items?limit=5", "HIT"},
			{"/items?skip=1", "MISS"},
		}
		var first []byte
		for _, tt := range tests {
			res := e.get(t, tt.path, http.StatusOK, tt.want)
			if tt.path == "/items" && first == nil {
				first = res.Body
			} else if strings.HasPrefix(tt.path, "/items?skip=0") && !bytes.Equal(res.Body, first) {
				t.Errorf("%s: body differs from the first read", tt.path)
			}
		}

		// A 404 is never cached.
		for i := 0; i < 2; i++ {
			res := e.get(t, "/items/999999", http.StatusNotFound, "MISS")
			if d := res.Detail(t); d != "Item not found" {
				t.Errorf("detail %q", d)
			}
		}
		// Validation errors are answered before the cache.
		e.expect(t, http.StatusUnprocessableEntity, request{Method: "GET", Path: "/items?limit=0"})
	})
}

// Without a configured cache, responses carry no X-Cache header and are
// the same bytes.
func TestNoCacheNoXCacheHeader(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{})
	withCache := newEnv(t, testdb.Engines(t)[0], envOptions{cache: cacheBackends(t)[0].open(t)})
	for _, x := range []*env{e, withCache} {
		token, _ := x.user(t, "bob")
		x.createItem(t, token, "chair")
	}
	for _, path := range []string{"/items/1", "/items", "/items/2"} {
		status := http.StatusOK
		if path == "/items/2" {
			status = http.StatusNotFound
		}
		plain := e.get(t, path, status, "")
		cached := withCache.get(t, path, status, "MISS")
		if status == http.StatusOK && !bytes.Equal(plain.Body, cached.Body) {
			t.Errorf("%s: bodies differ with and without the cache:\n%q\n%q", path, plain.Body, cached.Body)
		}
	}
}

func TestCacheInvalidatedByWrites(t *testing.T) {
	tests := []struct {
		name string
		// write changes the items through the API; check verifies that
		// the very next reads see it.
		write func(t *testing.T, e *env, token string, id int64)
		check func(t *testing.T, e *env, id int64)
	}{
		{"create shows in lists", func(t *testing.T, e *env, token string, _ int64) {
			e.createItem(t, token, "second")
		}, func(t *testing.T, e *env, id int64) {
			if got := titles(t, e.get(t, "/items", http.StatusOK, "MISS")); fmt.Sprint(got) != "[first second]" {
				t.Errorf("list after create: %v", got)
			}
			e.get(t, "/items/"+itoa(id), http.StatusOK, "HIT") // other items stay cached
		}},
		{"update is visible at once in the item and the lists", func(t *testing.T, e *env, token string, id int64) {
			e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + itoa(id), Token: token, JSON: map[string]any{"title": "renamed"}})
		}, func(t *testing.T, e *env, id int64) {
			if m := e.get(t, "/items/"+itoa(id), http.StatusOK, "MISS").JSON(t); m["title"] != "renamed" {
				t.Errorf("item after update: %v", m)
			}
			if got := titles(t, e.get(t, "/items", http.StatusOK, "MISS")); fmt.Sprint(got) != "[renamed]" {
				t.Errorf("list after update: %v", got)
			}
		}},
		{"delete is a 404 at once", func(t *testing.T, e *env, token string, id int64) {
			e.expect(t, http.StatusNoContent, request{Method: "DELETE", Path: "/items/" + itoa(id), Token: token})
		}, func(t *testing.T, e *env, id int64) {
			e.get(t, "/items/"+itoa(id), http.StatusNotFound, "MISS")
			if got := e.get(t, "/items", http.StatusOK, "MISS").List(t); len(got) != 0 {
				t.Errorf("list after delete: %v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEachCacheEnv(t, func(t *testing.T, e *env) {
				token, _ := e.user(t, "carol")
				id := e.createItem(t, token, "first")
				for _, want := range []string{"MISS", "HIT"} { // warm both caches
					e.get(t, "/items/"+itoa(id), http.StatusOK, want)
					e.get(t, "/items", http.StatusOK, want)
				}
				tt.write(t, e, token, id)
				tt.check(t, e, id)
			})
		})
	}
}

// countingItems counts the queries that reach the database and makes
// reads slow, so that concurrent requests overlap.
type countingItems struct {
	storage.Resources
	delay       time.Duration
	byID, lists atomic.Int64
}

func (c *countingItems) ItemByID(ctx context.Context, id int64) (*items.Item, error) {
	c.byID.Add(1)
	time.Sleep(c.delay)
	return c.Resources.ItemByID(ctx, id)
}

func (c *countingItems) ListItems(ctx context.Context, skip, limit int64) ([]*items.Item, error) {
	c.lists.Add(1)
	time.Sleep(c.delay)
	return c.Resources.ListItems(ctx, skip, limit)
}

func TestCacheConcurrentMissesOneQuery(t *testing.T) {
	tests := []struct {
		name    string
		path    func(id int64) string
		queries func(c *countingItems) int64
	}{
		{"item", func(id int64) string { return "/items/" + itoa(id) }, func(c *countingItems) int64 { return c.byID.Load() }},
		{"list", func(int64) string { return "/items?limit=7" }, func(c *countingItems) int64 { return c.lists.Load() }},
	}
	for _, engine := range testdb.Engines(t) {
		for _, backend := range cacheBackends(t) {
			for _, tt := range tests {
				t.Run(engine.Name+"/"+backend.name+"/"+tt.name, func(t *testing.T) {
					t.Parallel()
					counter := &countingItems{delay: 300 * time.Millisecond}
					cc := backend.open(t)
					e := newEnv(t, engine, envOptions{cache: cc, wrapStore: func(s storage.Resources) storage.Resources {
						counter.Resources = s
						return counter
					}})
					token, _ := e.user(t, "dave")
					id := e.createItem(t, token, "popular")
					path := tt.path(id)
					before := tt.queries(counter)

					client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
					defer client.CloseIdleConnections()
					var wg sync.WaitGroup
					start := make(chan struct{})
					bodies := make([][]byte, 100)
					errs := make(chan error, 100)
					for i := range bodies {
						wg.Add(1)
						go func() {
							defer wg.Done()
							<-start
							res, err := client.Get(e.URL + path)
							if err != nil {
								errs <- err
								return
							}
							defer res.Body.Close()
							var buf bytes.Buffer
							_, _ = buf.ReadFrom(res.Body)
							if res.StatusCode != http.StatusOK {
								errs <- fmt.Errorf("status %d: %s", res.StatusCode, buf.Bytes())
							}
							bodies[i] = buf.Bytes()
						}()
					}
					close(start)
					wg.Wait()
					close(errs)
					for err := range errs {
						t.Fatal(err)
					}
					if n := tt.queries(counter) - before; n != 1 {
						t.Fatalf("100 concurrent misses made %d database queries, want 1; stats %+v", n, cc.Stats())
					}
					for _, b := range bodies {
						if !bytes.Equal(b, bodies[0]) {
							t.Fatalf("bodies differ: %q vs %q", b, bodies[0])
						}
					}
				})
			}
		}
	}
}

// Two instances share one database and one Redis: a write through A is
// read fresh through B at once.
func TestCacheTwoInstancesShareInvalidation(t *testing.T) {
	if !redistest.Available(t) {
		t.Skip("TEST_REDIS_URL is not set: two instances need a shared Redis")
	}
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			url := engine.URL(t)
			caches := sharedRedisCaches(t)
			a := newEnv(t, engine, envOptions{dbURL: url, cache: caches(t)})
			b := newEnv(t, engine, envOptions{dbURL: url, cache: caches(t)})
			token, _ := a.user(t, "erin")
			id := a.createItem(t, token, "v1")
			item := "/items/" + itoa(id)

			// Each instance fills the shared cache once.
			b.get(t, item, http.StatusOK, "MISS")
			b.get(t, item, http.StatusOK, "HIT")
			a.get(t, item, http.StatusOK, "HIT") // B's read serves A
			b.get(t, "/items", http.StatusOK, "MISS")
			b.get(t, "/items", http.StatusOK, "HIT")

			a.expect(t, http.StatusOK, request{Method: "PUT", Path: item, Token: token, JSON: map[string]any{"title": "v2"}})
			if m := b.get(t, item, http.StatusOK, "MISS").JSON(t); m["title"] != "v2" {
				t.Fatalf("B read %v after A's update", m)
			}
			if got := titles(t, b.get(t, "/items", http.StatusOK, "MISS")); fmt.Sprint(got) != "[v2]" {
				t.Fatalf("B's list after A's update: %v", got)
			}

			a.createItem(t, token, "new")
			if got := titles(t, b.get(t, "/items", http.StatusOK, "MISS")); fmt.Sprint(got) != "[v2 new]" {
				t.Fatalf("B's list after A's create: %v", got)
			}

			b.get(t, item, http.StatusOK, "HIT")
			a.expect(t, http.StatusNoContent, request{Method: "DELETE", Path: item, Token: token})
			b.get(t, item, http.StatusNotFound, "MISS")
		})
	}
}

// Redis dies mid-test: requests still succeed from the database, writes
// work, one warning is logged; Redis comes back: it is used again without
// a restart, and nothing stale is read. Killed = Redis loses its data;
// cut = the network fails and Redis keeps its data (an invalidation is
// lost, and must not let the old entry be served afterwards).
func TestCacheSurvivesRedisOutage(t *testing.T) {
	tests := []struct {
		name string
		// url returns the URL myapi uses, and the outage's start and end.
		setup func(t *testing.T) (url string, down, up func())
	}{
		{"killed and restarted", func(t *testing.T) (string, func(), func()) {
			srv := redistest.StartServer(t)
			return srv.URL(), srv.Kill, srv.Start
		}},
		{"connection cut, data kept", func(t *testing.T) (string, func(), func()) {
			srv := redistest.StartServer(t)
			proxy := redistest.StartProxy(t, srv.Addr())
			return proxy.URL(0), proxy.Cut, proxy.Restore
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, down, up := tt.setup(t)
			client := redistest.Client(t, url, true) // redisconn's real, short timeouts
			breakerLogs := &syncBuffer{}
			c := redisCache(t, client, redistest.Prefix(), slog.New(slog.NewTextHandler(breakerLogs, nil)))
			e := newEnv(t, testdb.Engines(t)[0], envOptions{cache: c})
			token, _ := e.user(t, "frank")
			id := e.createItem(t, token, "before")
			item := "/items/" + itoa(id)
			e.get(t, item, http.StatusOK, "MISS")
			e.get(t, item, http.StatusOK, "HIT")
			e.get(t, "/items", http.StatusOK, "MISS")
			e.get(t, "/items", http.StatusOK, "HIT")

			down()
			start := time.Now()
			for i := 0; i < 20; i++ {
				if m := e.get(t, item, http.StatusOK, "MISS").JSON(t); m["title"] != "before" {
					t.Fatalf("during the outage: %v", m)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("20 reads during the outage took %v: requests wait for Redis", d)
			}
			e.expect(t, http.StatusOK, request{Method: "PUT", Path: item, Token: token, JSON: map[string]any{"title": "during"}})
			e.createItem(t, token, "added during")
			if m := e.get(t, item, http.StatusOK, "MISS").JSON(t); m["title"] != "during" {
				t.Fatalf("after a write during the outage: %v", m)
			}
			if got := titles(t, e.get(t, "/items", http.StatusOK, "MISS")); fmt.Sprint(got) != "[during added during]" {
				t.Fatalf("list during the outage: %v", got)
			}

			up()
			deadline := time.Now().Add(10 * time.Second)
			for {
				res := e.do(t, request{Method: "GET", Path: item})
				if res.Status != http.StatusOK {
					t.Fatalf("status %d after Redis came back: %s", res.Status, res.Body)
				}
				if m := res.JSON(t); m["title"] != "during" {
					t.Fatalf("stale read after the outage: %v", m)
				}
				if res.Header.Get("X-Cache") == "HIT" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("Redis not used again within 10s of its return")
				}
				time.Sleep(20 * time.Millisecond)
			}
			res := e.do(t, request{Method: "GET", Path: "/items"})
			if got := titles(t, res); fmt.Sprint(got) != "[during added during]" {
				t.Fatalf("stale list after the outage: %v (X-Cache %s)", got, res.Header.Get("X-Cache"))
			}
			// One warning and one recovery line per outage, not one per
			// request (a loaded machine may add a spurious 50 ms timeout).
			logs := breakerLogs.String()
			warnings, recoveries := strings.Count(logs, "level=WARN"), strings.Count(logs, "available again")
			if warnings < 1 || warnings > 2 || recoveries != warnings {
				t.Errorf("%d warnings and %d recovery lines for one outage of 25 requests, want 1 each:\n%s", warnings, recoveries, logs)
			}
		})
	}
}

// The OpenAPI document describes the cached GET responses as Item and a
// list of Item (not as binary), with the X-Cache header.
func TestOpenAPIDescribesCachedResponses(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true})
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
				Headers map[string]struct {
					Description string         `json:"description"`
					Schema      map[string]any `json:"schema"`
				} `json:"headers"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, schema string
	}{
		{"/items/{item_id}", `{"$ref":"#/components/schemas/Item"}`},
		{"/items", `{"items":{"$ref":"#/components/schemas/Item"},"type":"array"}`},
	}
	for _, tt := range tests {
		ok := doc.Paths[tt.path]["get"].Responses["200"]
		schema, _ := json.Marshal(ok.Content["application/json"].Schema)
		if string(schema) != tt.schema {
			t.Errorf("GET %s 200 schema %s, want %s", tt.path, schema, tt.schema)
		}
		if len(ok.Content) != 1 {
			t.Errorf("GET %s 200 content types %v", tt.path, ok.Content)
		}
		h, found := ok.Headers["X-Cache"]
		if !found || !strings.Contains(h.Description, "HIT") || fmt.Sprint(h.Schema["enum"]) != "[HIT MISS]" {
			t.Errorf("GET %s: X-Cache header documented as %+v", tt.path, h)
		}
		if _, found := ok.Headers["Content-Type"]; found {
			t.Errorf("GET %s documents Content-Type as a header", tt.path)
		}
	}
}

// benchParallelism × GOMAXPROCS goroutines send requests at once, like
// many client connections: a Redis round trip is mostly waiting, so its
// throughput shows only under concurrency.
const benchParallelism = 16

// BenchmarkGetItemCached compares GET /items/{id} and GET /items?limit=10
// served by the handler (no network) without a cache, from the in-process
// cache and from Redis (TEST_REDIS_URL).
func BenchmarkGetItemCached(b *testing.B) {
	backends := []struct {
		name string
		open func(b *testing.B) *cache.Cache
	}{
		{"uncached", func(*testing.B) *cache.Cache { return nil }},
		{"memory", func(*testing.B) *cache.Cache {
			return cache.New(cache.NewMemory(cache.MemoryOptions{}), cache.Options{TTL: time.Minute})
		}},
		{"redis", func(b *testing.B) *cache.Cache {
			client, prefix := redistest.Shared(b)
			return redisCache(b, client, prefix, nil)
		}},
	}
	for _, engine := range testdb.Engines(b) {
		for _, path := range []string{"/items/1", "/items?limit=10"} {
			for _, backend := range backends {
				b.Run(engine.Name+"/"+strings.TrimPrefix(path, "/")+"/"+backend.name, func(b *testing.B) {
					e := buildEnv(b, engine, envOptions{cache: backend.open(b), quiet: true})
					ctx := context.Background()
					u, err := e.Auth.Register(ctx, "bench@example.com", "bench", "password123")
					if err != nil {
						b.Fatal(err)
					}
					desc := "Brass, 1950s"
					for i := 0; i < 20; i++ {
						if err := e.DB.CreateItem(ctx, &items.Item{Title: fmt.Sprintf("Desk lamp %d", i), Description: &desc, Price: 49.5, OwnerID: u.ID}); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportAllocs()
					b.SetParallelism(benchParallelism)
					b.ResetTimer()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							w := httptest.NewRecorder()
							e.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
							if w.Code != http.StatusOK {
								b.Fatalf("status %d: %s", w.Code, w.Body)
							}
						}
					})
				})
			}
		}
	}
}
