package tokenfuzz

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"myapi/internal/auth"
)

// FuzzParse fuzzes auth.Tokens.Parse with any string. A token it accepts
// is signed with the secret by HS256 (checked here independently of the
// JWT library), of the type asked for and not expired;
// everything else is ErrInvalidToken; nothing panics.
func FuzzParse(f *testing.F) {
	secret := []byte("fuzz-secret-fuzz-secret-fuzz-secret!!")
	tokens := auth.NewTokens(secret, time.Hour, 24*time.Hour)
	now := time.Now()
	for _, typ := range []string{auth.TypeAccess, auth.TypeRefresh} {
		tok, _, err := tokens.Issue(typ, 42, "session", now)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
		head, rest, _ := strings.Cut(tok, ".")
		f.Add(head + "." + rest + "x")
		f.Add(strings.Replace(tok, head, base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), 1))
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "Bearer x", "eyJ.eyJ.", strings.Repeat("A", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, typ := range []string{auth.TypeAccess, auth.TypeRefresh} {
			claims, err := tokens.Parse(token, typ)
			if err != nil {
				if !errors.Is(err, auth.ErrInvalidToken) {
					t.Errorf("Parse(%q) = %v, not ErrInvalidToken", token, err)
				}
				continue
			}
			parts := strings.Split(token, ".")
			if len(parts) != 3 {
				t.Fatalf("accepted %q: not three parts", token)
			}
			mac := hmac.New(sha256.New, secret)
			mac.Write([]byte(parts[0] + "." + parts[1]))
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
				t.Fatalf("accepted %q: not signed with the secret", token)
			}
			var header struct {
				Alg string `json:"alg"`
			}
			rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
			if err != nil || json.Unmarshal(rawHeader, &header) != nil || header.Alg != "HS256" {
				t.Errorf("accepted %q: header %s", token, rawHeader)
			}
			if claims.Type != typ || claims.ExpiresAt == nil || claims.ExpiresAt.Before(time.Now().Add(-time.Minute)) {
				t.Errorf("accepted %q as %s: %+v", token, typ, claims)
			}
		}
	})
}
