package auth

import (
	"crypto/rand"
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
	parser     *jwt.Parser
}

// NewTokens returns a Tokens signing with secret.
func NewTokens(secret []byte, accessTTL, refreshTTL time.Duration) *Tokens {
	return &Tokens{
		secret:     secret,
		accessTTL:  accessTTL,
		refreshTTL: refreshTTL,
		// HS256 is pinned: "none" and every other algorithm are refused.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(5*time.Second),
		),
	}
}

// Issue signs a token of the given type for a user.
func (t *Tokens) Issue(typ string, userID int64, sessionID string, now time.Time) (string, time.Time, error) {
	ttl := t.accessTTL
	if typ == TypeRefresh {
		ttl = t.refreshTTL
	}
	exp := now.Add(ttl)
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   strconv.FormatInt(userID, 10),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        randomID(),
		},
		Type:      typ,
		SessionID: sessionID,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign %s token: %w", typ, err)
	}
	return signed, exp, nil
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
