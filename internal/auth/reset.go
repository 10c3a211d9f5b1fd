package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"myapi/internal/sqldb"
	"myapi/internal/users"
)

// ErrResetTokenInvalid is a password-reset token that is unknown, used or
// expired: the three are not told apart.
var ErrResetTokenInvalid = errors.New("invalid or expired reset token")

// ResetStore persists password-reset tokens, by hash only, and does the
// periodic clean-up of what has stopped working.
type ResetStore interface {
	// CreateResetToken stores the hash of a new token of userID, unless
	// quietSince is set and a token of userID was created after it; it
	// reports whether it stored. Concurrent calls for one user take turns,
	// so of several in one quiet period exactly one stores.
	CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt, quietSince time.Time) (bool, error)
	// CheckResetToken returns ErrResetTokenInvalid unless tokenHash names
	// a token that is unused and unexpired at now. It changes nothing.
	CheckResetToken(ctx context.Context, tokenHash string, now time.Time) error
	// ResetPassword, in one transaction: if tokenHash names a token that is
	// unused and unexpired at now, sets the user's password hash, marks
	// every token of the user used and revokes every session of the user,
	// and returns the user's id. Otherwise ErrResetTokenInvalid and nothing
	// changes. Of two concurrent uses of one token only one succeeds.
	ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error)
	// PurgeExpired deletes sessions that expired or were revoked before
	// now, and reset tokens that were used or expired before now.
	PurgeExpired(ctx context.Context, now time.Time) (sessions, tokens int64, err error)
}

// ResetTokenFor issues a password-reset token for a user, stores its hash
// with the given lifetime and returns the token (to be sent, never
// stored). With a quiet period, no token is issued ("", nil) if the user
// was sent one less than quiet ago: recovery cannot flood a mailbox.
func (s *Service) ResetTokenFor(ctx context.Context, resets ResetStore, userID int64, ttl, quiet time.Duration) (string, error) {
	now := s.now().UTC()
	var quietSince time.Time
	if quiet > 0 {
		quietSince = now.Add(-quiet)
	}
	token := randomToken()
	stored, err := resets.CreateResetToken(ctx, userID, hashToken(token), now.Add(ttl), quietSince)
	if err != nil {
		return "", fmt.Errorf("create reset token: %w", err)
	}
	if !stored {
		return "", nil
	}
	return token, nil
}

// ResetPassword sets a new password with a reset token. The password is
// checked first (ErrInvalidPassword), then the token, before the new
// password is hashed: a bogus token never waits for a bcrypt slot. The token
// works once, and every session of the user is revoked with the change.
func (s *Service) ResetPassword(ctx context.Context, resets ResetStore, token, newPassword string) (int64, error) {
	if strings.ContainsRune(newPassword, 0) {
		return 0, ErrInvalidPassword
	}
	if token == "" {
		return 0, ErrResetTokenInvalid
	}
	tokenHash := hashToken(token)
	if err := resets.CheckResetToken(ctx, tokenHash, s.now().UTC()); err != nil {
		if errors.Is(err, ErrResetTokenInvalid) {
			return 0, ErrResetTokenInvalid
		}
		return 0, fmt.Errorf("reset password: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	// The token is checked again, atomically with the change: it may have
	// been used or expired while the password was hashed.
	id, err := resets.ResetPassword(ctx, tokenHash, hash, s.now().UTC())
	if err != nil {
		if errors.Is(err, ErrResetTokenInvalid) || errors.Is(err, users.ErrNotFound) {
			return 0, ErrResetTokenInvalid
		}
		return 0, fmt.Errorf("reset password: %w", err)
	}
	return id, nil
}

// OnRegister sets a hook that runs in the transaction storing each user
// that Register creates (see users.Store.CreateUser): the user is stored
// only if the hook succeeds. The job queue enqueues the welcome email
// with it. Set it before serving; nil removes it.
func (s *Service) OnRegister(hook func(ctx context.Context, tx sqldb.Tx, u *users.User) error) {
	s.onRegister = hook
}

// randomToken returns 256 random bits, URL-safe: a reset token.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b[:])
}
