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

	"myapi/internal/sqldb"
	"myapi/internal/users"
)

// Errors the Service returns; the HTTP layer maps each to a status.
var (
	ErrInvalidCredentials = errors.New("incorrect username or password")
	ErrInactive           = errors.New("inactive user")
	ErrSessionNotFound    = errors.New("session not found")
)

// TokenPair is what login and refresh return.
type TokenPair struct {
	AccessToken  string
	RefreshToken string
}

// Policy is how long sessions and logins count for.
type Policy struct {
	// SessionMax is a session's absolute lifetime: refreshing stops working
	// this long after the password login (SESSION_MAX_DAYS).
	SessionMax time.Duration
	// RefreshReuseGrace is how long after a rotation the replaced refresh
	// token still gets the same new pair instead of revoking the session
	// (REFRESH_REUSE_GRACE_SECONDS); 0: never.
	RefreshReuseGrace time.Duration
	// FreshLogin is how long after a password login a session may change
	// an email without the current password (FRESH_LOGIN_MINUTES).
	FreshLogin time.Duration
}

// DefaultPolicy is the Policy of a new Service: the settings' defaults.
func DefaultPolicy() Policy {
	return Policy{SessionMax: 30 * 24 * time.Hour, RefreshReuseGrace: 10 * time.Second, FreshLogin: 10 * time.Minute}
}

// Service implements registration, login and the token life cycle.
type Service struct {
	users    users.Store
	sessions SessionStore
	hasher   *Hasher
	tokens   *Tokens
	now      func() time.Time
	policy   Policy
	// onRegister runs in the transaction of each registration.
	onRegister func(ctx context.Context, tx sqldb.Tx, u *users.User) error
	// onEmailChange runs in the transaction of each change of email.
	onEmailChange func(ctx context.Context, tx sqldb.Tx, before, after *users.User) error
}

// NewService wires a Service from its parts, with DefaultPolicy().
func NewService(us users.Store, ss SessionStore, h *Hasher, t *Tokens) *Service {
	return &Service{users: us, sessions: ss, hasher: h, tokens: t, now: time.Now, policy: DefaultPolicy()}
}

// SetPolicy replaces the Policy. Set it before serving.
func (s *Service) SetPolicy(p Policy) { s.policy = p }

// SetClock makes the Service, and the Tokens it checks, read the time from
// now: tests of lifetimes move it instead of waiting. Set it before serving.
func (s *Service) SetClock(now func() time.Time) {
	s.now = now
	s.tokens.now = now
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
	hook func(ctx context.Context, tx sqldb.Tx, u *users.User) error) (*users.User, error) {
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
		hooks = append(hooks, func(ctx context.Context, tx sqldb.Tx) error { return hook(ctx, tx, u) })
	}
	if err := s.users.CreateUser(ctx, u, hooks...); err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return u, nil
}

// Login checks a username and password and starts a session. It takes as
// long for an unknown username as for a wrong password. A hash made at
// another cost than the Hasher's is replaced on the way.
func (s *Service) Login(ctx context.Context, username, password string) (*users.User, TokenPair, error) {
	u, err := s.CheckPassword(ctx, username, password)
	if err != nil {
		return nil, TokenPair{}, err
	}
	pair, err := s.startSession(ctx, u.ID)
	return u, pair, err
}

// CheckPassword is Login without the session: the active user whose
// username and password these are (ErrInvalidCredentials, ErrInactive
// otherwise), at the same cost whether or not the username exists. The
// admin console signs in with it and keeps a session of its own.
func (s *Service) CheckPassword(ctx context.Context, username, password string) (*users.User, error) {
	u, err := s.users.UserByUsername(ctx, username)
	if err != nil && !errors.Is(err, users.ErrNotFound) {
		return nil, fmt.Errorf("login: %w", err)
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok, err := s.hasher.Verify(ctx, hash, password)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok || u == nil {
		return nil, ErrInvalidCredentials
	}
	if !u.IsActive {
		return nil, ErrInactive
	}
	if err := s.rehash(ctx, u, password); err != nil {
		return nil, err
	}
	return u, nil
}

// rehash replaces u's password hash by one at the Hasher's cost if it was
// made at another (an older BCRYPT_COST, the seed's hashes), so that every
// account's check costs the same as the dummy one of unknown usernames.
func (s *Service) rehash(ctx context.Context, u *users.User, password string) error {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return nil
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("login: rehash: %w", err)
	}
	// Only if the hash is still the one checked: a password reset that
	// committed meanwhile wins.
	if _, err := s.users.ReplacePasswordHash(ctx, u.ID, u.PasswordHash, hash); err != nil {
		return fmt.Errorf("login: rehash: %w", err)
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
	a, err := s.ParseAccess(token)
	return a.UserID, err
}

// Access is what a valid access token says.
type Access struct {
	UserID int64
	// LoginTime is when its session's password login happened.
	LoginTime time.Time
}

// ParseAccess checks an access token without looking the user up
// (ErrInvalidToken when it is not a valid access token).
func (s *Service) ParseAccess(token string) (Access, error) {
	claims, err := s.tokens.Parse(token, TypeAccess)
	if err != nil {
		return Access{}, err
	}
	id, err := claims.UserID()
	if err != nil {
		return Access{}, err
	}
	return Access{UserID: id, LoginTime: claims.LoginTime()}, nil
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
