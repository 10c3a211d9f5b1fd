package ratelimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/redis/go-redis/v9"

	"myapi/internal/redisconn"
)

// Tests against a real Redis. TEST_REDIS_URL names a shared one (.ci/run
// sets it); the tests touch only keys under a random prefix and delete them
// afterwards. The fault drills start a redis-server of their own.

// inCI reports whether a missing Redis must fail the run instead of
// skipping.
func inCI() bool { return os.Getenv("CI") == "true" }

// testRedisURL returns TEST_REDIS_URL, skipping the test when it is unset
// (failing it under CI=true).
func testRedisURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		if inCI() {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: the Redis rate-limit tests must run in CI")
		}
		t.Skip("TEST_REDIS_URL not set: skipping the tests against a real Redis (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379/15)")
	}
	return u
}

// Timeouts of the tests' Redis clients and counters. The fault drills use
// the production settings (prodTimeout: what cmd/myapi is told to use, and
// RedisTimeout); the tests of what is counted use a generous one, so that a
// loaded machine (-race, 200 requests at once on 2 CPUs) does not turn a
// slow answer into a fallback and the test into a flake.
const (
	prodTimeout     = 50 * time.Millisecond
	generousTimeout = 2 * time.Second
)

// newTestClient connects to url with cmd/myapi's options (redisconn: no
// retries, one dial attempt, context deadlines honoured) but the given
// dial, read, write and pool timeout (the pool's 100 ms made concurrent
// tests fail with "connection pool timeout" on a loaded machine); closed
// at cleanup.
func newTestClient(t *testing.T, url string, timeout time.Duration) *redis.Client {
	t.Helper()
	opt, err := redisconn.Options(url)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	opt.DialTimeout = timeout
	opt.ReadTimeout = timeout
	opt.WriteTimeout = timeout
	opt.PoolTimeout = timeout
	opt.ContextTimeoutEnabled = true
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sharedRedis connects to TEST_REDIS_URL and returns a client and a fresh
// random key prefix; the keys under the prefix are deleted at cleanup.
func sharedRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	url := testRedisURL(t)
	c := newTestClient(t, url, generousTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("TEST_REDIS_URL %s unreachable: %v", url, err)
	}
	prefix := randomPrefix(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		keys := scanKeys(t, ctx, c, prefix+"*")
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("deleting test keys: %v", err)
			}
		}
	})
	return c, prefix
}

func randomPrefix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "myapi-test:rl:" + hex.EncodeToString(b) + ":"
}

func scanKeys(t *testing.T, ctx context.Context, c *redis.Client, pattern string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("SCAN %s: %v", pattern, err)
	}
	return keys
}

// newRedisCounter is NewRedisCounter with a per-call timeout other than
// RedisTimeout.
func newRedisCounter(c redis.Cmdable, prefix string, timeout time.Duration) Counter {
	rc := NewRedisCounter(c, prefix)
	rc.(*redisCounter).timeout = timeout
	return rc
}

// redisCounters makes a Redis counter under a fresh prefix of the shared
// Redis (generous timeouts), wrapped by wrap.
func redisCounters(wrap func(Counter) Counter) newCounter {
	return func(t *testing.T) Counter {
		c, prefix := sharedRedis(t)
		return wrap(newRedisCounter(c, prefix, generousTimeout))
	}
}

func plain(c Counter) Counter { return c }

// autopipelined returns c's autopipeliner, as cmd/myapi uses it.
func autopipelined(t *testing.T, c *redis.Client) redis.Cmdable {
	t.Helper()
	ap, err := redisconn.AutoPipelined(c)
	if err != nil {
		t.Fatal(err)
	}
	return ap
}

func withFallback(t *testing.T) func(Counter) Counter {
	return func(c Counter) Counter {
		return Fallback(c, FallbackOptions{OnDown: func(err error) { t.Errorf("OnDown: %v", err) }})
	}
}

// counterContract is the behaviour every Counter has, httprate's local one
// included: counts per key and per window, the previous window readable
// from the next one, nothing older.
func counterContract(t *testing.T, newCounter func(t *testing.T) Counter) {
	const length = time.Minute
	long := strings.Repeat("k", 300)
	w1 := time.Now().UTC().Truncate(length)
	w0, w2, w3 := w1.Add(-length), w1.Add(length), w1.Add(2*length)
	type inc struct {
		key string
		win time.Time
		n   int // 0: Increment
	}
	type get struct {
		key       string
		cur, prev time.Time
		want      [2]int
	}
	tests := []struct {
		name string
		incs []inc
		gets []get
	}{
		{name: "an unknown key counts zero",
			gets: []get{{"a", w1, w0, [2]int{0, 0}}}},
		{name: "Increment and IncrementBy add up in a window",
			incs: []inc{{"a", w1, 0}, {"a", w1, 4}, {"a", w1, 0}},
			gets: []get{{"a", w1, w0, [2]int{6, 0}}}},
		{name: "the next window reads it as the previous one",
			incs: []inc{{"a", w1, 2}},
			gets: []get{{"a", w2, w1, [2]int{0, 2}}}},
		{name: "both windows counted",
			incs: []inc{{"a", w1, 3}, {"a", w2, 0}, {"a", w2, 1}},
			gets: []get{{"a", w2, w1, [2]int{2, 3}}}},
		{name: "two windows later nothing is left",
			incs: []inc{{"a", w1, 3}},
			gets: []get{{"a", w3, w2, [2]int{0, 0}}}},
		{name: "keys are counted separately",
			incs: []inc{{"a", w1, 2}, {"b", w1, 5}, {"ab", w1, 0}},
			gets: []get{{"a", w1, w0, [2]int{2, 0}}, {"b", w1, w0, [2]int{5, 0}}, {"ab", w1, w0, [2]int{1, 0}}, {"c", w1, w0, [2]int{0, 0}}}},
		{name: "odd and long keys",
			incs: []inc{{"login|name|{x}", w1, 2}, {"login|name|}", w1, 3}, {"a:1", w1, 4}, {long, w1, 5}, {long + "x", w1, 6}, {"ünï cødé", w1, 7}},
			gets: []get{
				{"login|name|{x}", w1, w0, [2]int{2, 0}}, {"login|name|}", w1, w0, [2]int{3, 0}}, {"login|name|", w1, w0, [2]int{0, 0}},
				{"a:1", w1, w0, [2]int{4, 0}}, {"a", w1, w0, [2]int{0, 0}},
				{long, w1, w0, [2]int{5, 0}}, {long + "x", w1, w0, [2]int{6, 0}}, {"ünï cødé", w1, w0, [2]int{7, 0}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(t)
			c.Config(10, length)
			for _, in := range tc.incs {
				var err error
				if in.n == 0 {
					err = c.Increment(in.key, in.win)
				} else {
					err = c.IncrementBy(in.key, in.win, in.n)
				}
				if err != nil {
					t.Fatalf("increment %+v: %v", in, err)
				}
			}
			for _, g := range tc.gets {
				cur, prev, err := c.Get(g.key, g.cur, g.prev)
				if err != nil {
					t.Fatalf("get %+v: %v", g, err)
				}
				if [2]int{cur, prev} != g.want {
					t.Fatalf("Get(%.20q, %s, %s) = %d, %d; want %v", g.key, g.cur.Format(time.TimeOnly), g.prev.Format(time.TimeOnly), cur, prev, g.want)
				}
			}
		})
	}
}

func TestCounterContract(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		counterContract(t, func(*testing.T) Counter { return httprate.NewLocalLimitCounter(time.Minute) })
	})
	t.Run("redis", func(t *testing.T) {
		testRedisURL(t)
		counterContract(t, redisCounters(plain))
	})
	t.Run("fallback over redis", func(t *testing.T) {
		testRedisURL(t)
		counterContract(t, redisCounters(withFallback(t)))
	})
}

func TestRedisKeysAndExpiry(t *testing.T) {
	c, prefix := sharedRedis(t)
	counter := newRedisCounter(c, prefix, generousTimeout)
	counter.Config(5, 10*time.Second)
	win := time.Date(2030, 1, 2, 3, 4, 0, 0, time.UTC)
	if err := counter.IncrementBy("general|ip|203.0.113.1", win, 3); err != nil {
		t.Fatal(err)
	}
	key := prefix + "{general|ip|203.0.113.1}:" + strconv.FormatInt(win.UnixMilli(), 10)
	ctx := context.Background()
	if v, err := c.Get(ctx, key).Result(); err != nil || v != "3" {
		t.Fatalf("GET %s = %q, %v; want 3", key, v, err)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < 20*time.Second || ttl > 21*time.Second {
		t.Fatalf("PTTL %v, want about 2 windows (20s..21s)", ttl)
	}

	// The Limiter's atomic path names and expires its keys the same way.
	clk := newClock() // 2030-01-02 03:04:10
	l := New(Config{PerMinute: 5, Window: 10 * time.Second, Now: clk.Now}, nil, nil, counter)
	rec := httptest.NewRecorder()
	l.General(echo).ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
	key = prefix + "{general|ip|203.0.113.1}:" + strconv.FormatInt(clk.Now().UnixMilli(), 10)
	if v, err := c.Get(ctx, key).Result(); err != nil || v != "1" {
		t.Fatalf("GET %s = %q, %v; want 1", key, v, err)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < 20*time.Second || ttl > 21*time.Second {
		t.Fatalf("PTTL %v, want about 2 windows (20s..21s)", ttl)
	}
	if keys := scanKeys(t, ctx, c, prefix+"*"); len(keys) != 2 {
		t.Fatalf("keys %v, want the 2 above", keys)
	}
}

// TestRedisTakeMatchesLocal checks the Lua script's decision against the
// in-process one (Get, decide in Go, IncrementBy) on the same counts, at
// random instants and on the rounding edges.
func TestRedisTakeMatchesLocal(t *testing.T) {
	const length = time.Minute
	c, prefix := sharedRedis(t)
	remote := newRedisCounter(c, prefix, generousTimeout).(*redisCounter)
	local := newLockedTaker(httprate.NewLocalLimitCounter(length))
	cur := time.Now().UTC().Truncate(length)
	type tc struct {
		curN, prevN, limit int
		elapsed            time.Duration
	}
	var cases []tc
	for limit := 1; limit <= 4; limit++ {
		for prevN := range 7 {
			for curN := range 6 {
				// Random instants, and the instants where the estimate
				// crosses a half (where rounding decides).
				cases = append(cases, tc{curN, prevN, limit, time.Duration(mrand.Int64N(int64(length)))})
				for h := range 2 * prevN {
					cases = append(cases, tc{curN, prevN, limit, length * time.Duration(h) / time.Duration(2*prevN)})
				}
			}
		}
	}
	for i, k := range cases {
		key := "case" + strconv.Itoa(i)
		for _, store := range []Counter{remote, local.counter} {
			if err := store.IncrementBy(key, cur.Add(-length), k.prevN); err != nil {
				t.Fatal(err)
			}
			if err := store.IncrementBy(key, cur, k.curN); err != nil {
				t.Fatal(err)
			}
		}
		now := cur.Add(k.elapsed)
		want, err := local.take(key, k.limit, now, length)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.take(key, k.limit, now, length)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%+v: Redis decided %+v, in-process %+v", k, got, want)
		}
		n, _, err := remote.Get(key, cur, cur.Add(-length))
		if err != nil {
			t.Fatal(err)
		}
		if wantN := k.curN + map[bool]int{true: 1}[want.allowed]; n != wantN {
			t.Fatalf("%+v: Redis count %d after take, want %d", k, n, wantN)
		}
	}
	t.Logf("%d cases", len(cases))
}

// TestRedisLimiter runs the Limiter's behaviour tests on Redis, directly and
// through Fallback.
func TestRedisLimiter(t *testing.T) {
	testRedisURL(t)
	for name, wrap := range map[string]func(Counter) Counter{"redis": plain, "fallback": withFallback(t)} {
		t.Run(name, func(t *testing.T) {
			counter := redisCounters(wrap)
			t.Run("Scenarios", func(t *testing.T) { testScenarios(t, counter) })
			t.Run("RejectionResponse", func(t *testing.T) { testRejectionResponse(t, counter) })
			t.Run("PasswordAttempts", func(t *testing.T) { testPasswordAttempts(t, counter) })
			t.Run("ConcurrentPasswordAttempts", func(t *testing.T) { testConcurrentPasswordAttempts(t, counter) })
			t.Run("WindowSlides", func(t *testing.T) { testWindowSlides(t, counter) })
			t.Run("ShortWindowRealClock", func(t *testing.T) { testShortWindowRealClock(t, counter) })
			t.Run("ConcurrentRequestsCountExactly", func(t *testing.T) { testConcurrentRequestsCountExactly(t, counter) })
		})
	}
}

// instances returns two Limiters ("instances" of myapi) with their own
// Redis clients on one Redis and one key prefix: A counts through Fallback
// and its client's autopipeliner (as cmd/myapi does), B directly through
// its client. Any Redis error fails the test.
func instances(t *testing.T, cfg Config) (a, b *Limiter) {
	t.Helper()
	_, prefix := sharedRedis(t)
	url := testRedisURL(t)
	cfg.OnError = func(err error) { t.Errorf("OnError: %v", err) }
	a = New(cfg, resolver(t), testUserKey, withFallback(t)(newRedisCounter(autopipelined(t, newTestClient(t, url, generousTimeout)), prefix, generousTimeout)))
	b = New(cfg, resolver(t), testUserKey, newRedisCounter(newTestClient(t, url, generousTimeout), prefix, generousTimeout))
	return a, b
}

func TestRedisTwoInstancesShareLimits(t *testing.T) {
	clk := newClock()
	a, b := instances(t, Config{PerMinute: 5, LoginPerMinute: 2, Now: clk.Now})
	genA, genB := a.General(echo), b.General(echo)
	for i, h := range []http.Handler{genA, genB, genA, genB, genA} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
		if rec.Code != 200 {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
		wantHeaders(t, rec, 5, 5-i-1, 50)
	}
	for _, h := range []http.Handler{genB, genA} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
			t.Fatalf("6th request over both instances: %d %v, want 429 with Retry-After", rec.Code, rec.Header())
		}
	}
	// Another client still gets in, on either instance.
	rec := httptest.NewRecorder()
	genB.ServeHTTP(rec, req{remote: "203.0.113.2"}.build())
	if rec.Code != 200 {
		t.Fatalf("another client: %d", rec.Code)
	}

	// Failed passwords of one account from one network, on two instances.
	for i, step := range []struct {
		l    *Limiter
		want bool
	}{{a, true}, {b, true}, {a, false}, {b, false}} {
		if got := tryPassword(t, step.l, "198.51.100."+strconv.Itoa(i+1), "alice", true); got != step.want {
			t.Fatalf("failed password %d: allowed %v, want %v", i+1, got, step.want)
		}
	}
}

func TestRedisTwoInstancesConcurrentExact(t *testing.T) {
	const limit, perInstance = 25, 100
	clk := newClock()
	a, b := instances(t, Config{PerMinute: limit, Now: clk.Now})
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for _, h := range []http.Handler{a.General(noop), b.General(noop)} {
		for range perInstance {
			wg.Go(func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req{remote: "203.0.113.1"}.build())
				switch rec.Code {
				case 200:
					ok.Add(1)
				case 429:
					limited.Add(1)
				default:
					t.Errorf("status %d", rec.Code)
				}
			})
		}
	}
	wg.Wait()
	if ok.Load() != limit || limited.Load() != 2*perInstance-limit {
		t.Fatalf("allowed %d, limited %d; want exactly %d, %d", ok.Load(), limited.Load(), limit, 2*perInstance-limit)
	}
}

// redisServer is a redis-server the test runs itself, on a spare port.
type redisServer struct {
	t    *testing.T
	port string
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// startRedisServer starts redis-server on a free port, to be killed at
// cleanup. The test is skipped when redis-server is not installed (failed
// under CI=true).
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if inCI() {
			t.Fatal("CI=true but redis-server is not installed: the Redis fault drill must run in CI")
		}
		t.Skip("redis-server not installed: skipping the Redis fault drill")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	_ = ln.Close()
	s := &redisServer{t: t, port: port}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + s.port }

func (s *redisServer) start() {
	s.t.Helper()
	cmd := exec.Command("redis-server", "--port", s.port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not answer: %v", s.addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the server the hard way (SIGKILL) and waits for it to exit.
func (s *redisServer) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // in case a test paused it
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func (s *redisServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v: %v", sig, err)
	}
}

// drill is a Limiter counting through Fallback(Redis counter) against a
// redis-server of the test's own, with the settings cmd/myapi uses.
type drill struct {
	t          *testing.T
	srv        *redisServer
	prefix     string
	h          http.Handler
	downs, ups atomic.Int32
	slowest    time.Duration
}

const drillRetry = 300 * time.Millisecond

// newDrill counts through the client's autopipeliner when batched, as
// cmd/myapi does, and through the client itself otherwise.
func newDrill(t *testing.T, limit int, batched bool) *drill {
	d := &drill{t: t, srv: startRedisServer(t), prefix: randomPrefix(t)}
	var cmds redis.Cmdable = newTestClient(t, "redis://"+d.srv.addr(), prodTimeout)
	if batched {
		cmds = autopipelined(t, cmds.(*redis.Client))
	}
	counter := Fallback(NewRedisCounter(cmds, d.prefix), FallbackOptions{
		Retry:  drillRetry,
		OnDown: func(error) { d.downs.Add(1) },
		OnUp:   func() { d.ups.Add(1) },
	})
	l := New(Config{PerMinute: limit, OnError: func(err error) { t.Errorf("OnError: %v", err) }}, nil, nil, counter)
	d.h = l.General(echo)
	return d
}

// send makes one request from remote and returns its status; any request
// slower than maxDelay fails the test. The budget is RedisTimeout (50 ms);
// the bound is far above it because this 2-core machine is shared and
// noisy, yet far below go-redis's own defaults (3 s reads, 5 s dials), which
// is what a missing timeout or fallback would cost.
func (d *drill) send(remote string) int {
	const maxDelay = time.Second
	rec := httptest.NewRecorder()
	start := time.Now()
	d.h.ServeHTTP(rec, req{remote: remote}.build())
	took := time.Since(start)
	d.slowest = max(d.slowest, took)
	if took > maxDelay {
		d.t.Errorf("request from %s took %v, want < %v", remote, took, maxDelay)
	}
	if rec.Code != 200 && rec.Code != 429 {
		d.t.Fatalf("request from %s: status %d", remote, rec.Code)
	}
	return rec.Code
}

// sendAll sends len(want) requests from remote and checks their statuses.
func (d *drill) sendAll(phase, remote string, want ...int) {
	d.t.Helper()
	for i, w := range want {
		if got := d.send(remote); got != w {
			d.t.Fatalf("%s: request %d from %s: %d, want %d", phase, i+1, remote, got, w)
		}
	}
}

// stored returns the count Redis holds for remote's general key (in
// whichever window it was made), or -1 if there is none.
func (d *drill) stored(remote string) int {
	d.t.Helper()
	c := newTestClient(d.t, "redis://"+d.srv.addr(), generousTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	keys := scanKeys(d.t, ctx, c, d.prefix+"{general|ip|"+remote+"}:*")
	if len(keys) == 0 {
		return -1
	}
	total := 0
	for _, k := range keys {
		n, err := c.Get(ctx, k).Int()
		if err != nil {
			d.t.Fatalf("GET %s: %v", k, err)
		}
		total += n
	}
	return total
}

func (d *drill) wantCalls(phase string, downs, ups int32) {
	d.t.Helper()
	if d.downs.Load() != downs || d.ups.Load() != ups {
		d.t.Fatalf("%s: OnDown called %d times, OnUp %d; want %d, %d", phase, d.downs.Load(), d.ups.Load(), downs, ups)
	}
}

// TestRedisFaultDrill kills the Redis server mid-test and starts it again.
func TestRedisFaultDrill(t *testing.T) {
	forBothClients(t, testRedisFaultDrill)
}

// forBothClients runs a drill through a plain client and through its
// autopipeliner.
func forBothClients(t *testing.T, drill func(t *testing.T, batched bool)) {
	for _, batched := range []bool{false, true} {
		t.Run(map[bool]string{false: "client", true: "autopipelined"}[batched], func(t *testing.T) { drill(t, batched) })
	}
}

func testRedisFaultDrill(t *testing.T, batched bool) {
	d := newDrill(t, 3, batched)

	d.sendAll("redis up", "203.0.113.1", 200, 200)
	if n := d.stored("203.0.113.1"); n != 2 {
		t.Fatalf("redis up: Redis holds %d for the client, want 2", n)
	}
	d.wantCalls("redis up", 0, 0)

	d.srv.kill()
	// Limits still hold, in-process; no request fails or waits long; the
	// outage is reported once, however many requests and retries it spans.
	d.sendAll("redis killed", "203.0.113.2", 200, 200, 200, 429, 429)
	d.wantCalls("redis killed", 1, 0)
	for i := range 8 { // past a few retry intervals: probes fail quietly
		time.Sleep(drillRetry / 3)
		d.send("203.0.113." + strconv.Itoa(10+i))
	}
	d.sendAll("redis still down", "203.0.113.2", 429)
	d.wantCalls("redis still down", 1, 0)

	d.srv.start() // same port, empty
	time.Sleep(drillRetry + 50*time.Millisecond)
	// The next request probes Redis, finds it and counts there again; so do
	// the ones after it.
	d.sendAll("redis restarted", "203.0.113.3", 200)
	d.wantCalls("redis restarted", 1, 1)
	if n := d.stored("203.0.113.3"); n != 1 {
		t.Fatalf("redis restarted: Redis holds %d for the client, want 1 (counts not back in Redis)", n)
	}
	d.sendAll("redis restarted", "203.0.113.3", 200, 200, 429)
	if n := d.stored("203.0.113.3"); n != 3 {
		t.Fatalf("redis restarted: Redis holds %d for the client, want 3", n)
	}
	d.wantCalls("redis restarted", 1, 1)
	t.Logf("slowest request: %v", d.slowest)
}

// TestRedisSlowFallsBack pauses the Redis server (SIGSTOP: connections stay
// open, nothing answers), so calls time out rather than fail fast.
func TestRedisSlowFallsBack(t *testing.T) {
	forBothClients(t, testRedisSlowFallsBack)
}

func testRedisSlowFallsBack(t *testing.T, batched bool) {
	d := newDrill(t, 3, batched)
	d.sendAll("redis up", "203.0.113.1", 200)

	d.srv.signal(syscall.SIGSTOP)
	d.sendAll("redis paused", "203.0.113.2", 200, 200, 200, 429)
	d.wantCalls("redis paused", 1, 0)
	time.Sleep(drillRetry + 50*time.Millisecond)
	d.sendAll("redis still paused", "203.0.113.2", 429) // the probe times out
	d.wantCalls("redis still paused", 1, 0)

	d.srv.signal(syscall.SIGCONT)
	time.Sleep(drillRetry + 50*time.Millisecond)
	d.sendAll("redis resumed", "203.0.113.3", 200)
	d.wantCalls("redis resumed", 1, 1)
	if n := d.stored("203.0.113.3"); n != 1 {
		t.Fatalf("redis resumed: Redis holds %d for the client, want 1", n)
	}
	t.Logf("slowest request: %v", d.slowest)
}
