package main

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"

	"myapi/internal/auth"
	"myapi/internal/config"
	"myapi/internal/jobs"
	"myapi/internal/storage"
)

// app is what serve and worker both run: the database and the services on
// it, built by one function (openApp) so that neither can leave a part out.
type app struct {
	cfg   *config.Config
	log   *slog.Logger
	db    storage.Store
	auth  *auth.Service
	queue *jobs.Queue
	undo  []func() // run last first by close
}

// appOptions are what differs between the commands that open an app.
type appOptions struct {
	getenv func(string) string
	// tracer, if set, sees every PostgreSQL query.
	tracer trace.TracerProvider
	// workers is how many jobs run at once (0: insert-only queue).
	workers int
	// replicate starts the Litestream replica (REPLICA_URL) before the
	// store opens, so that it stops after the store closes.
	replicate bool
	// firstSuperuser creates the FIRST_SUPERUSER_* account if missing.
	firstSuperuser bool
}

// openApp holds the database (see holdDatabase), opens and migrates it
// (AUTO_MIGRATE), and builds the auth service and the job queue on it.
// close undoes it all; on error nothing is left open.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger, opts appOptions) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	release, err := holdDatabase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.undo = append(a.undo, release)
	if opts.replicate {
		stop, err := startReplica(ctx, cfg, opts.getenv, log)
		if err != nil {
			return nil, err
		}
		a.undo = append(a.undo, stop)
	}
	if a.db, err = openStore(ctx, cfg, log, opts.tracer); err != nil {
		return nil, err
	}
	a.undo = append(a.undo, func() { _ = a.db.Close() })
	if cfg.AutoMigrate {
		if err := migrateUp(ctx, a.db, log); err != nil {
			return nil, err
		}
	}
	if a.auth, err = newAuthService(cfg, a.db); err != nil {
		return nil, err
	}
	if opts.firstSuperuser {
		if err := ensureFirstSuperuser(ctx, cfg, a.auth, log); err != nil {
			return nil, err
		}
	}
	if a.queue, err = newQueue(cfg, a.db, a.auth, log, opts.workers); err != nil {
		return nil, err
	}
	return a, nil
}

// startJobs starts the job workers; close stops them (running jobs get
// SHUTDOWN_TIMEOUT to finish) before it closes the database.
func (a *app) startJobs(ctx context.Context) error {
	if err := a.queue.Start(ctx); err != nil {
		return err
	}
	a.undo = append(a.undo, func() { stopQueue(a.queue, a.cfg.ShutdownTimeout, a.log) })
	return nil
}

// close releases what openApp and startJobs took, last first. A second
// call does nothing.
func (a *app) close() {
	for i := len(a.undo) - 1; i >= 0; i-- {
		a.undo[i]()
	}
	a.undo = nil
}
