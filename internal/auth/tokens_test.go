package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myapi/internal/auth"
)

var tokenSecret = []byte("tokens-test-secret-at-least-32-bytes!!")

const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 7 * 24 * time.Hour
)

func newTokens() *auth.Tokens { return auth.NewTokens(tokenSecret, accessTTL, refreshTTL) }

func issue(t *testing.T, tk *auth.Tokens, typ string, userID int64, sid string, now time.Time) string {
	t.Helper()
	tok, _, err := tk.Issue(typ, userID, sid, now)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok
}

// segment decodes one dot-separated part of a JWT into a map.
func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

// claimsMap builds a token body; fields set to nil are left out.
func claimsMap(overrides map[string]any) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub":  "42",
		"type": auth.TypeAccess,
		"exp":  now.Add(time.Hour).Unix(),
		"iat":  now.Unix(),
		"jti":  "0123456789abcdef0123456789abcdef",
		"sid":  "session-1",
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func signHS256(t *testing.T, claims jwt.Claims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(tokenSecret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestTokensIssueAndParse(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	now := time.Now()
	for _, c := range []struct {
		typ string
		ttl time.Duration
	}{{auth.TypeAccess, accessTTL}, {auth.TypeRefresh, refreshTTL}} {
		tok, exp, err := tk.Issue(c.typ, 42, "sid-1", now)
		if err != nil {
			t.Fatalf("Issue(%s): %v", c.typ, err)
		}
		if !exp.Equal(now.Add(c.ttl)) {
			t.Errorf("%s expiry = %v, want now + %v", c.typ, exp, c.ttl)
		}
		claims, err := tk.Parse(tok, c.typ)
		if err != nil {
			t.Fatalf("Parse(%s): %v", c.typ, err)
		}
		if claims.Type != c.typ || claims.Subject != "42" || claims.SessionID != "sid-1" {
			t.Errorf("%s claims = %+v", c.typ, claims)
		}
		if id, err := claims.UserID(); id != 42 || err != nil {
			t.Errorf("%s UserID = %d, %v; want 42", c.typ, id, err)
		}
		if claims.ExpiresAt == nil || claims.ExpiresAt.Unix() != now.Add(c.ttl).Unix() {
			t.Errorf("%s exp = %v, want %v", c.typ, claims.ExpiresAt, now.Add(c.ttl))
		}
		if claims.IssuedAt == nil || claims.IssuedAt.Unix() != now.Unix() {
			t.Errorf("%s iat = %v, want %v", c.typ, claims.IssuedAt, now)
		}
		if len(claims.ID) != 32 {
			t.Errorf("%s jti = %q, want 128 random bits in hex", c.typ, claims.ID)
		}

		// On the wire: HS256, and sub is the user id as a JSON string.
		header := segment(t, tok, 0)
		if header["alg"] != "HS256" || header["typ"] != "JWT" {
			t.Errorf("%s header = %v", c.typ, header)
		}
		body := segment(t, tok, 1)
		if body["sub"] != "42" || body["type"] != c.typ || body["sid"] != "sid-1" {
			t.Errorf("%s body = %v", c.typ, body)
		}
		for _, k := range []string{"exp", "iat", "jti"} {
			if _, ok := body[k]; !ok {
				t.Errorf("%s body has no %q: %v", c.typ, k, body)
			}
		}
		for _, k := range []string{"username", "email", "password"} {
			if _, ok := body[k]; ok {
				t.Errorf("%s body carries %q", c.typ, k)
			}
		}
	}
}

func TestTokensSubjectIsUserID(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	for _, id := range []int64{1, 7, 1 << 40, math.MaxInt64} {
		claims, err := tk.Parse(issue(t, tk, auth.TypeAccess, id, "s", time.Now()), auth.TypeAccess)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := claims.UserID(); got != id || err != nil {
			t.Errorf("UserID = %d, %v; want %d", got, err, id)
		}
	}
	// A signed token whose subject is not an id (the seed put the username
	// there) is no user.
	for _, sub := range []string{"alice", "", "42abc", "1e3", "99999999999999999999", " 42"} {
		claims, err := tk.Parse(signHS256(t, claimsMap(map[string]any{"sub": sub})), auth.TypeAccess)
		if err != nil {
			continue // refusing it outright is fine too
		}
		if _, err := claims.UserID(); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("sub %q: UserID error = %v, want ErrInvalidToken", sub, err)
		}
	}
}

func TestTokensJTIUnique(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	now := time.Now()
	seen := map[string]bool{}
	for range 100 {
		tok := issue(t, tk, auth.TypeAccess, 1, "same-session", now)
		claims, err := tk.Parse(tok, auth.TypeAccess)
		if err != nil {
			t.Fatal(err)
		}
		if seen[claims.ID] {
			t.Fatalf("jti %s issued twice in the same second", claims.ID)
		}
		seen[claims.ID] = true
	}
	a := issue(t, tk, auth.TypeRefresh, 1, "s", now)
	b := issue(t, tk, auth.TypeRefresh, 1, "s", now)
	if a == b {
		t.Errorf("two refresh tokens for one session issued in the same second are identical")
	}
}

func TestTokensRejected(t *testing.T) {
	t.Parallel()
	tk := newTokens()
	now := time.Now()
	access := issue(t, tk, auth.TypeAccess, 42, "s", now)
	refresh := issue(t, tk, auth.TypeRefresh, 42, "s", now)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	sign := func(method jwt.SigningMethod, key any, claims jwt.Claims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatalf("sign %s: %v", method.Alg(), err)
		}
		return s
	}
	// A token whose header claims another algorithm but whose signature is
	// HMAC-SHA256 with our secret: the algorithm-confusion attack.
	confused := func(alg string) string {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		body := strings.Split(access, ".")[1]
		sig, err := jwt.SigningMethodHS256.Sign(header+"."+body, tokenSecret)
		if err != nil {
			t.Fatal(err)
		}
		return header + "." + body + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	unsigned := func(alg string) string {
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		return header + "." + strings.Split(access, ".")[1] + "."
	}
	tamper := func(tok string, part int, f func(string) string) string {
		parts := strings.Split(tok, ".")
		parts[part] = f(parts[part])
		return strings.Join(parts, ".")
	}
	flipMiddle := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	otherBody := func(string) string {
		raw, _ := json.Marshal(claimsMap(map[string]any{"sub": "1"}))
		return base64.RawURLEncoding.EncodeToString(raw)
	}

	cases := []struct {
		name  string
		token string
		typ   string
	}{
		{"refresh token used as access", refresh, auth.TypeAccess},
		{"access token used as refresh", access, auth.TypeRefresh},
		{"unknown type", signHS256(t, claimsMap(map[string]any{"type": "admin"})), auth.TypeAccess},
		{"no type", signHS256(t, claimsMap(map[string]any{"type": nil})), auth.TypeAccess},
		{"type in another case", signHS256(t, claimsMap(map[string]any{"type": "ACCESS"})), auth.TypeAccess},
		{"refresh without session id", signHS256(t, claimsMap(map[string]any{"type": auth.TypeRefresh, "sid": nil})), auth.TypeRefresh},
		{"expired access", issue(t, tk, auth.TypeAccess, 42, "s", now.Add(-accessTTL-time.Minute)), auth.TypeAccess},
		{"expired refresh", issue(t, tk, auth.TypeRefresh, 42, "s", now.Add(-refreshTTL-time.Minute)), auth.TypeRefresh},
		{"expired long ago", signHS256(t, claimsMap(map[string]any{"exp": 1, "iat": 0})), auth.TypeAccess},
		{"no exp", signHS256(t, claimsMap(map[string]any{"exp": nil})), auth.TypeAccess},
		{"exp not a number", signHS256(t, claimsMap(map[string]any{"exp": "tomorrow"})), auth.TypeAccess},
		{"issued in the future", issue(t, tk, auth.TypeAccess, 42, "s", now.Add(time.Hour)), auth.TypeAccess},
		{"not valid yet", signHS256(t, claimsMap(map[string]any{"nbf": now.Add(time.Hour).Unix()})), auth.TypeAccess},
		{"signature tampered", tamper(access, 2, flipMiddle), auth.TypeAccess},
		{"payload tampered", tamper(access, 1, otherBody), auth.TypeAccess},
		{"signature removed", tamper(access, 2, func(string) string { return "" }), auth.TypeAccess},
		{"other secret", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsMap(nil)).SignedString([]byte("another-secret-another-secret-!!"))
			return s
		}(), auth.TypeAccess},
		{"alg none (library)", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claimsMap(nil)), auth.TypeAccess},
		{"alg none (by hand)", unsigned("none"), auth.TypeAccess},
		{"alg None", unsigned("None"), auth.TypeAccess},
		{"alg NONE", unsigned("NONE"), auth.TypeAccess},
		{"alg none with our signature", confused("none"), auth.TypeAccess},
		{"HS384", sign(jwt.SigningMethodHS384, tokenSecret, claimsMap(nil)), auth.TypeAccess},
		{"HS512", sign(jwt.SigningMethodHS512, tokenSecret, claimsMap(nil)), auth.TypeAccess},
		{"RS256", sign(jwt.SigningMethodRS256, rsaKey, claimsMap(nil)), auth.TypeAccess},
		{"RS256 header, HS256 signature", confused("RS256"), auth.TypeAccess},
		{"HS512 header, HS256 signature", confused("HS512"), auth.TypeAccess},
		{"empty", "", auth.TypeAccess},
		{"garbage", "not-a-token", auth.TypeAccess},
		{"three garbage parts", "a.b.c", auth.TypeAccess},
		{"Bearer prefix kept", "Bearer " + access, auth.TypeAccess},
		{"four parts", access + ".x", auth.TypeAccess},
	}
	for _, c := range cases {
		claims, err := tk.Parse(c.token, c.typ)
		if !errors.Is(err, auth.ErrInvalidToken) || claims != nil {
			t.Errorf("%s: Parse = %+v, %v; want ErrInvalidToken", c.name, claims, err)
		}
	}
	// The untampered tokens still work, so the cases above fail for their
	// own reason.
	if _, err := tk.Parse(access, auth.TypeAccess); err != nil {
		t.Errorf("untampered access token: %v", err)
	}
	if _, err := tk.Parse(signHS256(t, claimsMap(nil)), auth.TypeAccess); err != nil {
		t.Errorf("hand-made valid token: %v", err)
	}
}

// A token expired by less than the leeway still passes; a clock a few
// seconds off must not log people out.
func TestTokensLeeway(t *testing.T) {
	t.Parallel()
	tk := auth.NewTokens(tokenSecret, time.Minute, time.Hour)
	tok := issue(t, tk, auth.TypeAccess, 1, "s", time.Now().Add(-time.Minute-2*time.Second))
	if _, err := tk.Parse(tok, auth.TypeAccess); err != nil {
		t.Errorf("token expired 2 s ago: %v, want accepted within the leeway", err)
	}
	tok = issue(t, tk, auth.TypeAccess, 1, "s", time.Now().Add(-time.Minute-30*time.Second))
	if _, err := tk.Parse(tok, auth.TypeAccess); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("token expired 30 s ago: %v, want ErrInvalidToken", err)
	}
}

// LoginTime dates the password login: auth_time, or iat for tokens issued
// before auth_time existed (their session is then counted from its last
// refresh, the latest the login can have been).
func TestClaimsLoginTime(t *testing.T) {
	login := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	issued := login.Add(time.Hour)
	for _, c := range []struct {
		name   string
		claims auth.Claims
		want   time.Time
	}{
		{"auth_time", auth.Claims{AuthTime: jwt.NewNumericDate(login), RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(issued)}}, login},
		{"no auth_time: iat", auth.Claims{RegisteredClaims: jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(issued)}}, issued},
		{"neither", auth.Claims{}, time.Time{}},
	} {
		if got := c.claims.LoginTime(); !got.Equal(c.want) {
			t.Errorf("%s: LoginTime() = %v, want %v", c.name, got, c.want)
		}
	}
	// Issue stamps auth_time with the login.
	tk := newTokens()
	now := time.Now().Truncate(time.Second)
	c, err := tk.Parse(issue(t, tk, auth.TypeRefresh, 1, "s", now), auth.TypeRefresh)
	if err != nil || !c.LoginTime().Equal(now) {
		t.Errorf("Issue: LoginTime %v, %v; want %v", c.LoginTime(), err, now)
	}
}
