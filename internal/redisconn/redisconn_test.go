package redisconn_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"myapi/internal/redisconn"
	"myapi/internal/redisconn/redistest"
)

func TestOptions(t *testing.T) {
	tests := []struct {
		url      string
		network  string
		addr     string
		db       int
		tls      bool
		read     time.Duration
		retries  int
		wantFail bool
	}{
		{url: "redis://localhost:6379/0", network: "tcp", addr: "localhost:6379", read: redisconn.DefaultReadTimeout, retries: -1},
		{url: "redis://:secret@cache.internal/3", network: "tcp", addr: "cache.internal:6379", db: 3, read: redisconn.DefaultReadTimeout, retries: -1},
		{url: "rediss://cache.example.com:6380", network: "tcp", addr: "cache.example.com:6380", tls: true, read: redisconn.DefaultReadTimeout, retries: -1},
		{url: "unix:///run/redis.sock?db=2", network: "unix", addr: "/run/redis.sock", db: 2, read: redisconn.DefaultReadTimeout, retries: -1},
		// Settings in the URL win.
		{url: "redis://localhost/0?read_timeout=200ms&max_retries=2", network: "tcp", addr: "localhost:6379", read: 200 * time.Millisecond, retries: 2},
		{url: "http://localhost:6379", wantFail: true},
		{url: "", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			opt, err := redisconn.Options(tt.url)
			if tt.wantFail {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if opt.Network != tt.network || opt.Addr != tt.addr || opt.DB != tt.db || (opt.TLSConfig != nil) != tt.tls {
				t.Errorf("got %s %s db %d tls %v", opt.Network, opt.Addr, opt.DB, opt.TLSConfig != nil)
			}
			if opt.ReadTimeout != tt.read || opt.MaxRetries != tt.retries {
				t.Errorf("read timeout %v, retries %d; want %v, %d", opt.ReadTimeout, opt.MaxRetries, tt.read, tt.retries)
			}
			if opt.DialTimeout != redisconn.DefaultDialTimeout || opt.DialerRetries != 1 || !opt.ContextTimeoutEnabled {
				t.Errorf("dial timeout %v, dialer retries %d, context timeouts %v", opt.DialTimeout, opt.DialerRetries, opt.ContextTimeoutEnabled)
			}
		})
	}
}

// Open does not connect, so myapi starts while Redis is down, and a call
// to a Redis that is not there fails fast.
func TestOpenWithRedisDown(t *testing.T) {
	c, err := redisconn.Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatalf("Open must not need Redis: %v", err)
	}
	defer c.Close()
	start := time.Now()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping to nothing succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a failed call took %v", d)
	}
}

// With redisconn's real (short) timeouts, a live Redis answers.
func TestOpenLiveRedis(t *testing.T) {
	c, err := redisconn.Open(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var lastErr error
	for i := 0; i < 20; i++ { // the first dial may be slow on a loaded machine
		if lastErr = c.Ping(ctx).Err(); lastErr == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("ping: %v", lastErr)
}

// A client made by Open reconnects by itself when its Redis comes back.
func TestOpenReconnectsAfterRestart(t *testing.T) {
	srv := redistest.StartServer(t)
	c, err := redisconn.Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	eventually(t, func() error { return c.Set(ctx, "k", "v", 0).Err() })
	srv.Kill()
	if err := c.Get(ctx, "k").Err(); err == nil {
		t.Fatal("a killed Redis answered")
	}
	srv.Start()
	eventually(t, func() error { return c.Set(ctx, "k", "v2", 0).Err() })
}

func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 10s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSetLoggerRoutesGoRedisLinesToDebug(t *testing.T) {
	logs := &lockedBuffer{}
	redisconn.SetLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { redisconn.SetLogger(slog.New(slog.DiscardHandler)) })
	c, err := redisconn.Open("redis://127.0.0.1:1/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.Ping(context.Background()).Err()
	out := logs.String()
	if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "failed to dial") || !strings.Contains(out, "component=go-redis") {
		t.Fatalf("go-redis's dial failure not logged at debug level: %q", out)
	}
}
