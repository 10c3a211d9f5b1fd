package logging

import (
	"testing"
	"time"
)

func TestSampler(t *testing.T) {
	t.Parallel()
	if s := NewSampler(1, time.Second); s != nil {
		t.Errorf("NewSampler(1) = %+v, want nil (no sampling)", s)
	}
	if s := NewSampler(1.5, time.Second); s != nil {
		t.Errorf("NewSampler(1.5) = %+v, want nil (no sampling)", s)
	}
	for _, c := range []struct {
		name     string
		rate     float64
		status   int
		elapsed  time.Duration
		minKept  int // out of 1000
		maxKept  int
		wantRate float64
	}{
		{"rate 0, success", 0, 200, time.Millisecond, 0, 0, 0},
		{"rate 0, redirect", 0, 304, time.Millisecond, 0, 0, 0},
		{"rate 0, 400", 0, 400, time.Millisecond, 1000, 1000, 1},
		{"rate 0, 404", 0, 404, time.Millisecond, 1000, 1000, 1},
		{"rate 0, 429", 0, 429, time.Millisecond, 1000, 1000, 1},
		{"rate 0, 500", 0, 500, time.Millisecond, 1000, 1000, 1},
		{"rate 0, 503", 0, 503, time.Millisecond, 1000, 1000, 1},
		{"rate 0, slow success", 0, 200, time.Second, 1000, 1000, 1},
		{"rate 0, just below slow", 0, 200, time.Second - time.Nanosecond, 0, 0, 0},
		// 1000 draws: outside these bounds has a probability below 1e-12.
		{"rate 0.1, success", 0.1, 200, time.Millisecond, 40, 180, 0.1},
		{"rate 0.5, success", 0.5, 201, time.Millisecond, 380, 620, 0.5},
		{"rate 0.99, success", 0.99, 204, time.Millisecond, 950, 1000, 0.99},
		{"negative rate is 0", -1, 200, time.Millisecond, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := NewSampler(c.rate, time.Second)
			kept := 0
			for i := 0; i < 1000; i++ {
				keep, rate := s.Keep(c.status, c.elapsed)
				if rate != c.wantRate {
					t.Fatalf("Keep(%d, %s) rate = %v, want %v", c.status, c.elapsed, rate, c.wantRate)
				}
				if keep {
					kept++
				}
			}
			if kept < c.minKept || kept > c.maxKept {
				t.Errorf("kept %d of 1000, want %d-%d", kept, c.minKept, c.maxKept)
			}
		})
	}
}

// BenchmarkSamplerKeep: what deciding costs a sampled request.
func BenchmarkSamplerKeep(b *testing.B) {
	s := NewSampler(0.1, time.Second)
	for b.Loop() {
		s.Keep(200, time.Millisecond)
	}
}
