package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

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
type Hasher struct {
	cost  int
	slots chan struct{}
	dummy []byte
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
	h := &Hasher{cost: cost, slots: make(chan struct{}, concurrency)}
	// A hash of a random-ish password at the same cost: checking against it
	// when a user does not exist takes as long as checking a real one.
	dummy, err := bcrypt.GenerateFromPassword([]byte("timing-equaliser-not-a-password"), cost)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	h.dummy = dummy
	return h, nil
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
// is checked against a dummy hash so that the answer takes as long.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	if hash == "" || strings.ContainsRune(password, 0) {
		onLowPriorityThread(func() { _ = bcrypt.CompareHashAndPassword(h.dummy, bcryptInput(password)) })
		return false, nil
	}
	var err error
	onLowPriorityThread(func() { err = bcrypt.CompareHashAndPassword([]byte(hash), bcryptInput(password)) })
	switch {
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
