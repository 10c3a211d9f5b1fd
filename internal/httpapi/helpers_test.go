package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/cache"
	"myapi/internal/clientip"
	"myapi/internal/httpapi"
	"myapi/internal/jobs"
	"myapi/internal/logging"
	"myapi/internal/metrics"
	"myapi/internal/ratelimit"
	"myapi/internal/storage"
	"myapi/internal/testdb"
)

// testSecret signs the tokens of test servers.
const testSecret = "test-secret-test-secret-test-secret!!"

// env is one running API on one engine, reached over real HTTP.
type env struct {
	URL    string
	DB     storage.Store
	Auth   *auth.Service
	Tokens *auth.Tokens
	Logs   *syncBuffer
	// Handler is the API itself, for benchmarks that skip the network.
	Handler http.Handler
}

// envOptions adjust a test server.
type envOptions struct {
	accessTTL    time.Duration
	maxBodyBytes int64
	docs         bool
	limits       ratelimit.Config // zero: no limits
	// cache, if set, is the server's response cache.
	cache *cache.Cache
	// dbURL, if set, is a database to share with other servers (migrated
	// if needed) instead of a fresh one.
	dbURL string
	// wrapStore, if set, decorates the store the handlers use (e.g. to
	// count queries).
	wrapStore func(storage.Resources) storage.Resources
	// quiet drops the logs below warnings (benchmarks).
	quiet bool
	// logOut, if set, receives the JSON logs instead of env.Logs.
	logOut io.Writer
	// noMetrics leaves metrics out, as METRICS_ENABLED=false does.
	noMetrics bool
	// jobs serves password recovery and the jobs view, with an
	// insert-only queue (no worker runs the jobs).
	jobs bool
	// logSampler, if set, samples the access log.
	logSampler *logging.Sampler
	// clock, if set, is the auth service's clock (and the rate limiter's,
	// unless limits.Now is set).
	clock *testClock
	// policy, if set, replaces auth.DefaultPolicy().
	policy *auth.Policy
	// trustedProxies and clientIPHeader configure the limiter's client
	// address (TRUSTED_PROXIES, CLIENT_IP_HEADER).
	trustedProxies []string
	clientIPHeader string
	// bcryptCost is the hasher's cost; 0: the cheapest.
	bcryptCost int
}

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

// Now returns the clock's time.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// forEachEngine runs fn against a fresh server on every available engine.
func forEachEngine(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, engine, envOptions{}))
		})
	}
}

func newEnv(t *testing.T, engine testdb.Engine, opts envOptions) *env {
	t.Helper()
	e := buildEnv(t, engine, opts)
	srv := httptest.NewServer(checkContract(t, e.Handler))
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

// buildEnv is newEnv without the listener (URL is empty).
func buildEnv(t testing.TB, engine testdb.Engine, opts envOptions) *env {
	t.Helper()
	if opts.accessTTL == 0 {
		opts.accessTTL = 30 * time.Minute
	}
	if opts.maxBodyBytes == 0 {
		opts.maxBodyBytes = 1 << 20
	}
	var db storage.Store
	if opts.dbURL != "" {
		db = testdb.Open(t, opts.dbURL)
	} else {
		db = engine.Open(t)
	}
	var store storage.Resources = db
	if opts.wrapStore != nil {
		store = opts.wrapStore(db)
	}
	if opts.bcryptCost == 0 {
		opts.bcryptCost = 4 // the cheapest cost keeps tests fast
	}
	hasher, err := auth.NewHasher(opts.bcryptCost, 0)
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens([]byte(testSecret), opts.accessTTL, 24*time.Hour)
	svc := auth.NewService(db, db, hasher, tokens)
	if opts.clock != nil {
		svc.SetClock(opts.clock.Now)
		if opts.limits.Now == nil {
			opts.limits.Now = opts.clock.Now
		}
	}
	if opts.policy != nil {
		svc.SetPolicy(*opts.policy)
	}
	logs := &syncBuffer{}
	logLevel := slog.LevelDebug
	if opts.quiet {
		logLevel = slog.LevelWarn
	}
	var limiter *ratelimit.Limiter
	if opts.limits.PerMinute > 0 || opts.limits.LoginPerMinute > 0 {
		trusted, err := clientip.ParsePrefixes(opts.trustedProxies)
		if err != nil {
			t.Fatal(err)
		}
		limiter = ratelimit.New(opts.limits, clientip.New(trusted, opts.clientIPHeader), httpapi.RateLimitKey, nil)
	}
	var logOut io.Writer = logs
	if opts.logOut != nil {
		logOut = opts.logOut
	}
	var m *metrics.Metrics
	if !opts.noMetrics {
		m = metrics.New("test", "abc123")
	}
	var queue httpapi.JobQueue
	if opts.jobs {
		q, err := jobs.New(jobs.Deps{Store: db, Auth: svc}, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		queue = q
	}
	handler, err := httpapi.New(httpapi.Config{
		AppName:        "My API",
		Version:        "test",
		Environment:    "development",
		DocsEnabled:    opts.docs,
		AllowedOrigins: []string{"http://localhost:3000"},
		MaxBodyBytes:   opts.maxBodyBytes,
		LogSampler:     opts.logSampler,
	}, httpapi.Deps{
		Log:     logging.New(logOut, true, logLevel),
		Auth:    svc,
		Store:   store,
		Checks:  []httpapi.Check{{Name: "database", Ping: db.Ping}},
		Metrics: m,
		Limiter: limiter,
		Cache:   opts.cache,
		Jobs:    queue,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{DB: db, Auth: svc, Tokens: tokens, Logs: logs, Handler: handler}
}

// response is what a request got back.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map (or fails the test).
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// List decodes the body into a list of objects.
func (r response) List(t *testing.T) []map[string]any {
	t.Helper()
	var l []map[string]any
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("body is not a JSON list: %v: %s", err, r.Body)
	}
	return l
}

// Detail returns the "detail" string of an error body, failing the test
// when there is none: every error must carry one.
func (r response) Detail(t *testing.T) string {
	t.Helper()
	d, ok := r.JSON(t)["detail"].(string)
	if !ok || d == "" {
		t.Fatalf("error body has no string detail: %s", r.Body)
	}
	return d
}

// request describes one call.
type request struct {
	Method      string
	Path        string
	Token       string
	JSON        any    // marshalled as the body, unless Body is set
	Body        string // sent verbatim
	ContentType string
	Header      map[string]string
}

// do sends req and reads the whole response.
func (e *env) do(t *testing.T, req request) response {
	t.Helper()
	var body io.Reader
	ctype := req.ContentType
	switch {
	case req.Body != "":
		body = strings.NewReader(req.Body)
	case req.JSON != nil:
		b, err := json.Marshal(req.JSON)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
		if ctype == "" {
			ctype = "application/json"
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, req.Method, e.URL+req.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// expect sends req and fails the test unless the status is want.
func (e *env) expect(t *testing.T, want int, req request) response {
	t.Helper()
	res := e.do(t, req)
	if res.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body: %s", req.Method, req.Path, res.Status, want, res.Body)
	}
	if want >= 400 {
		res.Detail(t)
	}
	return res
}

// register creates a user named name (email name@example.com, password
// "password123") and returns its JSON.
func (e *env) register(t *testing.T, name string) map[string]any {
	t.Helper()
	return e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
		"email": name + "@example.com", "username": name, "password": "password123",
	}}).JSON(t)
}

// login returns the token pair of a user with the password "password123".
func (e *env) login(t *testing.T, name string) (access, refresh string) {
	t.Helper()
	m := e.expect(t, http.StatusOK, loginRequest(name, "password123")).JSON(t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

// user registers name and returns its access token and id.
func (e *env) user(t *testing.T, name string) (token string, id int64) {
	t.Helper()
	u := e.register(t, name)
	token, _ = e.login(t, name)
	return token, int64(u["id"].(float64))
}

// superuser creates a superuser named name and returns its access token and id.
func (e *env) superuser(t *testing.T, name string) (token string, id int64) {
	t.Helper()
	u, err := e.Auth.CreateSuperuser(context.Background(), name+"@example.com", name, "password123")
	if err != nil {
		t.Fatal(err)
	}
	token, _ = e.login(t, name)
	return token, u.ID
}

func loginRequest(username, password string) request {
	form := url.Values{"username": {username}, "password": {password}}
	return request{Method: "POST", Path: "/auth/login", Body: form.Encode(), ContentType: "application/x-www-form-urlencoded"}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
