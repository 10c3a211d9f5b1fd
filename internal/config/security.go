package config

import (
	"fmt"
	"time"

	"myapi/internal/clientip"
)

// validateAccountSecurity checks the settings of sessions, re-authentication,
// recovery and the client address.
func (c *Config) validateAccountSecurity() error {
	h, err := clientip.ParseHeader(c.ClientIPHeader)
	if err != nil {
		return fmt.Errorf("CLIENT_IP_HEADER: %w", err)
	}
	c.ClientIPHeader = h
	for _, s := range []struct {
		name     string
		v        int
		min, max int
	}{
		{"SESSION_MAX_DAYS", c.SessionMaxDays, 1, 3650},
		{"REFRESH_REUSE_GRACE_SECONDS", c.RefreshReuseGraceSeconds, 0, 300},
		{"FRESH_LOGIN_MINUTES", c.FreshLoginMinutes, 0, 24 * 60},
		{"PASSWORD_RECOVERY_INTERVAL_MINUTES", c.PasswordRecoveryIntervalMinutes, 0, 24 * 60},
	} {
		if s.v < s.min || s.v > s.max {
			return fmt.Errorf("%s: must be %d-%d, got %d", s.name, s.min, s.max, s.v)
		}
	}
	return nil
}

// SessionMax is a login session's absolute lifetime.
func (c *Config) SessionMax() time.Duration {
	return time.Duration(c.SessionMaxDays) * 24 * time.Hour
}

// RefreshReuseGrace is how long a just-rotated refresh token still gets the
// pair it was exchanged for.
func (c *Config) RefreshReuseGrace() time.Duration {
	return time.Duration(c.RefreshReuseGraceSeconds) * time.Second
}

// FreshLogin is how long after a password login an email may be changed
// without the current password.
func (c *Config) FreshLogin() time.Duration {
	return time.Duration(c.FreshLoginMinutes) * time.Minute
}

// PasswordRecoveryInterval is the least time between two recovery emails
// to one account (0: no limit).
func (c *Config) PasswordRecoveryInterval() time.Duration {
	return time.Duration(c.PasswordRecoveryIntervalMinutes) * time.Minute
}
