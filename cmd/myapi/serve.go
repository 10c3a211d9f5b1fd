package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"myapi/internal/auth"
	"myapi/internal/config"
	"myapi/internal/errtrack"
	"myapi/internal/httpapi"
	"myapi/internal/jobs"
	"myapi/internal/logging"
	"myapi/internal/metrics"
	"myapi/internal/storage"
	"myapi/internal/tracing"
	"myapi/internal/users"
)

// logFlushInterval is the longest an INFO log line waits in memory.
const logFlushInterval = 100 * time.Millisecond

// serve runs the HTTP server until ctx ends, then, after
// SHUTDOWN_DRAIN_DELAY (see drainer), drains in-flight requests.
// If ready is not nil, the listening address is sent on it once requests
// are accepted (tests use it with PORT=0).
func serve(ctx context.Context, getenv func(string) string, logOut io.Writer, ready chan<- string) error {
	// A file (stdout, a log file) costs a system call per line: the access
	// log goes out in batches instead (see logging.Buffered), flushed by
	// the time serve returns. In-memory writers (tests) stay unbuffered.
	if f, ok := logOut.(*os.File); ok {
		buffered := logging.NewBuffered(f, 64<<10, logFlushInterval)
		defer func() { _ = buffered.Close() }()
		logOut = buffered
	}
	cfg, log, err := loadConfig(getenv, logOut)
	if err != nil {
		return err
	}
	if w := cfg.SecretWarning(); w != "" {
		log.Warn(w)
	}
	obs, err := observe(ctx, cfg, getenv, log)
	if err != nil {
		return err
	}
	// Deferred first, so it runs last: after the server has drained and
	// the database is closed, send the spans still buffered.
	defer obs.close()
	defer shareCPUWithHashes(cfg)()
	a, err := openApp(ctx, cfg, log, appOptions{
		getenv: getenv, tracer: obs.tp, workers: cfg.JobsWorkers, replicate: true, firstSuperuser: true,
	})
	if err != nil {
		return err
	}
	defer a.close()
	m := metrics.New(cfg.AppVersion, commit)
	if err := registerEngineMetrics(a.db, m); err != nil {
		return err
	}
	if err := a.queue.RegisterMetrics(m.Registry()); err != nil {
		return fmt.Errorf("register job metrics: %w", err)
	}
	if err := a.startJobs(ctx); err != nil {
		return err
	}
	log.Info("jobs", "workers", cfg.JobsWorkers, "cleanup_interval", cfg.JobsCleanupInterval.String())
	rc, err := openRedis(cfg, log, m)
	if err != nil {
		return err
	}
	defer rc.Close()
	// Between SIGTERM and Shutdown (SHUTDOWN_DRAIN_DELAY): readiness fails
	// and responses close their connections.
	drain := &drainer{}
	handler, stopCache, err := newAPI(a, m, rc, obs, drain)
	if err != nil {
		return err
	}
	defer stopCache()
	if !cfg.MetricsEnabled {
		log.Info("metrics are off (METRICS_ENABLED=false): no /metrics")
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(ctx, cfg.MetricsAddr, m, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	return runServer(ctx, cfg, log, drain.wrap(handler), drain, ready)
}

// observability is tracing and error tracking: both off, and free, without
// their settings (OTEL_EXPORTER_OTLP_ENDPOINT, SENTRY_DSN).
type observability struct {
	tp      trace.TracerProvider
	tracker *errtrack.Tracker
	close   func()
}

// observe sets up tracing and error tracking. They come before the store,
// whose query tracer needs the provider.
func observe(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger) (*observability, error) {
	lookup, err := config.Lookup(getenv, envFile(getenv))
	if err != nil {
		return nil, err
	}
	shutdownTracing, tp, err := tracing.Setup(ctx, "myapi", cfg.AppVersion, lookup)
	if err != nil {
		return nil, err
	}
	tracing.LogErrors(log)
	stopTracing := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := shutdownTracing(sctx); err != nil {
			log.Warn("tracing: could not send the last spans", "error", err)
		}
	}
	tracker, err := errtrack.Setup(lookup, cfg.Environment, cfg.AppVersion)
	if err != nil {
		stopTracing()
		return nil, err
	}
	log.Info("observability", "tracing", tracing.Enabled(tp), "error_tracking", tracker != nil)
	return &observability{tp: tp, tracker: tracker, close: func() {
		tracker.Close(5 * time.Second)
		stopTracing()
	}}, nil
}

// shareCPUWithHashes gives the Go scheduler as many extra Ps as password
// hashes may run at once (they run on low-priority threads of their own,
// see internal/auth), so that a hash never holds a P a request needs: the
// kernel then shares the cores, favouring requests, and logins still use
// every core when nothing else runs. It settles BCRYPT_CONCURRENCY=0 as
// the number of Ps, and returns the function that restores them.
func shareCPUWithHashes(cfg *config.Config) func() {
	procs := defaultProcs()
	if cfg.BcryptConcurrency == 0 {
		cfg.BcryptConcurrency = procs
	}
	runtime.GOMAXPROCS(procs + cfg.BcryptConcurrency)
	return func() { runtime.GOMAXPROCS(procs) }
}

// defaultProcs is GOMAXPROCS as the process started, read once: GOMAXPROCS
// is process state, and servers started side by side in one process (the
// tests) that each added their extra Ps to the current value compounded it
// into thousands of Ps and exhausted the threads.
var defaultProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// newAPI builds the HTTP API on a, with its response cache (stopped by the
// returned func) and rate limiter.
func newAPI(a *app, m *metrics.Metrics, rc *redisConn, obs *observability, drain *drainer) (http.Handler, func(), error) {
	cfg, log := a.cfg, a.log
	respCache, stopCache, err := newCache(cfg, rc, log, m)
	if err != nil {
		return nil, nil, err
	}
	limiter, err := newLimiter(cfg, m, rc, log)
	if err != nil {
		stopCache()
		return nil, nil, err
	}
	adminConsole, err := newConsole(cfg, a.db, a.auth, a.queue, limiter, rc, respCache, log)
	if err != nil {
		stopCache()
		return nil, nil, err
	}
	handler, err := httpapi.New(httpapi.Config{
		AppName:        cfg.AppName,
		Version:        cfg.AppVersion,
		Environment:    cfg.Environment,
		DocsEnabled:    cfg.DocsOn(),
		AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RequestTimeout: cfg.RequestTimeout,
		HideMetrics:    cfg.MetricsAddr != "",
		LogSampler:     logging.NewSampler(cfg.AccessLogSampleRate, cfg.AccessLogSlow),
	}, httpapi.Deps{
		Log:      log,
		Auth:     a.auth,
		Store:    a.db,
		Checks:   readinessChecks(a.db, rc, drain),
		Metrics:  requestMetrics(cfg, m),
		Limiter:  limiter,
		Tracer:   obs.tp,
		ErrTrack: obs.tracker,
		Cache:    respCache,
		Jobs:     a.queue,
		Console:  adminConsole,
	})
	if err != nil {
		stopCache()
		return nil, nil, err
	}
	return handler, stopCache, nil
}

// runServer serves handler on HOST:PORT until ctx ends, then drains: see
// serve.
func runServer(ctx context.Context, cfg *config.Config, log *slog.Logger, handler http.Handler, drain *drainer, ready chan<- string) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	conns := &connStates{}
	if cfg.ShutdownDrainDelay > 0 { // only a drain ends with stopAccepting
		srv.ConnState = conns.track
	}
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s (HOST, PORT): %w", cfg.Addr(), err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "environment", cfg.Environment, "docs", cfg.DocsOn(), "version", cfg.AppVersion)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if err := drainBeforeShutdown(cfg, log, drain, errc); err != nil {
		return err
	}
	if cfg.ShutdownDrainDelay > 0 {
		stopAccepting(ln, conns, stopAcceptingLimit)
	}
	return shutdown(cfg, log, srv, errc)
}

// drainBeforeShutdown keeps serving for SHUTDOWN_DRAIN_DELAY, with
// readiness failing and every response closing its connection, so that
// proxies and load balancers move away before Shutdown closes idle
// keep-alive connections under them. A plain timer, so the drain always
// ends; a second signal changes nothing (main's NotifyContext keeps
// catching them).
func drainBeforeShutdown(cfg *config.Config, log *slog.Logger, drain *drainer, errc <-chan error) error {
	delay := cfg.ShutdownDrainDelay
	if delay <= 0 {
		return nil
	}
	drain.start()
	log.Info("draining before shutdown: readiness fails, responses close their connections", "delay", delay.String())
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	}
}

// shutdown waits up to SHUTDOWN_TIMEOUT for in-flight requests.
func shutdown(cfg *config.Config, log *slog.Logger, srv *http.Server, errc <-chan error) error {
	log.Info("shutting down: draining in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		// The deadline passed with requests still running: cut them off
		// rather than close the database under their feet.
		_ = srv.Close()
		return fmt.Errorf("shutdown: requests still running after SHUTDOWN_TIMEOUT (%s) were cut off: %w", cfg.ShutdownTimeout, err)
	}
	// net.ErrClosed: stopAccepting closed the listener before Shutdown.
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// stopQueue stops the job workers: running jobs get up to timeout to
// finish, then are cancelled and return to the queue.
func stopQueue(q *jobs.Queue, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := q.Stop(ctx); err != nil {
		log.Warn("jobs: stop", "error", err)
	}
}

// ensureFirstSuperuser creates the FIRST_SUPERUSER_* account if it does not
// exist yet, so a fresh deployment can be administered without SQL.
func ensureFirstSuperuser(ctx context.Context, cfg *config.Config, svc *auth.Service, log *slog.Logger) error {
	if cfg.FirstSuperuserUsername == "" {
		return nil
	}
	_, err := svc.CreateSuperuser(ctx, cfg.FirstSuperuserEmail, cfg.FirstSuperuserUsername, cfg.FirstSuperuserPassword)
	switch {
	case err == nil:
		log.Info("created first superuser", "username", cfg.FirstSuperuserUsername)
		return nil
	case errors.Is(err, users.ErrEmailTaken), errors.Is(err, users.ErrUsernameTaken):
		return nil // it exists already: leave it as an administrator may have changed it
	}
	return fmt.Errorf("FIRST_SUPERUSER_*: %w", err)
}

// startTimeout bounds migrations at start-up.
const startTimeout = 2 * time.Minute

func migrateUp(ctx context.Context, db storage.Store, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	applied, err := storage.MigrateUp(ctx, db)
	for _, name := range applied {
		log.Info("migration applied", "source", name)
	}
	return err
}

// serveMetrics serves /metrics alone on addr (METRICS_ADDR), e.g. a port only
// the monitoring network reaches. The returned func stops it.
func serveMetrics(ctx context.Context, addr string, m *metrics.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "error", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
