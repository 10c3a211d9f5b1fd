package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/pressly/goose/v3"

	"myapi/internal/auth"
	"myapi/internal/config"
	"myapi/internal/items"
	"myapi/internal/logging"
	"myapi/internal/postgres"
	"myapi/internal/sqlite"
	"myapi/internal/users"
)

// store is what both database engines provide.
type store interface {
	users.Store
	items.Store
	auth.SessionStore
	Ping(ctx context.Context) error
	Close() error
	Migrations() (*goose.Provider, error)
}

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

// openStore opens the engine DATABASE_URL names: PostgreSQL for a postgres
// URL, otherwise the embedded SQLite file.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store, error) {
	if postgres.IsURL(cfg.DatabaseURL) {
		opts := postgres.Options{
			MaxConns: int32(cfg.DBPoolSize + cfg.DBMaxOverflow),
			MinConns: int32(min(cfg.DBPoolSize, 2)),
		}
		if cfg.DBEcho {
			opts.Tracer = postgres.EchoTracer{Log: log}
		}
		db, err := postgres.Open(ctx, cfg.DatabaseURL, opts)
		if err != nil {
			return nil, err
		}
		log.Info("database", "engine", "postgres")
		return db, nil
	}
	path := config.DefaultSQLitePath
	if cfg.DatabaseURL != "" {
		p, ok := sqlite.PathFromURL(cfg.DatabaseURL)
		if !ok {
			return nil, fmt.Errorf("DATABASE_URL: cannot find a file path in %q", cfg.DatabaseURL)
		}
		path = p
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	log.Info("database", "engine", "sqlite", "path", path)
	return db, nil
}

// newAuthService builds the auth service from the settings.
func newAuthService(cfg *config.Config, db store) (*auth.Service, error) {
	hasher, err := auth.NewHasher(cfg.BcryptCost, cfg.BcryptConcurrency)
	if err != nil {
		return nil, fmt.Errorf("BCRYPT_COST: %w", err)
	}
	tokens := auth.NewTokens([]byte(cfg.SecretKey), cfg.AccessTTL(), cfg.RefreshTTL())
	return auth.NewService(db, db, hasher, tokens), nil
}
