package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var poolMetricNames = []string{
	"myapi_db_pool_in_use_connections",
	"myapi_db_pool_idle_connections",
	"myapi_db_pool_constructing_connections",
	"myapi_db_pool_open_connections",
	"myapi_db_pool_max_connections",
	"myapi_db_pool_acquires_total",
	"myapi_db_pool_acquire_waits_total",
	"myapi_db_pool_acquire_wait_seconds_total",
	"myapi_db_pool_acquire_seconds_total",
	"myapi_db_pool_canceled_acquires_total",
	"myapi_db_pool_new_connections_total",
	"myapi_db_pool_closed_max_lifetime_total",
	"myapi_db_pool_closed_max_idle_total",
}

// poolValue reads one metric of c.
func poolValue(t *testing.T, c prometheus.Collector, name string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("metric %s not collected", name)
	return 0
}

// TestPoolCollectorWithoutDatabase runs on every machine: a pgx pool
// connects lazily, so its statistics exist before any database answers.
func TestPoolCollectorWithoutDatabase(t *testing.T) {
	cfg, err := pgxpool.ParseConfig("postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 7
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := NewPoolCollector(pool)

	if n := testutil.CollectAndCount(c); n != len(poolMetricNames) {
		t.Errorf("collected %d metrics, want %d", n, len(poolMetricNames))
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if got := poolValue(t, c, "myapi_db_pool_max_connections"); got != 7 {
		t.Errorf("max_connections = %v, want 7", got)
	}
	if got := poolValue(t, c, "myapi_db_pool_in_use_connections"); got != 0 {
		t.Errorf("in_use_connections = %v, want 0", got)
	}

	// Registered on the server's registry, the metrics appear on /metrics.
	m := New("1", "abc")
	m.Registry().MustRegister(c)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, name := range poolMetricNames {
		if !strings.Contains(string(body), "\n"+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
}

// TestPoolCollectorTracksPool drives a real pool through acquires, a wait
// and a canceled wait, and checks every number moves as it should.
func TestPoolCollectorTracksPool(t *testing.T) {
	url := postgresURL(t, "pool metrics")
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 2
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := NewPoolCollector(pool)
	v := func(name string) float64 { return poolValue(t, c, name) }

	if got := v("myapi_db_pool_max_connections"); got != 2 {
		t.Fatalf("max_connections = %v, want 2", got)
	}
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if got := v("myapi_db_pool_acquires_total"); got < 1 {
		t.Errorf("acquires_total = %v after a query", got)
	}
	if got := v("myapi_db_pool_new_connections_total"); got < 1 {
		t.Errorf("new_connections_total = %v after a query", got)
	}
	if got := v("myapi_db_pool_idle_connections"); got != 1 {
		t.Errorf("idle_connections = %v, want 1 after a query", got)
	}

	// Take both connections: the pool is saturated.
	a, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := v("myapi_db_pool_in_use_connections"); got != 2 {
		t.Errorf("in_use_connections = %v, want 2", got)
	}
	if got := v("myapi_db_pool_open_connections"); got != 2 {
		t.Errorf("open_connections = %v, want 2", got)
	}
	waitsBefore := v("myapi_db_pool_acquire_waits_total")

	// A third acquire waits and gives up.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = pool.Acquire(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third acquire: err = %v, want a deadline", err)
	}
	if got := v("myapi_db_pool_canceled_acquires_total"); got != 1 {
		t.Errorf("canceled_acquires_total = %v, want 1", got)
	}

	// A fourth waits until a connection comes back.
	done := make(chan error, 1)
	go func() {
		conn, err := pool.Acquire(ctx)
		if err == nil {
			conn.Release()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	a.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	b.Release()
	if got := v("myapi_db_pool_acquire_waits_total"); got <= waitsBefore {
		t.Errorf("acquire_waits_total = %v, want more than %v after a wait", got, waitsBefore)
	}
	if got := v("myapi_db_pool_acquire_wait_seconds_total"); got < 0.05 {
		t.Errorf("acquire_wait_seconds_total = %v, want at least the 100 ms waited", got)
	}
	if got := v("myapi_db_pool_acquire_seconds_total"); got < 0.05 {
		t.Errorf("acquire_seconds_total = %v", got)
	}
	if got := v("myapi_db_pool_in_use_connections"); got != 0 {
		t.Errorf("in_use_connections = %v after releasing all", got)
	}
}

// postgresURL returns TEST_DATABASE_URL; without it the test skips, except
// under CI=true, where the PostgreSQL tests must run and its absence fails.
// (internal/testdb does the same, but importing it here would make an
// import cycle should the storage layer register its metrics here.)
func postgresURL(t *testing.T, what string) string {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_DATABASE_URL is not set: the PostgreSQL tests must run in CI")
		}
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL " + what + " test")
	}
	return url
}
