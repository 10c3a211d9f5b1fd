package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"myapi/internal/config"
)

// goodSecret is long enough for production.
const goodSecret = "0123456789abcdef0123456789abcdef-prod"

// vars turns a map into a getenv function.
func vars(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// noFile names a .env file that does not exist.
func noFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "absent.env")
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(vars(nil), noFile(t))
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"APP_NAME", cfg.AppName, "My API"},
		{"APP_VERSION", cfg.AppVersion, "1.0.0"},
		{"DEBUG", cfg.Debug, false},
		{"ENVIRONMENT", cfg.Environment, "development"},
		{"HOST", cfg.Host, "0.0.0.0"},
		{"PORT", cfg.Port, 8000},
		{"DATABASE_URL", cfg.DatabaseURL, ""},
		{"DB_ECHO", cfg.DBEcho, false},
		{"DB_POOL_SIZE", cfg.DBPoolSize, 5},
		{"DB_MAX_OVERFLOW", cfg.DBMaxOverflow, 10},
		{"REDIS_URL", cfg.RedisURL, ""},
		{"ALGORITHM", cfg.Algorithm, "HS256"},
		{"ACCESS_TOKEN_EXPIRE_MINUTES", cfg.AccessTokenExpireMinutes, 30},
		{"REFRESH_TOKEN_EXPIRE_DAYS", cfg.RefreshTokenExpireDays, 7},
		{"ALLOWED_ORIGINS", []string(cfg.AllowedOrigins), []string{"http://localhost:3000"}},
		{"RATE_LIMIT_PER_MINUTE", cfg.RateLimitPerMinute, 60},
		{"LOGIN_RATE_LIMIT_PER_MINUTE", cfg.LoginRateLimitPerMinute, 10},
		{"TRUSTED_PROXIES", len(cfg.TrustedProxies), 0},
		{"REQUEST_TIMEOUT", cfg.RequestTimeout, 10 * time.Second},
		{"CACHE_TTL_SECONDS", cfg.CacheTTLSeconds, 60},
		{"CACHE_MAX_ENTRIES", cfg.CacheMaxEntries, 10000},
		{"METRICS_ADDR", cfg.MetricsAddr, ""},
		{"METRICS_ENABLED", cfg.MetricsEnabled, true},
		{"LOG_LEVEL", cfg.LogLevel, "INFO"},
		{"BCRYPT_COST", cfg.BcryptCost, 12},
		{"AUTO_MIGRATE", cfg.AutoMigrate, true},
		{"MAX_BODY_BYTES", cfg.MaxBodyBytes, int64(1 << 20)},
		{"SHUTDOWN_TIMEOUT", cfg.ShutdownTimeout, 20 * time.Second},
		// 0: Ctrl-C in development and the tests stop at once.
		{"SHUTDOWN_DRAIN_DELAY", cfg.ShutdownDrainDelay, time.Duration(0)},
		{"Addr()", cfg.Addr(), "0.0.0.0:8000"},
		{"AccessTTL()", cfg.AccessTTL(), 30 * time.Minute},
		{"RefreshTTL()", cfg.RefreshTTL(), 7 * 24 * time.Hour},
		{"JSONLogs()", cfg.JSONLogs(), false},
		{"DocsOn()", cfg.DocsOn(), true},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestLoadReadsEveryVariable(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(vars(map[string]string{
		"APP_NAME": "Shop", "APP_VERSION": "2.1.0", "DEBUG": "true", "ENVIRONMENT": "Production",
		"HOST": "127.0.0.1", "PORT": "9000", "DATABASE_URL": "postgresql+asyncpg://u:p@db/app",
		"DB_ECHO": "1", "DB_POOL_SIZE": "7", "DB_MAX_OVERFLOW": "0", "REDIS_URL": "redis://cache:6379/1",
		"SECRET_KEY": goodSecret, "ALGORITHM": "HS256", "ACCESS_TOKEN_EXPIRE_MINUTES": "15",
		"REFRESH_TOKEN_EXPIRE_DAYS": "2", "RATE_LIMIT_PER_MINUTE": "100", "LOG_LEVEL": "warning",
		"BCRYPT_COST": "10", "SHUTDOWN_TIMEOUT": "3s", "SHUTDOWN_DRAIN_DELAY": "5s",
		"LOGIN_RATE_LIMIT_PER_MINUTE": "0", "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1", "REQUEST_TIMEOUT": "5s",
		"ADMIN_ENABLED": "false", "ADMIN_SESSION_IDLE": "10m", "ADMIN_SESSION_LIFETIME": "2h",
		"JOBS_WORKERS": "0", "JOBS_CLEANUP_INTERVAL": "10m", "PASSWORD_RESET_EXPIRE_MINUTES": "15",
		"SMTP_HOST": "mail", "SMTP_PORT": "465", "SMTP_USER": "u", "SMTP_PASSWORD": "p",
		"SMTP_FROM": "shop@example.com", "SMTP_TLS": "TLS", "METRICS_ENABLED": "false",
		"BACKUP_DIR": "/var/backups/shop", "BACKUP_INTERVAL": "30m", "BACKUP_KEEP": "7",
		"SESSION_MAX_DAYS": "14", "REFRESH_REUSE_GRACE_SECONDS": "0", "FRESH_LOGIN_MINUTES": "3",
		"PASSWORD_RECOVERY_INTERVAL_MINUTES": "0", "CLIENT_IP_HEADER": "x-real-ip",
		"ACCESS_LOG_SAMPLE_RATE": "0.25", "ACCESS_LOG_SLOW": "300ms",
	}), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	halfHour := 30 * time.Minute
	want := config.Config{
		AppName: "Shop", AppVersion: "2.1.0", Debug: true, Environment: "production",
		Host: "127.0.0.1", Port: 9000, LogLevel: "warning", DatabaseURL: "postgresql+asyncpg://u:p@db/app",
		DBEcho: true, DBPoolSize: 7, DBMaxOverflow: 0, AutoMigrate: true, RedisURL: "redis://cache:6379/1",
		SecretKey: goodSecret, Algorithm: "HS256", AccessTokenExpireMinutes: 15, RefreshTokenExpireDays: 2,
		BcryptCost: 10, AllowedOrigins: config.Origins{"http://localhost:3000"}, RateLimitPerMinute: 100,
		MaxBodyBytes: 1 << 20, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, ShutdownTimeout: 3 * time.Second,
		ShutdownDrainDelay: 5 * time.Second, CacheTTLSeconds: 60, CacheMaxEntries: 10000,
		LoginRateLimitPerMinute: 0, TrustedProxies: []string{"10.0.0.0/8", " 127.0.0.1"}, RequestTimeout: 5 * time.Second,
		AdminEnabled: false, AdminSessionIdle: 10 * time.Minute, AdminSessionLifetime: 2 * time.Hour,
		JobsWorkers: 0, JobsCleanupInterval: 10 * time.Minute, PasswordResetExpireMinutes: 15,
		SMTPHost: "mail", SMTPPort: 465, SMTPUser: "u", SMTPPassword: "p", SMTPFrom: "shop@example.com", SMTPTLS: "tls",
		BackupDir: "/var/backups/shop", BackupInterval: &halfHour, BackupKeep: 7, ReplicaSyncInterval: time.Second,
		SessionMaxDays: 14, RefreshReuseGraceSeconds: 0, FreshLoginMinutes: 3, PasswordRecoveryIntervalMinutes: 0,
		ClientIPHeader: "X-Real-IP",
		EmailEnabled:   true, AccessLogSampleRate: 0.25, AccessLogSlow: 300 * time.Millisecond,
	}
	if !reflect.DeepEqual(*cfg, want) {
		t.Errorf("Load =\n%+v\nwant\n%+v", *cfg, want)
	}
	if !cfg.JSONLogs() {
		t.Error("production logs should be JSON")
	}
}

// TestLoadRejectsInvalidValues: every wrong value stops loading, and the
// message names the variable so the operator knows what to fix.
func TestLoadRejectsInvalidValues(t *testing.T) {
	t.Parallel()
	prod := map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodSecret, "SMTP_HOST": "mail"}
	for _, c := range []struct {
		name string
		env  map[string]string
		want string // the variable the error must name
	}{
		{"PORT not a number", map[string]string{"PORT": "abc"}, "PORT"},
		{"PORT too big", map[string]string{"PORT": "70000"}, "PORT"},
		{"PORT negative", map[string]string{"PORT": "-1"}, "PORT"},
		{"PORT overflows int", map[string]string{"PORT": "99999999999999999999"}, "PORT"},
		{"ENVIRONMENT unknown", map[string]string{"ENVIRONMENT": "prod"}, "ENVIRONMENT"},
		{"DEBUG not a bool", map[string]string{"DEBUG": "maybe"}, "DEBUG"},
		{"DOCS_ENABLED not a bool", map[string]string{"DOCS_ENABLED": "sure"}, "DOCS_ENABLED"},
		{"ADMIN_ENABLED not a bool", map[string]string{"ADMIN_ENABLED": "sure"}, "ADMIN_ENABLED"},
		{"ADMIN_SESSION_IDLE too short", map[string]string{"ADMIN_SESSION_IDLE": "10s"}, "ADMIN_SESSION_IDLE"},
		{"ADMIN_SESSION_LIFETIME under the idle timeout", map[string]string{"ADMIN_SESSION_IDLE": "1h", "ADMIN_SESSION_LIFETIME": "30m"}, "ADMIN_SESSION_LIFETIME"},
		{"DB_ECHO not a bool", map[string]string{"DB_ECHO": "loud"}, "DB_ECHO"},
		{"DATABASE_URL unknown scheme", map[string]string{"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"},
		{"DATABASE_URL no scheme", map[string]string{"DATABASE_URL": "localhost:5432"}, "DATABASE_URL"},
		{"DATABASE_URL unparsable", map[string]string{"DATABASE_URL": "postgres://u:p@h/%zz"}, "DATABASE_URL"},
		{"DATABASE_URL bad scheme char", map[string]string{"DATABASE_URL": "1postgres://h/db"}, "DATABASE_URL"},
		{"REDIS_URL wrong scheme", map[string]string{"REDIS_URL": "http://cache:6379"}, "REDIS_URL"},
		{"REDIS_URL host:port only", map[string]string{"REDIS_URL": "localhost:6379"}, "REDIS_URL"},
		{"REDIS_URL unparsable", map[string]string{"REDIS_URL": "redis://h/%zz"}, "REDIS_URL"},
		{"LOG_LEVEL junk", map[string]string{"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"},
		{"LOG_FORMAT junk", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"ALGORITHM RS256", map[string]string{"ALGORITHM": "RS256"}, "ALGORITHM"},
		{"ALGORITHM none", map[string]string{"ALGORITHM": "none"}, "ALGORITHM"},
		{"BCRYPT_COST 3", map[string]string{"BCRYPT_COST": "3"}, "BCRYPT_COST"},
		{"BCRYPT_COST 32", map[string]string{"BCRYPT_COST": "32"}, "BCRYPT_COST"},
		{"BCRYPT_COST not a number", map[string]string{"BCRYPT_COST": "high"}, "BCRYPT_COST"},
		{"ACCESS_TOKEN_EXPIRE_MINUTES 0", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "0"}, "ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"ACCESS_TOKEN_EXPIRE_MINUTES float", map[string]string{"ACCESS_TOKEN_EXPIRE_MINUTES": "1.5"}, "ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"REFRESH_TOKEN_EXPIRE_DAYS negative", map[string]string{"REFRESH_TOKEN_EXPIRE_DAYS": "-7"}, "REFRESH_TOKEN_EXPIRE_DAYS"},
		{"RATE_LIMIT_PER_MINUTE negative", map[string]string{"RATE_LIMIT_PER_MINUTE": "-1"}, "RATE_LIMIT_PER_MINUTE"},
		{"LOGIN_RATE_LIMIT_PER_MINUTE negative", map[string]string{"LOGIN_RATE_LIMIT_PER_MINUTE": "-5"}, "LOGIN_RATE_LIMIT_PER_MINUTE"},
		{"TRUSTED_PROXIES junk", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,nginx"}, "TRUSTED_PROXIES"},
		{"REQUEST_TIMEOUT zero", map[string]string{"REQUEST_TIMEOUT": "0s"}, "REQUEST_TIMEOUT"},
		{"CACHE_TTL_SECONDS negative", map[string]string{"CACHE_TTL_SECONDS": "-1"}, "CACHE_TTL_SECONDS"},
		{"CACHE_MAX_ENTRIES zero", map[string]string{"CACHE_MAX_ENTRIES": "0"}, "CACHE_MAX_ENTRIES"},
		{"METRICS_ADDR no port", map[string]string{"METRICS_ADDR": "localhost"}, "METRICS_ADDR"},
		{"DB_POOL_SIZE 0", map[string]string{"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"},
		{"DB_MAX_OVERFLOW negative", map[string]string{"DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW"},
		{"MAX_BODY_BYTES tiny", map[string]string{"MAX_BODY_BYTES": "10"}, "MAX_BODY_BYTES"},
		{"READ_TIMEOUT no unit", map[string]string{"READ_TIMEOUT": "15"}, "READ_TIMEOUT"},
		{"SHUTDOWN_TIMEOUT bad unit", map[string]string{"SHUTDOWN_TIMEOUT": "5x"}, "SHUTDOWN_TIMEOUT"},
		{"SHUTDOWN_TIMEOUT negative", map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"SHUTDOWN_DRAIN_DELAY negative", map[string]string{"SHUTDOWN_DRAIN_DELAY": "-1s"}, "SHUTDOWN_DRAIN_DELAY"},
		{"SHUTDOWN_DRAIN_DELAY no unit", map[string]string{"SHUTDOWN_DRAIN_DELAY": "5"}, "SHUTDOWN_DRAIN_DELAY"},
		{"SHUTDOWN_DRAIN_DELAY bad unit", map[string]string{"SHUTDOWN_DRAIN_DELAY": "5x"}, "SHUTDOWN_DRAIN_DELAY"},
		{"ALLOWED_ORIGINS broken JSON", map[string]string{"ALLOWED_ORIGINS": `["http://a.example"`}, "ALLOWED_ORIGINS"},
		{"ALLOWED_ORIGINS JSON of numbers", map[string]string{"ALLOWED_ORIGINS": `[1, 2]`}, "ALLOWED_ORIGINS"},
		{"FIRST_SUPERUSER email only", map[string]string{"FIRST_SUPERUSER_EMAIL": "root@example.com"}, "FIRST_SUPERUSER_PASSWORD"},
		{"FIRST_SUPERUSER without password", map[string]string{
			"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_USERNAME": "root",
		}, "FIRST_SUPERUSER_PASSWORD"},
		{"FIRST_SUPERUSER_PASSWORD short", map[string]string{
			"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_USERNAME": "root", "FIRST_SUPERUSER_PASSWORD": "short",
		}, "FIRST_SUPERUSER_PASSWORD"},
		{"FIRST_SUPERUSER_EMAIL not an email", map[string]string{
			"FIRST_SUPERUSER_EMAIL": "root", "FIRST_SUPERUSER_USERNAME": "root", "FIRST_SUPERUSER_PASSWORD": "long-enough-password",
		}, "FIRST_SUPERUSER_EMAIL"},
		{"FIRST_SUPERUSER_USERNAME short", map[string]string{
			"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_USERNAME": "ro", "FIRST_SUPERUSER_PASSWORD": "long-enough-password",
		}, "FIRST_SUPERUSER_USERNAME"},
		{"SECRET_KEY missing in production", map[string]string{"ENVIRONMENT": "production"}, "SECRET_KEY"},
		{"SECRET_KEY missing in staging", map[string]string{"ENVIRONMENT": "staging"}, "SECRET_KEY"},
		{"SECRET_KEY short in production", map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": "too-short-secret"}, "SECRET_KEY"},
		{"SECRET_KEY 31 bytes in staging", map[string]string{"ENVIRONMENT": "staging", "SECRET_KEY": strings.Repeat("k", 31)}, "SECRET_KEY"},
		{"SECRET_KEY seed example in production", map[string]string{
			"ENVIRONMENT": "production", "SECRET_KEY": "your-secret-key-change-this-in-production",
		}, "SECRET_KEY"},
		{"SECRET_KEY seed example in staging", map[string]string{
			"ENVIRONMENT": "staging", "SECRET_KEY": "your-secret-key-change-this-in-production",
		}, "SECRET_KEY"},
		// A key set on purpose is never weak, not even in development.
		{"SECRET_KEY short in development", map[string]string{"SECRET_KEY": "abc"}, "SECRET_KEY: 3 bytes is too short"},
		{"SECRET_KEY 31 bytes in development", map[string]string{"ENVIRONMENT": "development", "SECRET_KEY": strings.Repeat("k", 31)}, "SECRET_KEY"},
		{"SECRET_KEY seed example in development", map[string]string{"SECRET_KEY": "your-secret-key-change-this-in-production"}, "SECRET_KEY: the published example"},
		{"SECRET_KEY .env.example placeholder in development", map[string]string{"SECRET_KEY": "change-me-to-a-random-string-of-at-least-32-bytes"}, "SECRET_KEY"},
		{"CLIENT_IP_HEADER unknown", map[string]string{"CLIENT_IP_HEADER": "Forwarded"}, "CLIENT_IP_HEADER"},
		{"SESSION_MAX_DAYS 0", map[string]string{"SESSION_MAX_DAYS": "0"}, "SESSION_MAX_DAYS"},
		{"REFRESH_REUSE_GRACE_SECONDS negative", map[string]string{"REFRESH_REUSE_GRACE_SECONDS": "-1"}, "REFRESH_REUSE_GRACE_SECONDS"},
		{"REFRESH_REUSE_GRACE_SECONDS an hour", map[string]string{"REFRESH_REUSE_GRACE_SECONDS": "3600"}, "REFRESH_REUSE_GRACE_SECONDS"},
		{"FRESH_LOGIN_MINUTES negative", map[string]string{"FRESH_LOGIN_MINUTES": "-5"}, "FRESH_LOGIN_MINUTES"},
		{"PASSWORD_RECOVERY_INTERVAL_MINUTES negative", map[string]string{"PASSWORD_RECOVERY_INTERVAL_MINUTES": "-1"}, "PASSWORD_RECOVERY_INTERVAL_MINUTES"},
		{"PORT abc in production", merge(prod, map[string]string{"PORT": "abc"}), "PORT"},
		{"ACCESS_LOG_SAMPLE_RATE above 1", map[string]string{"ACCESS_LOG_SAMPLE_RATE": "1.5"}, "ACCESS_LOG_SAMPLE_RATE"},
		{"ACCESS_LOG_SAMPLE_RATE negative", map[string]string{"ACCESS_LOG_SAMPLE_RATE": "-0.1"}, "ACCESS_LOG_SAMPLE_RATE"},
		{"ACCESS_LOG_SAMPLE_RATE NaN", map[string]string{"ACCESS_LOG_SAMPLE_RATE": "NaN"}, "ACCESS_LOG_SAMPLE_RATE"},
		{"ACCESS_LOG_SAMPLE_RATE percent", map[string]string{"ACCESS_LOG_SAMPLE_RATE": "10%"}, "ACCESS_LOG_SAMPLE_RATE"},
		{"ACCESS_LOG_SLOW zero", map[string]string{"ACCESS_LOG_SLOW": "0s"}, "ACCESS_LOG_SLOW"},
		{"ACCESS_LOG_SLOW no unit", map[string]string{"ACCESS_LOG_SLOW": "500"}, "ACCESS_LOG_SLOW"},
		{"SMTP_HOST missing in production", map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodSecret}, "SMTP_HOST"},
		{"SMTP_HOST blank in production", merge(prod, map[string]string{"SMTP_HOST": "  "}), "SMTP_HOST"},
		{"SMTP_HOST missing in production, EMAIL_ENABLED true", map[string]string{
			"ENVIRONMENT": "production", "SECRET_KEY": goodSecret, "EMAIL_ENABLED": "true",
		}, "SMTP_HOST"},
		{"EMAIL_ENABLED not a bool", map[string]string{"EMAIL_ENABLED": "off"}, "EMAIL_ENABLED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(vars(c.env), noFile(t))
			if err == nil {
				t.Fatalf("Load accepted %v: %+v", c.env, cfg)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, c.want) && !strings.Contains(msg, " "+c.want) && !strings.Contains(msg, c.want+":") {
				t.Errorf("error %q does not name %s", msg, c.want)
			}
			// The library's Go field names ("Port") mean nothing to an operator.
			if strings.Contains(msg, "parse error on field") {
				t.Errorf("error %q speaks of Go fields, not variables", msg)
			}
			if s := c.env["SECRET_KEY"]; s != "" && strings.Contains(msg, s) {
				t.Errorf("error %q repeats the secret", msg)
			}
			if p := c.env["FIRST_SUPERUSER_PASSWORD"]; p != "" && strings.Contains(msg, p) {
				t.Errorf("error %q repeats the password", msg)
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestLoadAcceptsEdgeValues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		env   map[string]string
		check func(*config.Config) bool
	}{
		{"PORT 0 picks a free port", map[string]string{"PORT": "0"}, func(c *config.Config) bool { return c.Port == 0 }},
		{"PORT 65535", map[string]string{"PORT": "65535"}, func(c *config.Config) bool { return c.Port == 65535 }},
		{"ENVIRONMENT any case", map[string]string{"ENVIRONMENT": " Staging ", "SECRET_KEY": goodSecret},
			func(c *config.Config) bool { return c.Environment == config.Staging }},
		{"LOG_LEVEL lower case", map[string]string{"LOG_LEVEL": "debug"}, func(c *config.Config) bool { return c.LogLevel == "debug" }},
		{"LOG_LEVEL CRITICAL", map[string]string{"LOG_LEVEL": "CRITICAL"}, func(c *config.Config) bool { return c.LogLevel == "CRITICAL" }},
		{"BCRYPT_COST 4", map[string]string{"BCRYPT_COST": "4"}, func(c *config.Config) bool { return c.BcryptCost == 4 }},
		{"seed's sqlite URL", map[string]string{"DATABASE_URL": "sqlite+aiosqlite:///./app.db"}, func(c *config.Config) bool { return c.DatabaseURL != "" }},
		{"seed's asyncpg URL", map[string]string{"DATABASE_URL": "postgresql+asyncpg://user:password@localhost:5432/dbname"},
			func(c *config.Config) bool { return c.DatabaseURL != "" }},
		{"file: URL", map[string]string{"DATABASE_URL": "file:data/x.db"}, func(c *config.Config) bool { return c.DatabaseURL != "" }},
		{"rediss URL", map[string]string{"REDIS_URL": "rediss://:pw@cache:6380/0"}, func(c *config.Config) bool { return c.RedisURL != "" }},
		{"FIRST_SUPERUSER all three", map[string]string{
			"FIRST_SUPERUSER_EMAIL": "root@example.com", "FIRST_SUPERUSER_USERNAME": "root", "FIRST_SUPERUSER_PASSWORD": "long-enough-password",
		}, func(c *config.Config) bool { return c.FirstSuperuserUsername == "root" }},
		{"SECRET_KEY exactly 32 bytes in production", map[string]string{
			"ENVIRONMENT": "production", "SECRET_KEY": strings.Repeat("k", 32), "SMTP_HOST": "mail",
		},
			func(c *config.Config) bool { return !c.SecretGenerated && len(c.SecretKey) == 32 }},
		{"SHUTDOWN_DRAIN_DELAY 0s is off", map[string]string{"SHUTDOWN_DRAIN_DELAY": "0s"},
			func(c *config.Config) bool { return c.ShutdownDrainDelay == 0 }},
		{"SHUTDOWN_DRAIN_DELAY 0 without a unit", map[string]string{"SHUTDOWN_DRAIN_DELAY": "0"},
			func(c *config.Config) bool { return c.ShutdownDrainDelay == 0 }},
		{"SHUTDOWN_DRAIN_DELAY 1m30s", map[string]string{"SHUTDOWN_DRAIN_DELAY": "1m30s"},
			func(c *config.Config) bool { return c.ShutdownDrainDelay == 90*time.Second }},
		{"SHUTDOWN_DRAIN_DELAY 600ms", map[string]string{"SHUTDOWN_DRAIN_DELAY": "600ms"},
			func(c *config.Config) bool { return c.ShutdownDrainDelay == 600*time.Millisecond }},
		{"SECRET_KEY of 32 bytes is kept in development", map[string]string{"SECRET_KEY": strings.Repeat("d", 32)},
			func(c *config.Config) bool { return !c.SecretGenerated && c.SecretKey == strings.Repeat("d", 32) }},
		{"security settings at their edges", map[string]string{
			"SESSION_MAX_DAYS": "1", "REFRESH_REUSE_GRACE_SECONDS": "300", "FRESH_LOGIN_MINUTES": "0",
			"PASSWORD_RECOVERY_INTERVAL_MINUTES": "1440", "CLIENT_IP_HEADER": " X-Forwarded-For ",
		}, func(c *config.Config) bool {
			return c.SessionMax() == 24*time.Hour && c.RefreshReuseGrace() == 5*time.Minute && c.FreshLogin() == 0 &&
				c.PasswordRecoveryInterval() == 24*time.Hour && c.ClientIPHeader == "X-Forwarded-For"
		}},
		{"production with SMTP_HOST", map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodSecret, "SMTP_HOST": "mail"},
			func(c *config.Config) bool { return c.EmailEnabled && c.SMTPHost == "mail" }},
		{"production without email, said so", map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodSecret, "EMAIL_ENABLED": "false"},
			func(c *config.Config) bool { return !c.EmailEnabled && c.SMTPHost == "" }},
		{"staging without SMTP_HOST logs emails", map[string]string{"ENVIRONMENT": "staging", "SECRET_KEY": goodSecret},
			func(c *config.Config) bool { return c.EmailEnabled && c.SMTPHost == "" }},
		{"development without SMTP_HOST logs emails", nil, func(c *config.Config) bool { return c.EmailEnabled && c.SMTPHost == "" }},
		{"ACCESS_LOG_SAMPLE_RATE 0 keeps only what must be logged", map[string]string{"ACCESS_LOG_SAMPLE_RATE": "0"},
			func(c *config.Config) bool { return c.AccessLogSampleRate == 0 }},
		{"ACCESS_LOG_SAMPLE_RATE default logs every request", nil,
			func(c *config.Config) bool { return c.AccessLogSampleRate == 1 && c.AccessLogSlow == time.Second }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(vars(c.env), noFile(t))
			if err != nil {
				t.Fatalf("Load(%v): %v", c.env, err)
			}
			if !c.check(cfg) {
				t.Errorf("Load(%v) = %+v", c.env, cfg)
			}
		})
	}
}

func TestSecretGeneratedInDevelopment(t *testing.T) {
	t.Parallel()
	a, err := config.Load(vars(nil), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := config.Load(vars(map[string]string{"ENVIRONMENT": "development"}), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []*config.Config{a, b} {
		if !cfg.SecretGenerated || len(cfg.SecretKey) < 32 {
			t.Errorf("development without SECRET_KEY: SecretGenerated=%v, key of %d bytes; want a generated key of >= 32 bytes",
				cfg.SecretGenerated, len(cfg.SecretKey))
		}
	}
	if a.SecretKey == b.SecretKey {
		t.Error("two loads generated the same secret: it is not random")
	}
	set, err := config.Load(vars(map[string]string{"SECRET_KEY": goodSecret}), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	if set.SecretGenerated || set.SecretKey != goodSecret {
		t.Errorf("SECRET_KEY set: SecretGenerated=%v, key kept=%v", set.SecretGenerated, set.SecretKey == goodSecret)
	}
}

func TestAllowedOrigins(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		value string
		want  config.Origins
	}{
		{`["http://a.example","https://b.example"]`, config.Origins{"http://a.example", "https://b.example"}},
		{` [ "http://a.example" ] `, config.Origins{"http://a.example"}},
		{`[]`, config.Origins{}},
		{"http://a.example,https://b.example", config.Origins{"http://a.example", "https://b.example"}},
		{" http://a.example , https://b.example ,", config.Origins{"http://a.example", "https://b.example"}},
		{"*", config.Origins{"*"}},
		{"https://only.example", config.Origins{"https://only.example"}},
	} {
		t.Run(c.value, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(vars(map[string]string{"ALLOWED_ORIGINS": c.value}), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.AllowedOrigins) != len(c.want) || (len(c.want) > 0 && !reflect.DeepEqual(cfg.AllowedOrigins, c.want)) {
				t.Errorf("ALLOWED_ORIGINS=%s gives %q, want %q", c.value, cfg.AllowedOrigins, c.want)
			}
		})
	}
}

func TestEnvFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	content := `# a seed-style .env
APP_NAME="From File"
PORT=9100
ENVIRONMENT=staging
SECRET_KEY=` + goodSecret + `
ALLOWED_ORIGINS=["http://file.example"]
LOG_LEVEL=DEBUG
`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("file values are read", func(t *testing.T) {
		t.Parallel()
		cfg, err := config.Load(vars(nil), path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.AppName != "From File" || cfg.Port != 9100 || cfg.Environment != config.Staging ||
			cfg.SecretKey != goodSecret || !reflect.DeepEqual(cfg.AllowedOrigins, config.Origins{"http://file.example"}) ||
			cfg.LogLevel != "DEBUG" {
			t.Errorf("Load from .env = %+v", cfg)
		}
	})
	t.Run("the environment wins over the file", func(t *testing.T) {
		t.Parallel()
		cfg, err := config.Load(vars(map[string]string{"PORT": "9200", "APP_NAME": "From Env"}), path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Port != 9200 || cfg.AppName != "From Env" || cfg.Environment != config.Staging {
			t.Errorf("Load = port %d, name %q, environment %q; want 9200, From Env, staging (from the file)",
				cfg.Port, cfg.AppName, cfg.Environment)
		}
	})
	t.Run("a missing file is fine", func(t *testing.T) {
		t.Parallel()
		if _, err := config.Load(vars(nil), filepath.Join(dir, "nope", ".env")); err != nil {
			t.Errorf("missing .env: %v", err)
		}
		if _, err := config.Load(vars(nil), ""); err != nil {
			t.Errorf("no .env name: %v", err)
		}
	})
	t.Run("a bad value in the file names the variable", func(t *testing.T) {
		t.Parallel()
		bad := filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(bad, []byte("PORT=eighty\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := config.Load(vars(nil), bad)
		if err == nil || !strings.HasPrefix(err.Error(), "PORT") {
			t.Errorf("PORT=eighty in .env: err = %v, want one naming PORT", err)
		}
	})
	t.Run("an unreadable path is an error", func(t *testing.T) {
		t.Parallel()
		// A directory exists but cannot be read as a file.
		if _, err := config.Load(vars(nil), dir); err == nil {
			t.Error("Load with a directory as .env: no error")
		}
	})
}

func TestDocsOn(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"development default", nil, true},
		{"development DOCS_ENABLED=false", map[string]string{"DOCS_ENABLED": "false"}, false},
		{"production default", map[string]string{"ENVIRONMENT": "production"}, false},
		{"staging default", map[string]string{"ENVIRONMENT": "staging"}, false},
		{"production DEBUG=true", map[string]string{"ENVIRONMENT": "production", "DEBUG": "true"}, true},
		{"production DOCS_ENABLED=true", map[string]string{"ENVIRONMENT": "production", "DOCS_ENABLED": "true"}, true},
		{"production DOCS_ENABLED=false", map[string]string{"ENVIRONMENT": "production", "DOCS_ENABLED": "false"}, false},
		{"production DEBUG=true DOCS_ENABLED=false", map[string]string{"ENVIRONMENT": "production", "DEBUG": "true", "DOCS_ENABLED": "false"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := merge(map[string]string{"SECRET_KEY": goodSecret, "EMAIL_ENABLED": "false"}, c.env)
			cfg, err := config.Load(vars(env), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.DocsOn(); got != c.want {
				t.Errorf("DocsOn() = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSlogLevelAndLogFormat(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env      map[string]string
		level    string
		jsonLogs bool
	}{
		{nil, "INFO", false},
		{map[string]string{"LOG_LEVEL": "DEBUG"}, "DEBUG", false},
		{map[string]string{"LOG_LEVEL": "Warning"}, "WARN", false},
		{map[string]string{"LOG_LEVEL": "error"}, "ERROR", false},
		{map[string]string{"ENVIRONMENT": "production"}, "INFO", true},
		{map[string]string{"ENVIRONMENT": "production", "LOG_FORMAT": "text"}, "INFO", false},
		{map[string]string{"LOG_FORMAT": "json"}, "INFO", true},
	} {
		env := merge(map[string]string{"SECRET_KEY": goodSecret, "EMAIL_ENABLED": "false"}, c.env)
		cfg, err := config.Load(vars(env), noFile(t))
		if err != nil {
			t.Fatal(err)
		}
		level, err := cfg.SlogLevel()
		if err != nil || level.String() != c.level || cfg.JSONLogs() != c.jsonLogs {
			t.Errorf("%v: level %v (%v), JSON %v; want %s, %v", c.env, level, err, cfg.JSONLogs(), c.level, c.jsonLogs)
		}
	}
}

func TestAccountRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		check func(string) error
		value string
		ok    bool
	}{
		{config.CheckEmail, "a@example.com", true},
		{config.CheckEmail, "root", false},
		{config.CheckEmail, "Root <root@example.com>", false},
		{config.CheckEmail, " a@example.com", false},
		{config.CheckEmail, strings.Repeat("a", 250) + "@x.io", false},
		{config.CheckUsername, "bob", true},
		{config.CheckUsername, "bo", false},
		{config.CheckUsername, strings.Repeat("é", 50), true},
		{config.CheckUsername, strings.Repeat("u", 51), false},
		{config.CheckUsername, "bad\x00name", false},
		{config.CheckUsername, "bad\xffname", false},
		{config.CheckUsername, "tab\tdel\x7fbell\a\u200f", true},
		{config.CheckPassword, "12345678", true},
		{config.CheckPassword, "1234567", false},
		{config.CheckPassword, strings.Repeat("p", 100), true},
		{config.CheckPassword, strings.Repeat("p", 101), false},
		{config.CheckPassword, "pass\x00word", false},
		{config.CheckPassword, "pass\x1b[0m\x7fword", true},
	} {
		if err := c.check(c.value); (err == nil) != c.ok {
			t.Errorf("check(%q) = %v, want ok=%v", c.value, err, c.ok)
		}
	}
}

func TestSecretWarning(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		want string // "" for no warning
	}{
		{nil, "not set"},
		{map[string]string{"SECRET_KEY": goodSecret}, ""},
		{map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodSecret, "SMTP_HOST": "mail"}, ""},
	} {
		cfg, err := config.Load(vars(c.env), noFile(t))
		if err != nil {
			t.Fatal(err)
		}
		got := cfg.SecretWarning()
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%v: SecretWarning() = %q, want %q", c.env, got, c.want)
		}
		if got != "" && !strings.HasPrefix(got, "SECRET_KEY") {
			t.Errorf("warning %q does not name SECRET_KEY", got)
		}
		if k := c.env["SECRET_KEY"]; k != "" && strings.Contains(got, k) {
			t.Errorf("warning %q repeats the key", got)
		}
	}
}

// TestEnvExample: .env.example at the repository root lists every setting,
// and the values it sets are the defaults, so copying it to .env changes
// nothing but what the reader edits.
func TestEnvExample(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", ".env.example")
	raw, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf(".env.example: %v", err)
		}
		t.Skipf(".env.example is missing (%v): skipping the check that it lists every setting", err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if name, _, ok := strings.Cut(line, "="); ok && name != "" && strings.ToUpper(name) == name && !strings.ContainsAny(name, " \t") {
			listed[name] = true
		}
	}
	for i, typ := 0, reflect.TypeFor[config.Config](); i < typ.NumField(); i++ {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("env"), ",")
		if name != "" && name != "-" && !listed[name] {
			t.Errorf(".env.example does not list %s", name)
		}
	}

	fromExample, err := config.Load(vars(nil), path)
	if err != nil {
		t.Fatalf("loading .env.example as .env: %v", err)
	}
	defaults, err := config.Load(vars(nil), noFile(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*config.Config{fromExample, defaults} {
		c.SecretKey, c.SecretGenerated = "", false
	}
	if !reflect.DeepEqual(fromExample, defaults) {
		t.Errorf(".env.example sets values other than the defaults:\n got %+v\nwant %+v", *fromExample, *defaults)
	}
}
