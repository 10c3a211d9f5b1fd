package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"myapi/internal/clientip"
)

// namedInt is a setting's variable name and value, checked in a fixed order
// so that two bad settings always give the same message.
type namedInt struct {
	name string
	v    int
}

// validate checks the settings that parsing alone cannot, first error first
// in the order of the README's table.
func (c *Config) validate() error {
	c.Environment = strings.ToLower(strings.TrimSpace(c.Environment))
	switch c.Environment {
	case Development, Staging, Production:
	default:
		return fmt.Errorf("ENVIRONMENT: %q is not one of development, staging, production", c.Environment)
	}
	// PORT=0 asks the system for a free port (tests, and the log says which).
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("PORT: %d is not a port number (0-65535)", c.Port)
	}
	if _, err := c.SlogLevel(); err != nil {
		return err
	}
	switch c.LogFormat {
	case "", "json", "text":
	default:
		return fmt.Errorf("LOG_FORMAT: %q is not json or text", c.LogFormat)
	}
	if !(c.AccessLogSampleRate >= 0 && c.AccessLogSampleRate <= 1) { // also refuses NaN
		return fmt.Errorf("ACCESS_LOG_SAMPLE_RATE: must be between 0 and 1 (1 logs every request), got %v", c.AccessLogSampleRate)
	}
	if c.AccessLogSlow <= 0 {
		return fmt.Errorf("ACCESS_LOG_SLOW: must be a positive duration such as 1s, got %s", c.AccessLogSlow)
	}
	if !strings.EqualFold(c.Algorithm, "HS256") {
		return fmt.Errorf("ALGORITHM: only HS256 is supported, got %q", c.Algorithm)
	}
	if err := c.validateJobs(); err != nil {
		return err
	}
	if err := c.validateURLs(); err != nil {
		return err
	}
	if err := c.validateBackup(); err != nil {
		return err
	}
	for _, s := range []namedInt{
		{"DB_POOL_SIZE", c.DBPoolSize}, {"ACCESS_TOKEN_EXPIRE_MINUTES", c.AccessTokenExpireMinutes},
		{"REFRESH_TOKEN_EXPIRE_DAYS", c.RefreshTokenExpireDays},
	} {
		if s.v < 1 {
			return fmt.Errorf("%s: must be at least 1, got %d", s.name, s.v)
		}
	}
	for _, s := range []namedInt{
		{"RATE_LIMIT_PER_MINUTE", c.RateLimitPerMinute}, {"LOGIN_RATE_LIMIT_PER_MINUTE", c.LoginRateLimitPerMinute},
		{"CACHE_TTL_SECONDS", c.CacheTTLSeconds},
	} {
		if s.v < 0 {
			return fmt.Errorf("%s: must be 0 (off) or more, got %d", s.name, s.v)
		}
	}
	if c.CacheMaxEntries < 1 {
		return fmt.Errorf("CACHE_MAX_ENTRIES: must be at least 1, got %d", c.CacheMaxEntries)
	}
	if c.MetricsAddr != "" && !c.MetricsEnabled {
		return fmt.Errorf("METRICS_ADDR is set but METRICS_ENABLED is false: unset one of them")
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR: want host:port such as 127.0.0.1:9100, got %q", c.MetricsAddr)
		}
	}
	if _, err := clientip.ParsePrefixes(c.TrustedProxies); err != nil {
		return fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	if err := c.validateAccountSecurity(); err != nil {
		return err
	}
	if c.DBMaxOverflow < 0 {
		return fmt.Errorf("DB_MAX_OVERFLOW: must not be negative, got %d", c.DBMaxOverflow)
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		return fmt.Errorf("BCRYPT_COST: must be between 4 and 31, got %d", c.BcryptCost)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("MAX_BODY_BYTES: must be at least 1024, got %d", c.MaxBodyBytes)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"READ_HEADER_TIMEOUT", c.ReadHeaderTimeout}, {"READ_TIMEOUT", c.ReadTimeout},
		{"WRITE_TIMEOUT", c.WriteTimeout}, {"IDLE_TIMEOUT", c.IdleTimeout}, {"SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"REQUEST_TIMEOUT", c.RequestTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%s: must be a positive duration such as 15s, got %s", d.name, d.v)
		}
	}
	if c.ShutdownDrainDelay < 0 {
		return fmt.Errorf("SHUTDOWN_DRAIN_DELAY: must be 0 (off) or a positive duration such as 5s, got %s", c.ShutdownDrainDelay)
	}
	if err := c.validateFirstSuperuser(); err != nil {
		return err
	}
	if err := c.validateSecret(); err != nil {
		return err
	}
	return c.validateEmail()
}

// validateEmail refuses production without a way to send email: the
// password-reset email would only be logged, and nobody could reset a
// password. Turning email off has to be said (EMAIL_ENABLED=false).
func (c *Config) validateEmail() error {
	if c.Environment == Production && c.EmailEnabled && strings.TrimSpace(c.SMTPHost) == "" {
		return errors.New("SMTP_HOST: production sends password-reset emails over SMTP; set SMTP_HOST " +
			"(with SMTP_USER, SMTP_PASSWORD, SMTP_FROM), or EMAIL_ENABLED=false to run without email")
	}
	return nil
}

// validateFirstSuperuser checks FIRST_SUPERUSER_*: all three or none, with
// the same rules as registration, so start-up does not create an account
// the API itself would refuse.
func (c *Config) validateFirstSuperuser() error {
	email, username, password := c.FirstSuperuserEmail, c.FirstSuperuserUsername, c.FirstSuperuserPassword
	if email == "" && username == "" && password == "" {
		return nil
	}
	if email == "" || username == "" || password == "" {
		return errors.New("FIRST_SUPERUSER_EMAIL, FIRST_SUPERUSER_USERNAME and FIRST_SUPERUSER_PASSWORD: set all three or none")
	}
	if err := CheckEmail(email); err != nil {
		return fmt.Errorf("FIRST_SUPERUSER_EMAIL: %w", err)
	}
	if err := CheckUsername(username); err != nil {
		return fmt.Errorf("FIRST_SUPERUSER_USERNAME: %w", err)
	}
	if err := CheckPassword(password); err != nil {
		return fmt.Errorf("FIRST_SUPERUSER_PASSWORD: %w", err)
	}
	return nil
}

// validateURLs checks that DATABASE_URL and REDIS_URL name engines myapi has.
func (c *Config) validateURLs() error {
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		scheme := ""
		if err == nil {
			scheme, _, _ = strings.Cut(strings.ToLower(u.Scheme), "+")
		}
		if err != nil || (scheme != "postgres" && scheme != "postgresql" && scheme != "sqlite" && scheme != "file") {
			return errors.New("DATABASE_URL: want postgres://user:pass@host/db, sqlite:///path/to/file.db or empty for the embedded default")
		}
	}
	if c.RedisURL != "" {
		u, err := url.Parse(c.RedisURL)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			return errors.New("REDIS_URL: want redis://host:port/db, rediss://… or empty for the in-process default")
		}
	}
	return nil
}

// validateJobs checks the job queue's and email's settings.
func (c *Config) validateJobs() error {
	switch {
	case c.JobsWorkers < 0 || c.JobsWorkers > 1000:
		return fmt.Errorf("JOBS_WORKERS: must be 0-1000, got %d", c.JobsWorkers)
	case c.AdminSessionIdle < time.Minute:
		return fmt.Errorf("ADMIN_SESSION_IDLE: must be at least 1m, got %s", c.AdminSessionIdle)
	case c.AdminSessionLifetime < c.AdminSessionIdle:
		return fmt.Errorf("ADMIN_SESSION_LIFETIME: must be at least ADMIN_SESSION_IDLE (%s), got %s", c.AdminSessionIdle, c.AdminSessionLifetime)
	case c.JobsCleanupInterval < time.Second:
		return fmt.Errorf("JOBS_CLEANUP_INTERVAL: must be at least 1s, got %s", c.JobsCleanupInterval)
	case c.PasswordResetExpireMinutes < 1 || c.PasswordResetExpireMinutes > 24*60:
		return fmt.Errorf("PASSWORD_RESET_EXPIRE_MINUTES: must be 1-1440, got %d", c.PasswordResetExpireMinutes)
	case c.SMTPPort < 1 || c.SMTPPort > 65535:
		return fmt.Errorf("SMTP_PORT: must be 1-65535, got %d", c.SMTPPort)
	}
	switch strings.ToLower(c.SMTPTLS) {
	case "starttls", "tls", "none":
		c.SMTPTLS = strings.ToLower(c.SMTPTLS)
	default:
		return fmt.Errorf("SMTP_TLS: want starttls, tls or none, got %q", c.SMTPTLS)
	}
	if a, err := mail.ParseAddress(c.SMTPFrom); err != nil || a.Address == "" {
		return fmt.Errorf("SMTP_FROM: %q is not an email address", c.SMTPFrom)
	}
	return nil
}
