package redisconn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"myapi/internal/redisconn"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type lockedBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Buffer.String()
}

func newBreaker(t *testing.T) (*redisconn.Breaker, *fakeClock, *lockedBuffer) {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return redisconn.NewBreaker(log, redisconn.BreakerOptions{Retry: 2 * time.Second, Now: clock.Now}), clock, logs
}

var errDown = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

func TestBreakerSkipsRedisAfterAFailureThenProbesOnce(t *testing.T) {
	b, clock, _ := newBreaker(t)
	ctx := context.Background()
	if !b.Up() || !b.Allow() || b.Err() != nil {
		t.Fatal("a new breaker must start up")
	}
	_ = b.Record(ctx, errDown)
	if b.Up() {
		t.Fatal("still up after a failure")
	}
	if err := b.Err(); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Err() = %v, want the last failure", err)
	}
	for i := 0; i < 100; i++ {
		if b.Allow() {
			t.Fatal("allowed a call during the retry interval")
		}
	}
	clock.Advance(2 * time.Second)
	if !b.Allow() {
		t.Fatal("no probe after the retry interval")
	}
	if b.Allow() {
		t.Fatal("a second probe in the same interval")
	}
	_ = b.Record(ctx, errDown) // the probe failed
	clock.Advance(time.Second)
	if b.Allow() {
		t.Fatal("a failed probe must restart the interval")
	}
	clock.Advance(time.Second)
	if !b.Allow() {
		t.Fatal("no probe after the next interval")
	}
	_ = b.Record(ctx, nil)
	if !b.Up() || !b.Allow() || b.Err() != nil {
		t.Fatal("a successful probe must mark Redis up")
	}
}

func TestBreakerLogsEachTransitionOnce(t *testing.T) {
	b, clock, logs := newBreaker(t)
	ctx := context.Background()
	var changes []bool
	b.OnChange(func(up bool) { changes = append(changes, up) })
	for i := 0; i < 50; i++ {
		_ = b.Record(ctx, errDown)
	}
	clock.Advance(3 * time.Second)
	_ = b.Record(ctx, nil)
	_ = b.Record(ctx, nil)
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Errorf("%d warnings for one outage, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "level=INFO"); n != 1 || !strings.Contains(out, "available again") ||
		!strings.Contains(out, "failed_calls=50") || !strings.Contains(out, "down_for=3s") {
		t.Errorf("want one info line with the outage's length and failed calls:\n%s", out)
	}
	if fmt.Sprint(changes) != "[false true]" {
		t.Errorf("OnChange calls = %v, want [false true]", changes)
	}
}

func TestBreakerRecord(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		err    error
		wantUp bool
	}{
		{"success", context.Background(), nil, true},
		{"missing key is an answer", context.Background(), redis.Nil, true},
		{"connection refused", context.Background(), errDown, false},
		{"timeout", context.Background(), context.DeadlineExceeded, false},
		{"the caller gave up", canceled, context.Canceled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _, _ := newBreaker(t)
			if got := b.Record(tt.ctx, tt.err); !errors.Is(got, tt.err) {
				t.Errorf("Record returned %v, want %v", got, tt.err)
			}
			if b.Up() != tt.wantUp {
				t.Errorf("Up() = %v, want %v", b.Up(), tt.wantUp)
			}
		})
	}
}

func TestBreakerDo(t *testing.T) {
	b, _, _ := newBreaker(t)
	ctx := context.Background()
	var calls atomic.Int32
	fail := func(context.Context) error { calls.Add(1); return errDown }
	if err := b.Do(ctx, fail); !errors.Is(err, errDown) {
		t.Fatalf("Do = %v", err)
	}
	if err := b.Do(ctx, fail); !errors.Is(err, redisconn.ErrUnavailable) {
		t.Fatalf("Do while down = %v, want ErrUnavailable", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("fn called %d times, want 1", calls.Load())
	}
}

func TestBreakerWatchNoticesOutageAndRecovery(t *testing.T) {
	b := redisconn.NewBreaker(slog.New(slog.DiscardHandler), redisconn.BreakerOptions{Retry: time.Hour})
	var failing atomic.Bool
	failing.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Watch(ctx, 5*time.Millisecond, func(context.Context) error {
		if failing.Load() {
			return errDown
		}
		return nil
	})
	waitFor(t, func() bool { return !b.Up() })
	failing.Store(false)
	// Watch pings regardless of the retry interval (an hour here).
	waitFor(t, b.Up)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}
