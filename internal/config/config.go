// Package config reads myapi's settings from the environment and an
// optional .env file, using the seed's variable names, and rejects invalid
// values with a message naming the variable.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"

	"myapi/internal/clientip"
)

// Environments myapi knows.
const (
	Development = "development"
	Staging     = "staging"
	Production  = "production"
)

// exampleSecrets are published placeholders that must never sign tokens.
var exampleSecrets = []string{
	"your-secret-key-change-this-in-production",
	"change-me-to-a-random-string-of-at-least-32-bytes",
}

// Config is every setting; the env tags are the variable names.
type Config struct {
	AppName     string `env:"APP_NAME" envDefault:"My API"`
	AppVersion  string `env:"APP_VERSION" envDefault:"1.0.0"`
	Debug       bool   `env:"DEBUG" envDefault:"false"`
	Environment string `env:"ENVIRONMENT" envDefault:"development"`
	// DocsEnabled serves /docs, /redoc and /openapi.json. Unset: on in
	// development or when DEBUG is true, off otherwise.
	DocsEnabled *bool  `env:"DOCS_ENABLED"`
	Host        string `env:"HOST" envDefault:"0.0.0.0"`
	Port        int    `env:"PORT" envDefault:"8000"`
	LogLevel    string `env:"LOG_LEVEL" envDefault:"INFO"`
	// LogFormat is "json" or "text"; unset: text in development, JSON elsewhere.
	LogFormat string `env:"LOG_FORMAT"`

	DatabaseURL   string `env:"DATABASE_URL"`
	DBEcho        bool   `env:"DB_ECHO" envDefault:"false"`
	DBPoolSize    int    `env:"DB_POOL_SIZE" envDefault:"5"`
	DBMaxOverflow int    `env:"DB_MAX_OVERFLOW" envDefault:"10"`
	AutoMigrate   bool   `env:"AUTO_MIGRATE" envDefault:"true"`
	RedisURL      string `env:"REDIS_URL"`

	SecretKey                string `env:"SECRET_KEY"`
	Algorithm                string `env:"ALGORITHM" envDefault:"HS256"`
	AccessTokenExpireMinutes int    `env:"ACCESS_TOKEN_EXPIRE_MINUTES" envDefault:"30"`
	RefreshTokenExpireDays   int    `env:"REFRESH_TOKEN_EXPIRE_DAYS" envDefault:"7"`
	BcryptCost               int    `env:"BCRYPT_COST" envDefault:"12"`
	BcryptConcurrency        int    `env:"BCRYPT_CONCURRENCY" envDefault:"0"`

	FirstSuperuserEmail    string `env:"FIRST_SUPERUSER_EMAIL"`
	FirstSuperuserUsername string `env:"FIRST_SUPERUSER_USERNAME"`
	FirstSuperuserPassword string `env:"FIRST_SUPERUSER_PASSWORD"`

	AllowedOrigins Origins `env:"ALLOWED_ORIGINS" envDefault:"[\"http://localhost:3000\"]"`
	// RateLimitPerMinute limits every API request per user (or per IP when
	// anonymous); 0 turns it off.
	RateLimitPerMinute int `env:"RATE_LIMIT_PER_MINUTE" envDefault:"60"`
	// LoginRateLimitPerMinute limits login and registration per IP and per
	// username, against password guessing; 0 turns it off.
	LoginRateLimitPerMinute int `env:"LOGIN_RATE_LIMIT_PER_MINUTE" envDefault:"10"`
	// CacheTTLSeconds is how long GET /items responses stay cached; 0 turns
	// the cache off.
	CacheTTLSeconds int `env:"CACHE_TTL_SECONDS" envDefault:"60"`
	// CacheMaxEntries bounds the in-process cache (used without Redis).
	CacheMaxEntries int `env:"CACHE_MAX_ENTRIES" envDefault:"10000"`
	// MetricsEnabled false turns Prometheus off: no /metrics and no
	// per-request counting (the benchmark measures what metrics cost).
	MetricsEnabled bool `env:"METRICS_ENABLED" envDefault:"true"`
	// MetricsAddr, when set, serves /metrics on this address only, so it
	// need not be reachable from the public port.
	MetricsAddr string `env:"METRICS_ADDR"`
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`

	MaxBodyBytes      int64         `env:"MAX_BODY_BYTES" envDefault:"1048576"`
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT" envDefault:"5s"`
	ReadTimeout       time.Duration `env:"READ_TIMEOUT" envDefault:"15s"`
	WriteTimeout      time.Duration `env:"WRITE_TIMEOUT" envDefault:"30s"`
	IdleTimeout       time.Duration `env:"IDLE_TIMEOUT" envDefault:"120s"`
	ShutdownTimeout   time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"20s"`
	// ShutdownDrainDelay is how long SIGTERM keeps serving before the
	// shutdown proper, with /health/ready failing and every response closing
	// its connection: a proxy's keep-alive pool and a load balancer move
	// away first, instead of racing Shutdown's close of idle connections
	// with a request they have just sent (a POST they will not retry).
	// 0, the default, shuts down at once (development, tests).
	ShutdownDrainDelay time.Duration `env:"SHUTDOWN_DRAIN_DELAY" envDefault:"0s"`
	// RequestTimeout bounds the work of one request (database queries, the
	// wait for a password-hash slot); past it the client gets 503.
	RequestTimeout time.Duration `env:"REQUEST_TIMEOUT" envDefault:"10s"`

	// Background jobs (River, on the application's database).
	// JobsWorkers is how many jobs `myapi serve` runs at once; 0 runs none
	// (jobs are still enqueued, for a separate `myapi worker`).
	JobsWorkers int `env:"JOBS_WORKERS" envDefault:"2"`
	// JobsCleanupInterval is how often expired or revoked sessions and
	// used or expired password-reset tokens are deleted.
	JobsCleanupInterval time.Duration `env:"JOBS_CLEANUP_INTERVAL" envDefault:"1h"`
	// PasswordResetExpireMinutes is how long a password-reset token works.
	PasswordResetExpireMinutes int `env:"PASSWORD_RESET_EXPIRE_MINUTES" envDefault:"30"`

	// Email over SMTP; with no SMTP_HOST messages are logged instead.
	SMTPHost     string `env:"SMTP_HOST"`
	SMTPPort     int    `env:"SMTP_PORT" envDefault:"587"`
	SMTPUser     string `env:"SMTP_USER"`
	SMTPPassword string `env:"SMTP_PASSWORD"`
	SMTPFrom     string `env:"SMTP_FROM" envDefault:"noreply@example.com"`
	// SMTPTLS is starttls (required), tls (implicit, e.g. port 465) or
	// none (plain text: only for a local relay or a test server).
	SMTPTLS string `env:"SMTP_TLS" envDefault:"starttls"`

	// SecretGenerated is set when SECRET_KEY was empty in development and a
	// random one was made; tokens then die with the process.
	SecretGenerated bool `env:"-"`
	// SecretWasExample is set when SECRET_KEY was a published example value
	// in development and was replaced by a random one.
	SecretWasExample bool `env:"-"`
}

// Origins is ALLOWED_ORIGINS: a JSON list (the seed's form) or a comma list.
type Origins []string

// UnmarshalText implements encoding.TextUnmarshaler.
func (o *Origins) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if strings.HasPrefix(s, "[") {
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return fmt.Errorf("not a JSON list of strings: %w", err)
		}
		*o = list
		return nil
	}
	*o = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*o = append(*o, part)
		}
	}
	return nil
}

// Lookup returns a getenv that reads a variable the way Load does: the
// environment first, then envFile. Parts configured by variables of their
// own (OTEL_*, SENTRY_*) read them through it, so .env works for them too.
func Lookup(getenv func(string) string, envFile string) (func(string) string, error) {
	fileVars, err := readEnvFile(envFile)
	if err != nil {
		return nil, err
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return fileVars[k]
	}, nil
}

// readEnvFile reads a .env file; a missing one is empty.
func readEnvFile(envFile string) (map[string]string, error) {
	if envFile == "" {
		return map[string]string{}, nil
	}
	vars, err := godotenv.Read(envFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", envFile, err)
	}
	if vars == nil {
		vars = map[string]string{}
	}
	return vars, nil
}

// Load reads the settings: getenv first, then the .env file named by
// envFile (if it exists) for variables getenv leaves empty.
func Load(getenv func(string) string, envFile string) (*Config, error) {
	fileVars, err := readEnvFile(envFile)
	if err != nil {
		return nil, err
	}
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		return nil, fmt.Errorf("config fields: %w", err)
	}
	vars := map[string]string{}
	for _, p := range params {
		if v := getenv(p.Key); v != "" {
			vars[p.Key] = v
		} else if v := fileVars[p.Key]; v != "" {
			vars[p.Key] = v
		}
	}
	var cfg Config
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: vars}); err != nil {
		return nil, parseError(err, vars)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// parseError rewrites the env library's errors, which name the Go field
// ("Port"), so that they name the variable the operator set ("PORT").
func parseError(err error, vars map[string]string) error {
	errs := []error{err}
	var agg env.AggregateError
	if errors.As(err, &agg) {
		errs = agg.Errors
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		var pe env.ParseError
		if !errors.As(e, &pe) {
			out = append(out, fmt.Errorf("configuration: %w", e))
			continue
		}
		name := pe.Name
		if f, ok := reflect.TypeFor[Config]().FieldByName(pe.Name); ok {
			if tag, _, _ := strings.Cut(f.Tag.Get("env"), ","); tag != "" {
				name = tag
			}
		}
		out = append(out, fmt.Errorf("%s: %q is not %s: %w", name, vars[name], expected(pe.Type), pe.Err))
	}
	return errors.Join(out...)
}

// expected describes the values a field of type t takes.
func expected(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "a duration such as 15s or 2m"
	case t == reflect.TypeFor[Origins]():
		return `a JSON list such as ["https://a.example"] or a comma-separated list`
	}
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	}
	return "a valid " + t.String()
}

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
	if !strings.EqualFold(c.Algorithm, "HS256") {
		return fmt.Errorf("ALGORITHM: only HS256 is supported, got %q", c.Algorithm)
	}
	if err := c.validateJobs(); err != nil {
		return err
	}
	if err := c.validateURLs(); err != nil {
		return err
	}
	for name, v := range map[string]int{
		"DB_POOL_SIZE": c.DBPoolSize, "ACCESS_TOKEN_EXPIRE_MINUTES": c.AccessTokenExpireMinutes,
		"REFRESH_TOKEN_EXPIRE_DAYS": c.RefreshTokenExpireDays,
	} {
		if v < 1 {
			return fmt.Errorf("%s: must be at least 1, got %d", name, v)
		}
	}
	for name, v := range map[string]int{
		"RATE_LIMIT_PER_MINUTE": c.RateLimitPerMinute, "LOGIN_RATE_LIMIT_PER_MINUTE": c.LoginRateLimitPerMinute,
		"CACHE_TTL_SECONDS": c.CacheTTLSeconds,
	} {
		if v < 0 {
			return fmt.Errorf("%s: must be 0 (off) or more, got %d", name, v)
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
	return c.validateSecret()
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

// CheckEmail applies the API's rule for an account email: a bare address
// (no display name), at most 254 bytes.
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 {
		return fmt.Errorf("%q is not an email address", email)
	}
	return nil
}

// CheckUsername applies the API's rule for a username: 3-50 characters,
// no control characters.
func CheckUsername(username string) error {
	if n := len([]rune(username)); n < 3 || n > 50 {
		return fmt.Errorf("must be 3-50 characters, got %d", n)
	}
	if strings.IndexFunc(username, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}

// CheckPassword applies the API's rule for a password: 8-100 characters.
// The message never repeats the password.
func CheckPassword(password string) error {
	if n := len([]rune(password)); n < 8 || n > 100 {
		return fmt.Errorf("must be 8-100 characters, got %d", n)
	}
	if strings.IndexFunc(password, unicode.IsControl) >= 0 {
		return errors.New("must not contain control characters")
	}
	return nil
}

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

func (c *Config) validateJobs() error {
	switch {
	case c.JobsWorkers < 0 || c.JobsWorkers > 1000:
		return fmt.Errorf("JOBS_WORKERS: must be 0-1000, got %d", c.JobsWorkers)
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

// AccessTTL is how long an access token lives.
func (c *Config) AccessTTL() time.Duration {
	return time.Duration(c.AccessTokenExpireMinutes) * time.Minute
}

// RefreshTTL is how long a refresh token lives.
func (c *Config) RefreshTTL() time.Duration {
	return time.Duration(c.RefreshTokenExpireDays) * 24 * time.Hour
}
