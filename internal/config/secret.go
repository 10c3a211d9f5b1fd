package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// minSecretBytes is the shortest SECRET_KEY accepted: HS256's key should be
// at least as long as its 32-byte output (RFC 7518 §3.2).
const minSecretBytes = 32

// exampleSecrets are published placeholders that must never sign tokens.
var exampleSecrets = []string{
	"your-secret-key-change-this-in-production",
	"change-me-to-a-random-string-of-at-least-32-bytes",
}

// validateSecret refuses a short or published SECRET_KEY in every
// environment: a key someone set on purpose and that anyone can guess or
// look up would let them sign tokens for any account, on a laptop as on a
// server. Only an empty key is replaced, by a random one, and only in
// development.
func (c *Config) validateSecret() error {
	switch {
	case isExampleSecret(c.SecretKey):
		return fmt.Errorf("SECRET_KEY: the published example value cannot be used (anyone could sign tokens with it); generate one with: openssl rand -hex 32, or leave it empty in development for a random one")
	case c.SecretKey == "" && c.Environment == Development:
		var b [32]byte
		_, _ = rand.Read(b[:])
		c.SecretKey = hex.EncodeToString(b[:])
		c.SecretGenerated = true
	case c.SecretKey == "":
		return fmt.Errorf("SECRET_KEY: required in %s (at least %d bytes); generate one with: openssl rand -hex 32", c.Environment, minSecretBytes)
	case len(c.SecretKey) < minSecretBytes:
		return fmt.Errorf("SECRET_KEY: %d bytes is too short, need at least %d; generate one with: openssl rand -hex 32, or leave it empty in development for a random one", len(c.SecretKey), minSecretBytes)
	}
	return nil
}

// SecretWarning says what to know about a generated signing key (in
// development, when SECRET_KEY is empty); "" when the key was set. Weak
// keys never get this far: Load refuses them.
func (c *Config) SecretWarning() string {
	if c.SecretGenerated {
		return "SECRET_KEY is not set: using a random one for this run; tokens will not survive a restart (set SECRET_KEY, at least 32 bytes)"
	}
	return ""
}

func isExampleSecret(key string) bool {
	for _, ex := range exampleSecrets {
		if key == ex {
			return true
		}
	}
	return false
}
