package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"myapi/internal/users"
)

// Session is one login: a chain of refresh tokens of which only the newest
// is valid. Only a hash of that token is stored, and of the one it replaced
// (for the grace period of Policy.RefreshReuseGrace).
type Session struct {
	ID        string
	UserID    int64
	TokenHash string
	ExpiresAt time.Time
	RevokedAt *time.Time
	// PrevTokenHash and RotatedAt record the last rotation: the token it
	// replaced, and when. Empty and nil before the first one.
	PrevTokenHash string
	RotatedAt     *time.Time
}

// SessionStore persists login sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID returns ErrSessionNotFound when there is none. Times come
	// back in UTC.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RotateSession replaces the token hash if oldHash is the current one and
	// the session is neither revoked nor expired at now, sets expiresAt, and
	// records oldHash and now as PrevTokenHash and RotatedAt; it reports
	// whether it did. Two concurrent rotations of one token: only one
	// succeeds.
	RotateSession(ctx context.Context, id, oldHash, newHash string, expiresAt, now time.Time) (bool, error)
	// RevokeSession marks one session revoked.
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// RevokeUserSessions marks every session of a user revoked.
	RevokeUserSessions(ctx context.Context, userID int64, now time.Time) error
}

func (s *Service) startSession(ctx context.Context, userID int64) (TokenPair, error) {
	now := s.now()
	sid := randomID()
	g := grant{userID: userID, sessionID: sid, now: now, authTime: now, notAfter: s.sessionEnd(now)}
	g.typ = TypeRefresh
	refresh, exp, err := s.tokens.issue(g)
	if err != nil {
		return TokenPair{}, err
	}
	if err := s.sessions.CreateSession(ctx, &Session{ID: sid, UserID: userID, TokenHash: hashToken(refresh), ExpiresAt: exp}); err != nil {
		return TokenPair{}, fmt.Errorf("start session: %w", err)
	}
	g.typ = TypeAccess
	access, _, err := s.tokens.issue(g)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// Refresh exchanges a refresh token for a new pair. The presented token
// stops working; presenting it again within Policy.RefreshReuseGrace gets
// the same new pair (a double click, a retried request), and later is
// taken as theft: the whole session is revoked. A session ends for good
// Policy.SessionMax after its password login.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	claims, err := s.tokens.Parse(refreshToken, TypeRefresh)
	if err != nil {
		return TokenPair{}, err
	}
	userID, err := claims.UserID()
	if err != nil {
		return TokenPair{}, err
	}
	// JWT times are whole seconds; a pair issued again in the grace period
	// must carry the very times of the first issue, which the session
	// stores as RotatedAt.
	now := s.now().Truncate(time.Second)
	authTime := claims.LoginTime()
	if end := s.sessionEnd(authTime); !end.IsZero() && !now.Before(end) {
		return TokenPair{}, ErrInvalidToken
	}
	u, err := s.users.UserByID(ctx, userID)
	if errors.Is(err, users.ErrNotFound) {
		return TokenPair{}, ErrInvalidToken
	} else if err != nil {
		return TokenPair{}, fmt.Errorf("refresh: %w", err)
	}
	if !u.IsActive {
		return TokenPair{}, ErrInactive
	}

	oldHash := hashToken(refreshToken)
	pair, exp, err := s.rotationPair(userID, claims.SessionID, oldHash, authTime, now)
	if err != nil {
		return TokenPair{}, err
	}
	rotated, err := s.sessions.RotateSession(ctx, claims.SessionID, oldHash, hashToken(pair.RefreshToken), exp, now)
	if err != nil {
		return TokenPair{}, fmt.Errorf("refresh: %w", err)
	}
	if rotated {
		return pair, nil
	}
	sess, err := s.sessions.SessionByID(ctx, claims.SessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return TokenPair{}, ErrInvalidToken
	} else if err != nil {
		return TokenPair{}, fmt.Errorf("refresh: %w", err)
	}
	if again, ok, err := s.sameRotation(sess, userID, oldHash, authTime, now); err != nil || ok {
		return again, err
	}
	if err := s.revokeOnReuse(ctx, sess, oldHash, now); err != nil {
		return TokenPair{}, err
	}
	return TokenPair{}, ErrInvalidToken
}

// sessionEnd is when a session whose password login happened at authTime
// ends for good; zero when sessions have no absolute lifetime.
func (s *Service) sessionEnd(authTime time.Time) time.Time {
	if s.policy.SessionMax <= 0 {
		return time.Time{}
	}
	return authTime.Add(s.policy.SessionMax)
}

// rotationPair is the pair that replaces the refresh token hashed oldHash
// at now: the same arguments always give the same tokens, byte for byte.
func (s *Service) rotationPair(userID int64, sid, oldHash string, authTime, now time.Time) (TokenPair, time.Time, error) {
	g := grant{userID: userID, sessionID: sid, now: now, authTime: authTime, notAfter: s.sessionEnd(authTime)}
	g.typ, g.id = TypeRefresh, s.tokens.derivedID("rotate", TypeRefresh, oldHash)
	refresh, exp, err := s.tokens.issue(g)
	if err != nil {
		return TokenPair{}, time.Time{}, err
	}
	g.typ, g.id = TypeAccess, s.tokens.derivedID("rotate", TypeAccess, oldHash)
	access, _, err := s.tokens.issue(g)
	if err != nil {
		return TokenPair{}, time.Time{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, exp, nil
}

// sameRotation returns the pair the token hashed oldHash was exchanged for,
// if it was the session's last rotation, less than the grace period ago,
// and the session is live.
func (s *Service) sameRotation(sess *Session, userID int64, oldHash string, authTime, now time.Time) (TokenPair, bool, error) {
	if s.policy.RefreshReuseGrace <= 0 || sess.RevokedAt != nil || sess.RotatedAt == nil ||
		sess.PrevTokenHash != oldHash || now.Sub(*sess.RotatedAt) > s.policy.RefreshReuseGrace || !now.Before(sess.ExpiresAt) {
		return TokenPair{}, false, nil
	}
	pair, _, err := s.rotationPair(userID, sess.ID, oldHash, authTime, *sess.RotatedAt)
	if err != nil {
		return TokenPair{}, false, err
	}
	if hashToken(pair.RefreshToken) != sess.TokenHash {
		return TokenPair{}, false, nil
	}
	return pair, true, nil
}

// revokeOnReuse revokes a live session whose older token was presented.
func (s *Service) revokeOnReuse(ctx context.Context, sess *Session, presentedHash string, now time.Time) error {
	if sess.RevokedAt == nil && sess.TokenHash != presentedHash {
		if err := s.sessions.RevokeSession(ctx, sess.ID, now); err != nil {
			return fmt.Errorf("refresh: revoke reused session: %w", err)
		}
	}
	return nil
}

// Logout revokes the session a refresh token belongs to.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	claims, err := s.tokens.Parse(refreshToken, TypeRefresh)
	if err != nil {
		return err
	}
	sess, err := s.sessions.SessionByID(ctx, claims.SessionID)
	if errors.Is(err, ErrSessionNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	if sess.RevokedAt != nil {
		return nil
	}
	if err := s.sessions.RevokeSession(ctx, sess.ID, s.now()); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// RevokeAllSessions ends every session of a user, e.g. after a password
// reset or a deactivation.
func (s *Service) RevokeAllSessions(ctx context.Context, userID int64) error {
	if err := s.sessions.RevokeUserSessions(ctx, userID, s.now()); err != nil {
		return fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	return nil
}

// SessionLister lists a user's login sessions, for the admin console.
type SessionLister interface {
	// UserSessions returns the sessions of userID that are neither revoked
	// nor expired at now, the newest expiry first.
	UserSessions(ctx context.Context, userID int64, now time.Time) ([]*Session, error)
}
