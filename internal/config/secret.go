package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// exampleSecrets are published placeholders that must never sign tokens.
var exampleSecrets = []string{
	"your-secret-key-change-this-in-production",
	"change-me-to-a-random-string-of-at-least-32-bytes",
}

// validateSecret refuses a missing, short or published SECRET_KEY where it
// must be strong, and replaces it with a random one in development.
func (c *Config) validateSecret() error {
	if isExampleSecret(c.SecretKey) && c.Environment != Development {
		return fmt.Errorf("SECRET_KEY: the published example value cannot be used in %s; generate one with: openssl rand -hex 32", c.Environment)
	}
	if isExampleSecret(c.SecretKey) {
		// Anyone can sign tokens with a published key, even on a laptop
		// reachable by others: use a random one instead.
		c.SecretKey = ""
		c.SecretWasExample = true
	}
	switch {
	case c.SecretKey == "" && c.Environment == Development:
		var b [32]byte
		_, _ = rand.Read(b[:])
		c.SecretKey = hex.EncodeToString(b[:])
		c.SecretGenerated = true
	case c.SecretKey == "":
		return fmt.Errorf("SECRET_KEY: required in %s (at least 32 bytes); generate one with: openssl rand -hex 32", c.Environment)
	case len(c.SecretKey) < 32 && c.Environment != Development:
		return fmt.Errorf("SECRET_KEY: %d bytes is too short for %s, need at least 32; generate one with: openssl rand -hex 32", len(c.SecretKey), c.Environment)
	}
	return nil
}

// SecretWarning says what is weak about the signing key in development,
// where a generated, short or published key is tolerated; "" when nothing
// is. (Elsewhere such keys are refused by Load.)
func (c *Config) SecretWarning() string {
	switch {
	case c.SecretWasExample:
		return "SECRET_KEY is the published example value, which would let anyone forge tokens: using a random one for this run instead (set your own: openssl rand -hex 32)"
	case c.SecretGenerated:
		return "SECRET_KEY is not set: using a random one for this run; tokens will not survive a restart (set SECRET_KEY, at least 32 bytes)"
	case len(c.SecretKey) < 32:
		return fmt.Sprintf("SECRET_KEY is %d bytes, shorter than the 32 that staging and production require", len(c.SecretKey))
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
