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
var DefaultPolicy = Policy{SessionMax: 30 * 24 * time.Hour, RefreshReuseGrace: 10 * time.Second, FreshLogin: 10 * time.Minute}

// Service implements registration, login and the token life cycle.
type Service struct {
	users    users.Store
	sessions SessionStore
	hasher   *Hasher
	tokens   *Tokens
	now      func() time.Time
	policy   Policy
	// onRegister runs in the transaction of each registration.
	onRegister func(ctx context.Context, tx any, u *users.User) error
	// onEmailChange runs in the transaction of each change of email.
	onEmailChange func(ctx context.Context, tx any, before, after *users.User) error
}

// NewService wires a Service from its parts, with DefaultPolicy.
func NewService(us users.Store, ss SessionStore, h *Hasher, t *Tokens) *Service {
	return &Service{users: us, sessions: ss, hasher: h, tokens: t, now: time.Now, policy: DefaultPolicy}
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
// long for an unknown username as for a wrong password. A hash made at
// another cost than the Hasher's is replaced on the way.
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
	if err := s.rehash(ctx, u, password); err != nil {
		return nil, TokenPair{}, err
	}
	pair, err := s.startSession(ctx, u.ID)
	return u, pair, err
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
