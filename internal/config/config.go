// Package config reads myapi's settings from the environment and an
// optional .env file, using the seed's variable names, and rejects invalid
// values with a message naming the variable.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"
)

// Environments myapi knows.
const (
	Development = "development"
	Staging     = "staging"
	Production  = "production"
)

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
	// AccessLogSampleRate is the share (0-1) of successful, fast requests
	// that get an access-log line; errors, 4xx/5xx and requests slower than
	// AccessLogSlow always get one.
	AccessLogSampleRate float64       `env:"ACCESS_LOG_SAMPLE_RATE" envDefault:"1"`
	AccessLogSlow       time.Duration `env:"ACCESS_LOG_SLOW" envDefault:"1s"`

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
	// SessionMaxDays is a login session's absolute lifetime: refreshing
	// stops working this long after the password login, however often the
	// session was refreshed.
	SessionMaxDays int `env:"SESSION_MAX_DAYS" envDefault:"30"`
	// RefreshReuseGraceSeconds is how long after a refresh the same refresh
	// token still gets the same new pair (a double click, a retried
	// request) instead of revoking the session as a reuse; 0: never.
	RefreshReuseGraceSeconds int `env:"REFRESH_REUSE_GRACE_SECONDS" envDefault:"10"`
	// FreshLoginMinutes is how long after a password login the session may
	// change an email without sending the current password.
	FreshLoginMinutes int `env:"FRESH_LOGIN_MINUTES" envDefault:"10"`

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
	// TrustedProxies are the CIDRs whose client-address header is believed.
	TrustedProxies []string `env:"TRUSTED_PROXIES" envSeparator:","`
	// ClientIPHeader names the one header the trusted proxies write the
	// client's address in: X-Forwarded-For or X-Real-IP.
	ClientIPHeader string `env:"CLIENT_IP_HEADER" envDefault:"X-Forwarded-For"`

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

	// AdminEnabled serves the admin console at /admin; off, every console
	// page is 404 (the JSON API's GET /admin/jobs stays).
	AdminEnabled bool `env:"ADMIN_ENABLED" envDefault:"true"`
	// AdminSessionIdle ends a console sign-in after this long without a
	// request; AdminSessionLifetime ends it this long after sign-in anyway.
	AdminSessionIdle     time.Duration `env:"ADMIN_SESSION_IDLE" envDefault:"30m"`
	AdminSessionLifetime time.Duration `env:"ADMIN_SESSION_LIFETIME" envDefault:"12h"`

	// Background jobs (River, on the application's database).
	// JobsWorkers is how many jobs `myapi serve` runs at once; 0 runs none
	// (jobs are still enqueued, for a separate `myapi worker`).
	JobsWorkers int `env:"JOBS_WORKERS" envDefault:"2"`
	// JobsCleanupInterval is how often expired or revoked sessions and
	// used or expired password-reset tokens are deleted.
	JobsCleanupInterval time.Duration `env:"JOBS_CLEANUP_INTERVAL" envDefault:"1h"`
	// PasswordResetExpireMinutes is how long a password-reset token works.
	PasswordResetExpireMinutes int `env:"PASSWORD_RESET_EXPIRE_MINUTES" envDefault:"30"`
	// PasswordRecoveryIntervalMinutes is the least time between two
	// recovery emails to one account; 0: no limit.
	PasswordRecoveryIntervalMinutes int `env:"PASSWORD_RECOVERY_INTERVAL_MINUTES" envDefault:"5"`

	// Scheduled backups (internal/backup) into BackupDir (empty: backups/
	// beside the SQLite file, or ./backups on PostgreSQL), keeping the
	// newest BackupKeep. BackupInterval unset: every hour on SQLite, off on
	// PostgreSQL; 0: off. See BackupEvery.
	BackupDir      string         `env:"BACKUP_DIR"`
	BackupInterval *time.Duration `env:"BACKUP_INTERVAL"`
	BackupKeep     int            `env:"BACKUP_KEEP" envDefault:"24"`
	// ReplicaURL, if set, streams every change of the SQLite file to a
	// replica there with Litestream (file:///dir or s3://bucket/path);
	// ReplicaSyncInterval is how often changes are shipped.
	ReplicaURL          string        `env:"REPLICA_URL"`
	ReplicaSyncInterval time.Duration `env:"REPLICA_SYNC_INTERVAL" envDefault:"1s"`

	// EmailEnabled false turns email off on purpose: messages are logged
	// instead of sent, and production may then start without SMTP_HOST.
	EmailEnabled bool `env:"EMAIL_ENABLED" envDefault:"true"`
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
