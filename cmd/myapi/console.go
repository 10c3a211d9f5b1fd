package main

import (
	"context"
	"fmt"
	"log/slog"

	"myapi/internal/auth"
	"myapi/internal/cache"
	"myapi/internal/clientip"
	"myapi/internal/config"
	"myapi/internal/console"
	"myapi/internal/httpapi"
	"myapi/internal/jobs"
	"myapi/internal/ratelimit"
	"myapi/internal/storage"
)

// newConsole builds the admin console (ADMIN_ENABLED): nil when it is off,
// so that nothing answers at /admin but the API's own routes.
func newConsole(cfg *config.Config, db storage.Store, svc *auth.Service, q *jobs.Queue, limiter *ratelimit.Limiter,
	rc *redisConn, respCache *cache.Cache, log *slog.Logger,
) (httpapi.Console, error) {
	if !cfg.AdminEnabled {
		log.Info("admin console: off (ADMIN_ENABLED=false)")
		return nil, nil
	}
	trusted, err := clientip.ParsePrefixes(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("TRUSTED_PROXIES: %w", err)
	}
	checks := []console.Check{{Name: "Database", Ping: db.Ping}}
	if rc != nil {
		checks = append(checks, console.Check{Name: "Redis", Ping: rc.Ping})
	}
	backups, err := openBackups(cfg)
	if err != nil {
		return nil, err
	}
	c, err := console.New(console.Config{
		Version:     cfg.AppVersion,
		IdleTimeout: cfg.AdminSessionIdle,
		Lifetime:    cfg.AdminSessionLifetime,
		Proxies:     clientip.New(trusted, cfg.ClientIPHeader),
	}, console.Deps{
		Log: log, Auth: svc, Store: db, Jobs: q, Limiter: limiter, Checks: checks,
		ItemsChanged: func(ctx context.Context) { respCache.Invalidate(ctx, cache.Epoch) },
		Backups:      backups, BackupEvery: cfg.BackupEvery(), BackupKeep: cfg.BackupKeep,
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
