package cache

import (
	"context"
	"time"
)

// Key names one cached response and the generations it depends on.
type Key struct {
	// Entry names the response, e.g. "item:42" or "list:0:10".
	Entry string
	// Gens name the generations the response depends on, in a fixed order,
	// e.g. {"epoch", "item:42"}. A Store keeps one opaque value per
	// generation; bumping any of them makes the entry stale.
	Gens []string
}

// Epoch is the generation every Key depends on: bumping it invalidates
// every entry at once.
const Epoch = "epoch"

// Store keeps encoded responses tagged with the generations they were read
// under. Memory and Redis implement it.
//
// The contract that makes the cache race-free: a generation's value is
// never reused once replaced (not after an eviction or expiry either: a
// missing generation gets a fresh value), so an entry stored under old
// values can never match again.
type Store interface {
	// Get returns the tag (the current values of key.Gens, creating missing
	// ones with fresh values) and the body stored under key.Entry if it was
	// stored with that same tag and is fresh; body is nil on a miss. The
	// body must not be modified.
	Get(ctx context.Context, key Key) (tag string, body []byte, err error)
	// Set stores body under key.Entry for ttl, tagged tag, if and only if
	// tag is still the current tag of key.Gens (else it does nothing).
	Set(ctx context.Context, key Key, tag string, body []byte, ttl time.Duration) error
	// Bump gives each named generation a new value, so that every entry
	// that depends on it stops matching.
	Bump(ctx context.Context, gens ...string) error
}
