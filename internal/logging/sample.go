package logging

import (
	"math/rand/v2"
	"time"
)

// Sampler decides which access-log lines are written when only a share of
// the successful requests is logged (ACCESS_LOG_SAMPLE_RATE below 1). A
// request that failed (status 400 or more) or was slow is always logged:
// those are the lines someone looks for.
type Sampler struct {
	rate float64
	// keepBelow: a successful, fast request is kept when a uniform random
	// uint64 is below it (rate × 2^64).
	keepBelow uint64
	slow      time.Duration
}

// NewSampler returns a sampler keeping rate (0-1) of the successful
// requests faster than slow, or nil when rate is 1 or more: every line is
// written and none carries a sample rate.
func NewSampler(rate float64, slow time.Duration) *Sampler {
	if rate >= 1 {
		return nil
	}
	if rate < 0 {
		rate = 0
	}
	return &Sampler{rate: rate, keepBelow: uint64(rate * (1 << 64)), slow: slow}
}

// Keep reports whether the line of a request answered with status after
// elapsed is written, and the sample rate the line carries: 1 for a line
// always written, the configured rate for a sampled success, so that
// summing 1/sample_rate over the lines counts the requests.
func (s *Sampler) Keep(status int, elapsed time.Duration) (keep bool, rate float64) {
	if status >= 400 || elapsed >= s.slow {
		return true, 1
	}
	// math/rand/v2's global generator: per-thread state, no lock.
	return rand.Uint64() < s.keepBelow, s.rate
}
