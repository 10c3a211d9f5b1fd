package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// liveTokens is a ResetStore that knows one live token hash.
type liveTokens struct {
	ResetStore
	live string
}

func (l liveTokens) CheckResetToken(_ context.Context, tokenHash string, _ time.Time) error {
	if tokenHash != l.live {
		return ErrResetTokenInvalid
	}
	return nil
}

// A bogus reset token is refused without waiting for a bcrypt slot: with
// every slot taken, the refusal still comes at once.
func TestResetPasswordChecksTokenBeforeHashing(t *testing.T) {
	h, err := NewHasher(4, 1)
	if err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{} // every slot busy
	defer h.release()
	s := &Service{hasher: h, now: time.Now}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	for _, c := range []struct {
		name, token, password string
		want                  error
	}{
		{"unknown token", "bogus", "new password 123", ErrResetTokenInvalid},
		{"empty token", "", "new password 123", ErrResetTokenInvalid},
		{"NUL in the password", "bogus", "new\x00password", ErrInvalidPassword},
	} {
		start := time.Now()
		_, err := s.ResetPassword(ctx, liveTokens{live: hashToken("real")}, c.token, c.password)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v: it waited for a bcrypt slot", c.name, d)
		}
	}
}
