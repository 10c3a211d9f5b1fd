package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"myapi/internal/auth"
	"myapi/internal/config"
	"myapi/internal/logging"
	"myapi/internal/storage"
)

// loadConfig reads the settings and builds the logger they describe.
func loadConfig(getenv func(string) string, logOut io.Writer) (*config.Config, *slog.Logger, error) {
	envFile := getenv("ENV_FILE")
	if envFile == "" {
		envFile = ".env"
	}
	cfg, err := config.Load(getenv, envFile)
	if err != nil {
		return nil, nil, err
	}
	level, _ := cfg.SlogLevel() // validated by Load
	log := logging.New(logOut, cfg.JSONLogs(), level)
	return cfg, log, nil
}

// openStore opens the database DATABASE_URL names.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (storage.Store, error) {
	opts := storage.Options{PoolSize: cfg.DBPoolSize, MaxOverflow: cfg.DBMaxOverflow}
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
	return auth.NewService(db, db, hasher, tokens), nil
}
