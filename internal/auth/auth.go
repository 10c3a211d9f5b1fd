// Package auth registers users, checks passwords, and issues, rotates and
// revokes the JWT access and refresh tokens of login sessions.
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"myapi/internal/users"
)

// Errors the Service returns; the HTTP layer maps each to a status.
var (
	ErrInvalidCredentials = errors.New("incorrect username or password")
	ErrInactive           = errors.New("inactive user")
	ErrSessionNotFound    = errors.New("session not found")
)

// Session is one login: a chain of refresh tokens of which only the newest
// is valid. Only a hash of that token is stored.
type Session struct {
	ID        string
	UserID    int64
	TokenHash string
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// SessionStore persists login sessions.
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID returns ErrSessionNotFound when there is none. Times come
	// back in UTC.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RotateSession replaces the token hash if oldHash is the current one and
	// the session is neither revoked nor expired at now; it reports whether
	// it did. Two concurrent rotations of one token: only one succeeds.
	RotateSession(ctx context.Context, id, oldHash, newHash string, expiresAt, now time.Time) (bool, error)
	// RevokeSession marks one session revoked.
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// RevokeUserSessions marks every session of a user revoked.
	RevokeUserSessions(ctx context.Context, userID int64, now time.Time) error
}

// TokenPair is what login and refresh return.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
}

// Service implements registration, login and the token life cycle.
type Service struct {
	users    users.Store
	sessions SessionStore
	hasher   *Hasher
	tokens   *Tokens
	now      func() time.Time
	// onRegister runs in the transaction of each registration.
	onRegister func(ctx context.Context, tx any, u *users.User) error
}

// NewService wires a Service from its parts.
func NewService(us users.Store, ss SessionStore, h *Hasher, t *Tokens) *Service {
	return &Service{users: us, sessions: ss, hasher: h, tokens: t, now: time.Now}
}

// Register creates an active, non-superuser account.
func (s *Service) Register(ctx context.Context, email, username, password string) (*users.User, error) {
	return s.createUser(ctx, email, username, password, false, s.onRegister)
}

// CreateSuperuser creates an active superuser account.
func (s *Service) CreateSuperuser(ctx context.Context, email, username, password string) (*users.User, error) {
	return s.createUser(ctx, email, username, password, true, nil)
}

func (s *Service) createUser(ctx context.Context, email, username, password string, super bool,
	hook func(ctx context.Context, tx any, u *users.User) error) (*users.User, error) {
	email = users.NormalizeEmail(email)
	// Cheap checks first, so a taken name costs no bcrypt; the database's
	// unique indexes still decide races between concurrent registrations.
	if _, err := s.users.UserByEmail(ctx, email); err == nil {
		return nil, users.ErrEmailTaken
	} else if !errors.Is(err, users.ErrNotFound) {
		return nil, fmt.Errorf("register: %w", err)
	}
	if _, err := s.users.UserByUsername(ctx, username); err == nil {
		return nil, users.ErrUsernameTaken
	} else if !errors.Is(err, users.ErrNotFound) {
		return nil, fmt.Errorf("register: %w", err)
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	u := &users.User{Email: email, Username: username, PasswordHash: hash, IsActive: true, IsSuperuser: super}
	var hooks []users.TxHook
	if hook != nil {
		hooks = append(hooks, func(ctx context.Context, tx any) error { return hook(ctx, tx, u) })
	}
	if err := s.users.CreateUser(ctx, u, hooks...); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return u, nil
}

// Login checks a username and password and starts a session. It takes as
// long for an unknown username as for a wrong password.
func (s *Service) Login(ctx context.Context, username, password string) (*users.User, TokenPair, error) {
	u, err := s.users.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, users.ErrNotFound) {
		return nil, TokenPair{}, fmt.Errorf("login: %w", err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		return nil, TokenPair{}, fmt.Errorf("login: %w", err)
	}
	if !ok || u == nil {
		return nil, TokenPair{}, ErrInvalidCredentials
	}
	if !u.IsActive {
		return nil, TokenPair{}, ErrInactive
	}
	pair, err := s.startSession(ctx, u.ID)
	return u, pair, err
}

func (s *Service) startSession(ctx context.Context, userID int64) (TokenPair, error) {
	now := s.now()
	sid := randomID()
	refresh, exp, err := s.tokens.Issue(TypeRefresh, userID, sid, now)
	if err != nil {
		return TokenPair{}, err
	}
	if err := s.sessions.CreateSession(ctx, &Session{ID: sid, UserID: userID, TokenHash: hashToken(refresh), ExpiresAt: exp}); err != nil {
		return TokenPair{}, fmt.Errorf("start session: %w", err)
	}
	access, _, err := s.tokens.Issue(TypeAccess, userID, sid, now)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh}, nil
}

// Refresh exchanges a refresh token for a new pair. The presented token
// stops working; presenting it again later is taken as theft, and the whole
// session is revoked.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (TokenPair, error) {
	claims, err := s.tokens.Parse(refreshToken, TypeRefresh)
	if err != nil {
		return TokenPair{}, err
	}
	userID, err := claims.UserID()
	if err != nil {
		return TokenPair{}, err
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

	now := s.now()
	newRefresh, exp, err := s.tokens.Issue(TypeRefresh, userID, claims.SessionID, now)
	if err != nil {
		return TokenPair{}, err
	}
	oldHash := hashToken(refreshToken)
	rotated, err := s.sessions.RotateSession(ctx, claims.SessionID, oldHash, hashToken(newRefresh), exp, now)
	if err != nil {
		return TokenPair{}, fmt.Errorf("refresh: %w", err)
	}
	if !rotated {
		if err := s.revokeOnReuse(ctx, claims.SessionID, oldHash, now); err != nil {
			return TokenPair{}, err
		}
		return TokenPair{}, ErrInvalidToken
	}
	access, _, err := s.tokens.Issue(TypeAccess, userID, claims.SessionID, now)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: newRefresh}, nil
}

// revokeOnReuse revokes a live session whose older token was presented.
func (s *Service) revokeOnReuse(ctx context.Context, sid, presentedHash string, now time.Time) error {
	sess, err := s.sessions.SessionByID(ctx, sid)
	if errors.Is(err, ErrSessionNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	if sess.RevokedAt == nil && sess.TokenHash != presentedHash {
		if err := s.sessions.RevokeSession(ctx, sid, now); err != nil {
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

// Authenticate resolves an access token to its active user.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (*users.User, error) {
	userID, err := s.AccessTokenUser(accessToken)
	if err != nil {
		return nil, err
	}
	return s.ActiveUser(ctx, userID)
}

// ActiveUser is the second half of Authenticate, for a caller that has
// already checked the access token (AccessTokenUser): the user it names,
// ErrInvalidToken if that user is gone, ErrInactive if deactivated.
func (s *Service) ActiveUser(ctx context.Context, userID int64) (*users.User, error) {
	u, err := s.users.UserByID(ctx, userID)
	if errors.Is(err, users.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !u.IsActive {
		return u, ErrInactive
	}
	return u, nil
}

// AccessTokenUser returns the user id of a valid access token without
// looking the user up (ErrInvalidToken otherwise): the first half of
// Authenticate, cheap enough to key a rate limit by user.
func (s *Service) AccessTokenUser(token string) (int64, error) {
	claims, err := s.tokens.Parse(token, TypeAccess)
	if err != nil {
		return 0, err
	}
	return claims.UserID()
}

// HashPassword hashes a new password for storage.
func (s *Service) HashPassword(ctx context.Context, password string) (string, error) {
	return s.hasher.Hash(ctx, password)
}

// hashToken is how refresh tokens are stored: SHA-256 suffices because the
// token is a long random secret, not a guessable password.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// AccessTTL is how long the access tokens this Service issues live.
func (s *Service) AccessTTL() time.Duration { return s.tokens.accessTTL }
