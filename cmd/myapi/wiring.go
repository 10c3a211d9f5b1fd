package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"myapi/internal/auth"
	"myapi/internal/clientip"
	"myapi/internal/config"
	"myapi/internal/httpapi"
	"myapi/internal/jobs"
	"myapi/internal/logging"
	"myapi/internal/mail"
	"myapi/internal/metrics"
	"myapi/internal/ratelimit"
	"myapi/internal/storage"
	"myapi/internal/tracing"
)

// envFile is the .env file to read: ENV_FILE, or ./.env.
func envFile(getenv func(string) string) string {
	if f := getenv("ENV_FILE"); f != "" {
		return f
	}
	return ".env"
}

// loadConfig reads the settings and builds the logger they describe.
func loadConfig(getenv func(string) string, logOut io.Writer) (*config.Config, *slog.Logger, error) {
	cfg, err := config.Load(getenv, envFile(getenv))
	if err != nil {
		return nil, nil, err
	}
	level, _ := cfg.SlogLevel() // validated by Load
	log := logging.New(logOut, cfg.JSONLogs(), level)
	return cfg, log, nil
}

// openStore opens the database DATABASE_URL names.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger, tp trace.TracerProvider) (storage.Store, error) {
	opts := storage.Options{
		PoolSize:    cfg.DBPoolSize,
		MaxOverflow: cfg.DBMaxOverflow,
		Tracer:      tracing.NewQueryTracer(tp), // nil when tracing is off
	}
	if cfg.DBEcho {
		opts.Echo = log
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, opts)
	if err != nil {
		if !strings.Contains(err.Error(), "DATABASE_URL") {
			err = fmt.Errorf("DATABASE_URL: %w", err)
		}
		return nil, err
	}
	log.Info("database", "engine", db.Engine())
	return db, nil
}

// newAuthService builds the auth service from the settings.
func newAuthService(cfg *config.Config, db storage.Store) (*auth.Service, error) {
	hasher, err := auth.NewHasher(cfg.BcryptCost, cfg.BcryptConcurrency)
	if err != nil {
		return nil, fmt.Errorf("BCRYPT_COST: %w", err)
	}
	tokens := auth.NewTokens([]byte(cfg.SecretKey), cfg.AccessTTL(), cfg.RefreshTTL())
	svc := auth.NewService(db, db, hasher, tokens)
	svc.SetPolicy(auth.Policy{SessionMax: cfg.SessionMax(), RefreshReuseGrace: cfg.RefreshReuseGrace(), FreshLogin: cfg.FreshLogin()})
	return svc, nil
}

// newLimiter builds the in-process rate limiter from the settings, counting
// rejections in m.
// With Redis, limits are counted there (shared by every instance), falling
// back to in-process counting while it does not answer.
func newLimiter(cfg *config.Config, m *metrics.Metrics, rc *redisConn, log *slog.Logger) (*ratelimit.Limiter, error) {
	trusted, err := clientip.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace,
		Name:      "rate_limit_rejections_total",
		Help:      "Requests refused with 429, by limit.",
	}, []string{"limit"})
	if err := m.Registry().Register(rejected); err != nil {
		return nil, fmt.Errorf("register rate-limit metric: %w", err)
	}
	return ratelimit.New(ratelimit.Config{
		PerMinute:      cfg.RateLimitPerMinute,
		LoginPerMinute: cfg.LoginRateLimitPerMinute,
		OnReject:       func(kind string) { rejected.WithLabelValues(kind).Inc() },
	}, clientip.New(trusted, cfg.ClientIPHeader), httpapi.RateLimitKey, limitCounter(rc, log)), nil
}

// limitCounter is where rate limits count: Redis when configured (nil
// means in process).
func limitCounter(rc *redisConn, log *slog.Logger) ratelimit.Counter {
	if rc == nil {
		return nil
	}
	return ratelimit.Fallback(ratelimit.NewRedisCounter(rc.Commands, "myapi:rl:"), ratelimit.FallbackOptions{
		Gate:   rc.Breaker, // the breaker logs the outage once, for the cache too
		OnDown: func(error) { log.Warn("rate limits count per instance until Redis answers") },
		OnUp:   func() { log.Info("rate limits shared across instances again") },
	})
}

// registerEngineMetrics exposes the engine's own metrics on m (the
// PostgreSQL pool's myapi_db_pool_*; SQLite has none).
func registerEngineMetrics(db storage.Store, m *metrics.Metrics) error {
	for _, c := range db.Collectors() {
		if err := m.Registry().Register(c); err != nil {
			return fmt.Errorf("register database metrics: %w", err)
		}
	}
	return nil
}

// newQueue builds the job queue on db's database with workers workers (0:
// insert-only) and wires registration to enqueue the welcome email in the
// transaction that stores the user.
func newQueue(cfg *config.Config, db storage.Store, svc *auth.Service, log *slog.Logger, workers int) (*jobs.Queue, error) {
	smtpHost := cfg.SMTPHost
	if !cfg.EmailEnabled {
		smtpHost = "" // the log sender
	}
	sender, err := mail.New(mail.SMTPConfig{
		Host: smtpHost, Port: cfg.SMTPPort, User: cfg.SMTPUser, Password: cfg.SMTPPassword,
		From: cfg.SMTPFrom, TLS: cfg.SMTPTLS,
	}, log, cfg.Environment == config.Development)
	if err != nil {
		return nil, err
	}
	extra, err := backupJobs(cfg, log)
	if err != nil {
		return nil, err
	}
	q, err := jobs.New(jobs.Deps{
		Log: log, Store: db, Auth: svc, Mail: sender, AppName: cfg.AppName, ResetTTL: cfg.PasswordResetTTL(),
		RecoveryInterval: cfg.PasswordRecoveryInterval(),
	}, jobs.Config{Workers: workers, CleanupInterval: cfg.JobsCleanupInterval, Extra: extra})
	if err != nil {
		return nil, err
	}
	svc.OnRegister(q.WelcomeHook)
	svc.OnEmailChange(q.EmailChangedHook)
	switch {
	case !cfg.EmailEnabled:
		log.Info("email: off (EMAIL_ENABLED=false), emails are logged instead of sent")
	case cfg.SMTPHost == "":
		log.Info("email: SMTP_HOST is not set, emails are logged instead of sent")
	default:
		log.Info("email", "smtp", fmt.Sprintf("%s:%d", cfg.SMTPHost, cfg.SMTPPort), "tls", cfg.SMTPTLS)
	}
	return q, nil
}

// readinessChecks are what GET /health/ready asks: that the server is not
// draining before shutdown (first, so the 503's detail names it first),
// the database, and Redis when REDIS_URL is set (myapi serves without it,
// more slowly, but an operator who configured it wants to know, and the
// issue asks for it).
func readinessChecks(db storage.Store, rc *redisConn, drain *drainer) []httpapi.Check {
	checks := []httpapi.Check{drain.check(), {Name: "database", Ping: db.Ping}}
	if rc != nil {
		checks = append(checks, httpapi.Check{Name: "redis", Ping: rc.Ping})
	}
	return checks
}

// requestMetrics is what the HTTP layer counts requests with and serves
// /metrics from: nothing when METRICS_ENABLED is false.
func requestMetrics(cfg *config.Config, m *metrics.Metrics) *metrics.Metrics {
	if !cfg.MetricsEnabled {
		return nil
	}
	return m
}
