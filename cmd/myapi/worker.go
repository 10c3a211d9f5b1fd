package main

import (
	"context"
	"io"

	"myapi/internal/metrics"
)

// worker runs "myapi worker": the job workers alone, without the HTTP API,
// for scaling them apart. It runs max(JOBS_WORKERS, 1) jobs at once and
// stops like serve: running jobs get SHUTDOWN_TIMEOUT to finish, then go
// back to the queue. METRICS_ADDR, if set, serves its /metrics.
func worker(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	cfg, log, err := loadConfig(getenv, logOut)
	if err != nil {
		return err
	}
	n := max(cfg.JobsWorkers, 1)
	a, err := openApp(ctx, cfg, log, appOptions{getenv: getenv, workers: n})
	if err != nil {
		return err
	}
	defer a.close()
	if cfg.MetricsAddr != "" {
		m := metrics.New(cfg.AppVersion, commit)
		if err := a.queue.RegisterMetrics(m.Registry()); err != nil {
			return err
		}
		stop, err := serveMetrics(ctx, cfg.MetricsAddr, m, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := a.startJobs(ctx); err != nil {
		return err
	}
	log.Info("worker started", "workers", n, "cleanup_interval", cfg.JobsCleanupInterval.String())
	<-ctx.Done()
	log.Info("shutting down: waiting for running jobs", "timeout", cfg.ShutdownTimeout.String())
	a.close()
	log.Info("stopped")
	return nil
}
