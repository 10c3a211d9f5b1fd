package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"myapi/internal/logging"
)

// output is what a Buffered writes to: a locked buffer that counts writes.
type output struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.writes++
	return o.b.Write(p)
}

func (o *output) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := strings.TrimSuffix(o.b.String(), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func (o *output) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writes
}

func TestBuffered(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, out *output, log *slog.Logger, b *logging.Buffered)
	}{
		{"INFO lines wait for the interval, then go out in one write", func(t *testing.T, out *output, log *slog.Logger, _ *logging.Buffered) {
			for i := range 50 {
				log.Info("request", "n", i)
			}
			if n := len(out.lines()); n != 0 {
				t.Fatalf("%d lines written at once, want them held", n)
			}
			waitFor(t, func() bool { return len(out.lines()) == 50 })
			if out.count() != 1 {
				t.Errorf("%d writes for 50 lines, want 1", out.count())
			}
		}},
		{"a WARN line goes out at once, with the lines before it", func(t *testing.T, out *output, log *slog.Logger, _ *logging.Buffered) {
			log.Info("first")
			log.Warn("database unavailable")
			lines := out.lines()
			if len(lines) != 2 || !strings.Contains(lines[0], "first") || !strings.Contains(lines[1], "database unavailable") {
				t.Fatalf("after a warning: %q", lines)
			}
		}},
		{"an ERROR line with a request's context goes out at once", func(t *testing.T, out *output, log *slog.Logger, _ *logging.Buffered) {
			ctx := logging.WithAttrs(context.Background(), slog.String("request_id", "abc"))
			log.ErrorContext(ctx, "request failed")
			if lines := out.lines(); len(lines) != 1 || !strings.Contains(lines[0], `request_id=abc`) {
				t.Fatalf("after an error: %q", lines)
			}
		}},
		{"Close writes what is left", func(t *testing.T, out *output, log *slog.Logger, b *logging.Buffered) {
			log.Info("last words")
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if lines := out.lines(); len(lines) != 1 {
				t.Fatalf("after Close: %q", lines)
			}
		}},
		{"a full buffer is written without waiting", func(t *testing.T, out *output, log *slog.Logger, _ *logging.Buffered) {
			big := strings.Repeat("x", 1000)
			for range 10 { // 10 kB through a 4 kB buffer
				log.Info(big)
			}
			if out.count() == 0 {
				t.Fatal("nothing written although the buffer overflowed")
			}
		}},
		{"concurrent lines stay whole", func(t *testing.T, out *output, log *slog.Logger, b *logging.Buffered) {
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 200 {
						log.Info("line", "g", g, "i", i, "pad", strings.Repeat("y", 100))
					}
				})
			}
			wg.Wait()
			_ = b.Close()
			lines := out.lines()
			if len(lines) != 1600 {
				t.Fatalf("%d lines, want 1600", len(lines))
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "time=") || !strings.HasSuffix(l, strings.Repeat("y", 100)) {
					t.Fatalf("torn line %q", l)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &output{}
			b := logging.NewBuffered(out, 4096, 200*time.Millisecond)
			t.Cleanup(func() { _ = b.Close() })
			tt.run(t, out, logging.New(b, false, slog.LevelInfo), b)
		})
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
