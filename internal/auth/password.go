package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// ErrInvalidPassword is returned for a password that can never be stored:
// one containing a NUL byte.
var ErrInvalidPassword = errors.New("password must not contain NUL characters")

// bcryptMaxBytes is where bcrypt stops reading its input.
const bcryptMaxBytes = 72

// Hasher hashes and checks passwords with bcrypt.
//
// bcrypt is deliberately slow, so at most `concurrency` hashes run at once:
// the rest wait their turn instead of crowding the scheduler, which keeps the
// cores free enough for cheap requests to stay fast during a burst of logins.
//
// Every check costs at least as much as one at the Hasher's cost: an
// unknown user is checked against a dummy hash made at that cost, and a
// stored hash of a lower cost (made before BCRYPT_COST was raised) is
// followed by dummy checks that make up the difference. So the time of a
// failed login does not tell whether the account exists.
type Hasher struct {
	cost  int
	slots chan struct{}

	mu      sync.Mutex
	dummies map[int][]byte // by cost, made on first use
}

// NewHasher returns a Hasher with the given bcrypt cost. A concurrency of 0
// means one hash per CPU.
func NewHasher(cost, concurrency int) (*Hasher, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if concurrency <= 0 {
		concurrency = runtime.GOMAXPROCS(0)
	}
	h := &Hasher{cost: cost, slots: make(chan struct{}, concurrency), dummies: map[int][]byte{}}
	if _, err := h.dummy(cost); err != nil {
		return nil, err
	}
	return h, nil
}

// dummy returns a hash at cost of a password nobody types.
func (h *Hasher) dummy(cost int) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.dummies[cost]; ok {
		return d, nil
	}
	d, err := bcrypt.GenerateFromPassword([]byte("timing-equaliser-not-a-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	h.dummies[cost] = d
	return d, nil
}

// checks returns the hashes Verify compares a password with: first the one
// that decides (hash, or the dummy at h's cost when there is none), then
// dummies at costs c, c+1, …, h.cost-1 when hash has a lower cost c, whose
// work 2^c + 2^c + … + 2^(h.cost-1) adds up to 2^h.cost.
func (h *Hasher) checks(hash string) ([][]byte, error) {
	if hash == "" {
		d, err := h.dummy(h.cost)
		return [][]byte{d}, err
	}
	list := [][]byte{[]byte(hash)}
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return list, nil // Verify reports the malformed hash
	}
	for c := cost; c < h.cost; c++ {
		d, err := h.dummy(c)
		if err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, nil
}

// NeedsRehash reports whether hash was made at another cost than h's.
func (h *Hasher) NeedsRehash(hash string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	return err == nil && cost != h.cost
}

// Hash returns the bcrypt hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if strings.ContainsRune(password, 0) {
		return "", ErrInvalidPassword
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	var hash []byte
	var err error
	onLowPriorityThread(func() { hash, err = bcrypt.GenerateFromPassword(bcryptInput(password), h.cost) })
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// Verify reports whether password matches hash. An empty hash (no such user)
// is checked against a dummy hash so that the answer takes as long; see
// Hasher for hashes of a lower cost.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	if strings.ContainsRune(password, 0) {
		hash = "" // never matches; still takes the time of a check
	}
	checks, err := h.checks(hash)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	input := bcryptInput(password)
	onLowPriorityThread(func() {
		err = bcrypt.CompareHashAndPassword(checks[0], input)
		for _, d := range checks[1:] {
			_ = bcrypt.CompareHashAndPassword(d, input)
		}
	})
	switch {
	case hash == "":
		return false, nil
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("verify password: %w", err)
	}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// bcryptInput keeps every byte of a long password significant: bcrypt
// ignores what follows byte 72, so longer passwords are first reduced to
// their SHA-256 digest. Passwords of 72 bytes or less go in unchanged, so
// hashes stay plain bcrypt (the seed's existing hashes keep working).
//
// The digest is prefixed with a NUL byte, which no accepted password
// contains: otherwise someone who learnt the SHA-256 of a long password
// could log in by typing its base64 form.
func bcryptInput(password string) []byte {
	if len(password) <= bcryptMaxBytes {
		return []byte(password)
	}
	sum := sha256.Sum256([]byte(password))
	return []byte("\x00" + base64.StdEncoding.EncodeToString(sum[:]))
}
