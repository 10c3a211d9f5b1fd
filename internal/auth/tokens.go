package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types, carried in the "type" claim so that one kind can never be
// used as the other.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// ErrInvalidToken covers every way a token can be unusable: bad signature,
// wrong algorithm, expired, wrong type, malformed.
var ErrInvalidToken = errors.New("invalid token")

// Claims are the JWT claims myapi issues. Subject is the user id, which,
// unlike the username, never changes.
type Claims struct {
	jwt.RegisteredClaims
	Type      string `json:"type"`
	SessionID string `json:"sid,omitempty"`
	// AuthTime is when the session's password login happened (OpenID
	// Connect's auth_time). Refreshing carries it over unchanged, so it
	// dates the login, not the token.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
}

// LoginTime is when the password login behind the token happened: its
// auth_time, or for tokens issued before auth_time existed, its iat (the
// latest moment the login can have been made).
func (c *Claims) LoginTime() time.Time {
	switch {
	case c.AuthTime != nil:
		return c.AuthTime.Time
	case c.IssuedAt != nil:
		return c.IssuedAt.Time
	}
	return time.Time{}
}

// UserID returns the subject as a user id.
func (c *Claims) UserID() (int64, error) {
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return 0, ErrInvalidToken
	}
	return id, nil
}

// Tokens signs and verifies HS256 JWTs.
type Tokens struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	parser     *jwt.Parser
}

// NewTokens returns a Tokens signing with secret.
func NewTokens(secret []byte, accessTTL, refreshTTL time.Duration) *Tokens {
	t := &Tokens{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL, now: time.Now}
	t.parser = jwt.NewParser(
		// HS256 is pinned: "none" and every other algorithm are refused.
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(5*time.Second),
		jwt.WithTimeFunc(func() time.Time { return t.now() }),
	)
	return t
}

// Issue signs a token of the given type for a user, in a session whose
// password login happens now.
func (t *Tokens) Issue(typ string, userID int64, sessionID string, now time.Time) (string, time.Time, error) {
	return t.issue(grant{typ: typ, userID: userID, sessionID: sessionID, now: now, authTime: now})
}

// grant is everything a token says.
type grant struct {
	typ       string
	userID    int64
	sessionID string
	now       time.Time // iat
	authTime  time.Time // the session's password login
	notAfter  time.Time // the token expires by then at the latest; zero: no cap
	id        string    // jti; "" for a random one
}

func (t *Tokens) issue(g grant) (string, time.Time, error) {
	ttl := t.accessTTL
	if g.typ == TypeRefresh {
		ttl = t.refreshTTL
	}
	exp := g.now.Add(ttl)
	if !g.notAfter.IsZero() && g.notAfter.Before(exp) {
		exp = g.notAfter
	}
	if g.id == "" {
		g.id = randomID()
	}
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(g.userID, 10),
			IssuedAt:  jwt.NewNumericDate(g.now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        g.id,
		},
		Type:      g.typ,
		SessionID: g.sessionID,
		AuthTime:  jwt.NewNumericDate(g.authTime),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign %s token: %w", g.typ, err)
	}
	return signed, exp, nil
}

// derivedID is a jti that only this server can compute from parts: the
// tokens of one rotation get the same ids when they are issued again, so
// they come out byte for byte the same.
func (t *Tokens) derivedID(parts ...string) string {
	m := hmac.New(sha256.New, t.secret)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Parse verifies a token and checks that it is of type typ.
func (t *Tokens) Parse(token, typ string) (*Claims, error) {
	var claims Claims
	_, err := t.parser.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return t.secret, nil })
	if err != nil || claims.Type != typ {
		return nil, ErrInvalidToken
	}
	if typ == TypeRefresh && claims.SessionID == "" {
		return nil, ErrInvalidToken
	}
	return &claims, nil
}

// randomID returns 128 random bits in hex, for jti and session ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
