package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testCost is bcrypt's minimum: these tests check behaviour, not strength.
const testCost = bcrypt.MinCost

func newTestHasher(t *testing.T, concurrency int) *Hasher {
	t.Helper()
	h, err := NewHasher(testCost, concurrency)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A NUL byte never gets into a stored password, so the NUL-prefixed digest
// of a long password cannot be typed in as a password of its own.
func TestHasherRefusesNUL(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newTestHasher(t, 0)
	if _, err := h.Hash(ctx, "pass\x00word"); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("Hash with NUL: %v, want ErrInvalidPassword", err)
	}
	long := strings.Repeat("long password ", 10)
	hash, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(long))
	digest := base64.StdEncoding.EncodeToString(sum[:])
	for _, guess := range []string{digest, "\x00" + digest} {
		if ok, _ := h.Verify(ctx, hash, guess); ok {
			t.Errorf("the digest %q logs in as the long password", guess)
		}
	}
}

func TestHasherRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newTestHasher(t, 0)
	passwords := []struct{ name, pw string }{
		{"empty", ""},
		{"short", "secret"},
		{"typical", "correct horse battery staple"},
		{"korean", "비밀번호는안전해야합니다"},
		{"emoji", "🔐🗝️🦄 pass"},
		{"sql", "'; DROP TABLE users; --"},
		{"71 bytes", strings.Repeat("p", 71)},
		{"72 bytes", strings.Repeat("p", 72)},
		{"73 bytes", strings.Repeat("p", 73)},
		{"1000 bytes", strings.Repeat("long password ", 72)[:1000]},
		{"long multibyte", strings.Repeat("가", 100)},
	}
	for _, p := range passwords {
		hash, err := h.Hash(ctx, p.pw)
		if err != nil {
			t.Errorf("%s: Hash: %v", p.name, err)
			continue
		}
		if !strings.HasPrefix(hash, "$2a$04$") {
			t.Errorf("%s: hash %q is not a cost-%d bcrypt hash", p.name, hash, testCost)
		}
		if strings.Contains(hash, p.pw) && p.pw != "" {
			t.Errorf("%s: the hash contains the password", p.name)
		}
		if ok, err := h.Verify(ctx, hash, p.pw); !ok || err != nil {
			t.Errorf("%s: Verify(right password) = %v, %v; want true", p.name, ok, err)
		}
		for _, wrong := range []string{p.pw + "x", "x" + p.pw, strings.ToUpper(p.pw) + "!", ""} {
			if wrong == p.pw {
				continue
			}
			if ok, err := h.Verify(ctx, hash, wrong); ok || err != nil {
				t.Errorf("%s: Verify(%.20q…) = %v, %v; want false", p.name, wrong, ok, err)
			}
		}
		again, err := h.Hash(ctx, p.pw)
		if err != nil || again == hash {
			t.Errorf("%s: hashing twice gave the same hash (no salt?) or %v", p.name, err)
		}
	}
}

// The seed's passlib bcrypt ignored everything after byte 72, so two long
// passwords with a common 72-byte prefix were the same password.
func TestHasherLongPasswordsNotTruncated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newTestHasher(t, 0)
	prefix := strings.Repeat("x", 72)
	cases := []struct{ stored, tried string }{
		{prefix + "AAAA", prefix + "ZZZZ"},
		{prefix + "A", prefix + "B"},
		{prefix + "A", prefix},
		{prefix, prefix + "A"},
		{strings.Repeat("가", 30), strings.Repeat("가", 24) + strings.Repeat("나", 6)}, // 90 bytes, same first 72
		{strings.Repeat("y", 500) + "1", strings.Repeat("y", 500) + "2"},
	}
	for _, c := range cases {
		hash, err := h.Hash(ctx, c.stored)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := h.Verify(ctx, hash, c.tried); ok || err != nil {
			t.Errorf("password of %d bytes verified a different one of %d bytes with the same first 72: %v, %v",
				len(c.stored), len(c.tried), ok, err)
		}
		if ok, _ := h.Verify(ctx, hash, c.stored); !ok {
			t.Errorf("password of %d bytes does not verify itself", len(c.stored))
		}
	}
}

// Passwords bcrypt can take whole stay plain bcrypt, so hashes move freely
// between myapi, the seed (passlib, $2b$) and any other bcrypt library.
func TestHasherPlainBcryptUpTo72Bytes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newTestHasher(t, 0)
	for _, pw := range []string{"a", "password123", strings.Repeat("z", 72), strings.Repeat("é", 36)} {
		hash, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); err != nil {
			t.Errorf("%d-byte password: our hash is not plain bcrypt: %v", len(pw), err)
		}
		// A hash made elsewhere, in the $2b$ form passlib writes.
		theirs, err := bcrypt.GenerateFromPassword([]byte(pw), testCost)
		if err != nil {
			t.Fatal(err)
		}
		for _, foreign := range []string{string(theirs), "$2b$" + string(theirs[4:]), "$2y$" + string(theirs[4:])} {
			if ok, err := h.Verify(ctx, foreign, pw); !ok || err != nil {
				t.Errorf("%d-byte password: Verify(%s…) = %v, %v; want true", len(pw), foreign[:7], ok, err)
			}
		}
	}
	// Longer passwords are pre-hashed: their first 72 bytes alone do not
	// match, as they would if they were truncated.
	long := strings.Repeat("q", 73)
	hash, err := h.Hash(ctx, long)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(long[:72])) == nil {
		t.Errorf("a 73-byte password's hash matches its first 72 bytes: it was truncated")
	}
}

func TestHasherVerifyBadHashes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newTestHasher(t, 0)
	// No user: an empty hash never verifies, whatever the password.
	for _, pw := range []string{"", "timing-equaliser-not-a-password", "anything"} {
		if ok, err := h.Verify(ctx, "", pw); ok || err != nil {
			t.Errorf("Verify(empty hash, %q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
	// A corrupt stored hash is an error, never a match.
	for _, hash := range []string{"not-a-hash", "$2a$04$short", "plaintext-password"} {
		if ok, err := h.Verify(ctx, hash, "plaintext-password"); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", hash, ok, err)
		}
	}
}

func TestNewHasher(t *testing.T) {
	t.Parallel()
	for _, cost := range []int{-1, 0, bcrypt.MinCost - 1, bcrypt.MaxCost + 1} {
		if _, err := NewHasher(cost, 1); err == nil {
			t.Errorf("NewHasher(cost %d) succeeded, want an error", cost)
		}
	}
	h := newTestHasher(t, 0)
	if got, want := cap(h.slots), runtime.GOMAXPROCS(0); got != want {
		t.Errorf("default concurrency = %d, want GOMAXPROCS = %d", got, want)
	}
	if h := newTestHasher(t, 3); cap(h.slots) != 3 {
		t.Errorf("concurrency = %d, want 3", cap(h.slots))
	}
}

// work is what Verify spends on hash, in bcrypt's units: a check at cost c
// is 2^c rounds of its key schedule.
func work(t *testing.T, h *Hasher, hash string) int {
	t.Helper()
	checks, err := h.checks(hash)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range checks {
		cost, err := bcrypt.Cost(c)
		if err != nil {
			t.Fatal(err)
		}
		total += 1 << cost
	}
	return total
}

// TestVerifyWorkParity: a failed login costs the same bcrypt work whether
// the account is unknown (the dummy hash) or stored at the configured cost
// or at a lower one (made before BCRYPT_COST was raised). Counting work,
// not timing it, keeps the test exact on a loaded machine.
func TestVerifyWorkParity(t *testing.T) {
	t.Parallel()
	const cost = testCost + 3
	h, err := NewHasher(cost, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 << cost
	if got := work(t, h, ""); got != want {
		t.Errorf("unknown user: work %d, want %d (a dummy at the configured cost)", got, want)
	}
	for c := testCost; c <= cost; c++ {
		stored, err := bcrypt.GenerateFromPassword([]byte("password123"), c)
		if err != nil {
			t.Fatal(err)
		}
		if got := work(t, h, string(stored)); got != want {
			t.Errorf("stored hash of cost %d: work %d, want %d", c, got, want)
		}
		if got := h.NeedsRehash(string(stored)); got != (c != cost) {
			t.Errorf("NeedsRehash(cost %d) = %v", c, got)
		}
		// The padding never changes the answer.
		for pw, match := range map[string]bool{"password123": true, "password124": false} {
			if ok, err := h.Verify(t.Context(), string(stored), pw); ok != match || err != nil {
				t.Errorf("Verify(cost %d, %q) = %v, %v; want %v", c, pw, ok, err, match)
			}
		}
	}
}

// A waiting hash gives up when its request does.
func TestHasherAcquireHonoursContext(t *testing.T) {
	t.Parallel()
	h := newTestHasher(t, 2)
	hash, err := h.Hash(t.Context(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	// Take every slot, as two long hashes would.
	h.slots <- struct{}{}
	h.slots <- struct{}{}

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with every slot taken = %v, want DeadlineExceeded", err)
	}
	if ok, err := h.Verify(ctx, hash, "pw"); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify with every slot taken = %v, %v; want DeadlineExceeded", ok, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waiting for a slot ignored the deadline for %v", d)
	}
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if _, err := h.Hash(cancelled, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context = %v, want Canceled", err)
	}

	// A waiter proceeds as soon as a slot frees up.
	done := make(chan error, 1)
	go func() {
		ok, err := h.Verify(t.Context(), hash, "pw")
		if err == nil && !ok {
			err = errors.New("Verify = false")
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Verify ran with every slot taken: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	<-h.slots
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Verify after a slot freed: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Verify still waiting after a slot freed")
	}
	<-h.slots
	if len(h.slots) != 0 {
		t.Errorf("%d slots still held after every hash finished", len(h.slots))
	}
}

// No more than `concurrency` hashes run at once, however many are asked for.
func TestHasherBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const limit, callers = 2, 12
	// Cost 8 makes each hash last long enough for the sampler to see it.
	h, err := NewHasher(8, limit)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		maxInUse  int
		stop      = make(chan struct{})
		sampler   sync.WaitGroup
		callersWG sync.WaitGroup
	)
	sampler.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n := len(h.slots); n > 0 {
				mu.Lock()
				maxInUse = max(maxInUse, n)
				mu.Unlock()
			}
			runtime.Gosched()
		}
	})
	errs := make(chan error, callers)
	for range callers {
		callersWG.Go(func() {
			if _, err := h.Hash(t.Context(), "concurrent"); err != nil {
				errs <- err
			}
		})
	}
	callersWG.Wait()
	close(stop)
	sampler.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Hash: %v", err)
	}
	if maxInUse > limit {
		t.Errorf("%d hashes ran at once, want at most %d", maxInUse, limit)
	}
	if maxInUse == 0 {
		t.Errorf("never saw a hash holding a slot")
	}
	if len(h.slots) != 0 {
		t.Errorf("%d slots leaked", len(h.slots))
	}
}
