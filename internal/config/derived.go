package config

import (
	"fmt"
	"time"
)

// DocsOn reports whether the API documentation is served.
func (c *Config) DocsOn() bool {
	if c.DocsEnabled != nil {
		return *c.DocsEnabled || c.Debug
	}
	return c.Debug || c.Environment == Development
}

// Addr is the listen address.
func (c *Config) Addr() string {
	return fmt.Sprintf("%s:%d", c.Host, c.Port)
}

// PasswordResetTTL is how long a password-reset token works.
func (c *Config) PasswordResetTTL() time.Duration {
	return time.Duration(c.PasswordResetExpireMinutes) * time.Minute
}

// AccessTTL is how long an access token lives.
func (c *Config) AccessTTL() time.Duration {
	return time.Duration(c.AccessTokenExpireMinutes) * time.Minute
}

// RefreshTTL is how long a refresh token lives.
func (c *Config) RefreshTTL() time.Duration {
	return time.Duration(c.RefreshTokenExpireDays) * 24 * time.Hour
}
