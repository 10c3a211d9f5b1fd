package cache

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// Default bounds of the in-process store.
const (
	DefaultMaxEntries = 10_000
	DefaultMaxBytes   = 64 << 20
)

// MemoryOptions bound the in-process store.
type MemoryOptions struct {
	// MaxEntries is the most responses kept; 0 means DefaultMaxEntries.
	// The least recently used go first.
	MaxEntries int
	// MaxBytes bounds the total size of the kept responses; 0 means
	// DefaultMaxBytes.
	MaxBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Memory is the in-process Store, for a single instance (REDIS_URL empty).
// Its memory is bounded by MaxEntries and MaxBytes.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	seq     uint64         // last generation value handed out
	gens    *lru[uint64]   // generation name -> value
	entries *lru[memEntry] // entry name -> response
	buf     [64]byte       // scratch for tags, under mu
}

type memEntry struct {
	tag     string
	body    []byte
	expires time.Time
}

// entryOverhead approximates the bytes an entry costs beyond its body.
const entryOverhead = 128

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-process store.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.MaxEntries <= 0 {
		opts.MaxEntries = DefaultMaxEntries
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{
		now: opts.Now,
		// Forgetting a generation is always safe (it comes back with a
		// fresh value), so generations are bounded like entries.
		gens:    newLRU[uint64](opts.MaxEntries+16, 0),
		entries: newLRU[memEntry](opts.MaxEntries, opts.MaxBytes),
	}
}

// Get implements Store.
func (m *Memory) Get(_ context.Context, key Key) (string, []byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buf[:0]
	for _, g := range key.Gens {
		v, ok := m.gens.get(g)
		if !ok {
			m.seq++
			v = m.seq
			m.gens.add(g, v, 0)
		}
		b = strconv.AppendUint(b, v, 36)
		b = append(b, ':')
	}
	e, ok := m.entries.get(key.Entry)
	if !ok || e.tag != string(b) {
		return string(b), nil, nil
	}
	if !m.now().Before(e.expires) {
		m.entries.remove(key.Entry)
		return e.tag, nil, nil
	}
	return e.tag, e.body, nil
}

// Set implements Store.
func (m *Memory) Set(_ context.Context, key Key, tag string, body []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buf[:0]
	for _, g := range key.Gens {
		v, ok := m.gens.peek(g)
		if !ok {
			return nil // bumped or forgotten since: tag is stale
		}
		b = strconv.AppendUint(b, v, 36)
		b = append(b, ':')
	}
	if string(b) != tag {
		return nil
	}
	m.entries.add(key.Entry, memEntry{tag: tag, body: body, expires: m.now().Add(ttl)},
		int64(len(body)+len(key.Entry)+len(tag)+entryOverhead))
	return nil
}

// Bump implements Store.
func (m *Memory) Bump(_ context.Context, gens ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, g := range gens {
		m.seq++
		m.gens.add(g, m.seq, 0)
	}
	return nil
}

// Len is the number of responses held (fresh or not yet evicted).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.entries.len()
}
