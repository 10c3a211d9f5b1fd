// Package jobs is myapi's background job queue: River (riverqueue/river)
// on the application's own database (each engine's riverdb.Engine), so a
// job commits or rolls back with the data it belongs to. It defines the jobs (welcome email, password
// recovery email, periodic clean-up) and runs their workers.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"myapi/internal/auth"
	"myapi/internal/mail"
	"myapi/internal/riverdb"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// Deps are what the workers use.
type Deps struct {
	Log   *slog.Logger
	Store storage.Store
	Auth  *auth.Service
	Mail  mail.Sender
	// AppName signs the emails.
	AppName string
	// ResetTTL is how long a password-reset token works.
	ResetTTL time.Duration
	// RecoveryInterval is the least time between two recovery emails to
	// one account; 0: no limit.
	RecoveryInterval time.Duration
}

// Config tunes the queue.
type Config struct {
	// Workers is how many jobs run at once; 0 makes an insert-only queue
	// (jobs are enqueued for another process to work).
	Workers int
	// CleanupInterval is how often the clean-up job runs (0: never).
	CleanupInterval time.Duration
	// Tune, if set, adjusts River's configuration last (tests shorten
	// intervals and retries with it).
	Tune func(*river.Config)
	// Register, if set, adds workers (tests add failing or blocking ones).
	Register func(*river.Workers)
	// Extra are job kinds defined elsewhere (the scheduled backup).
	Extra []Extra
}

// Extra is a job kind defined outside this package: its worker, the
// periodic job that enqueues it, and its metrics.
type Extra interface {
	AddWorker(*river.Workers)
	Periodic() *river.PeriodicJob
	Collectors() []prometheus.Collector
}

// Queue is the job queue of one database.
type Queue struct {
	client  riverdb.Client
	log     *slog.Logger
	working bool
	metrics *jobMetrics
	extra   []Extra
}

// New builds the queue of deps.Store's database. Call Start to work jobs.
func New(deps Deps, cfg Config) (*Queue, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	q := &Queue{log: deps.Log, working: cfg.Workers > 0, metrics: newJobMetrics(), extra: cfg.Extra}
	workers := river.NewWorkers()
	river.AddWorker(workers, &welcomeWorker{deps: deps, m: q.metrics})
	river.AddWorker(workers, &recoveryWorker{deps: deps, m: q.metrics})
	river.AddWorker(workers, &emailChangedWorker{deps: deps, m: q.metrics})
	river.AddWorker(workers, &cleanupWorker{deps: deps, m: q.metrics})
	if cfg.Register != nil {
		cfg.Register(workers)
	}
	for _, x := range cfg.Extra {
		x.AddWorker(workers)
	}
	rc := &river.Config{
		Logger:  deps.Log.With("component", "jobs"),
		Workers: workers,
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
		if cfg.CleanupInterval > 0 {
			rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
				river.PeriodicInterval(cfg.CleanupInterval),
				func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
				&river.PeriodicJobOpts{ID: "cleanup", RunOnStart: true},
			)}
		}
		for _, x := range cfg.Extra {
			rc.PeriodicJobs = append(rc.PeriodicJobs, x.Periodic())
		}
	}
	if cfg.Tune != nil {
		cfg.Tune(rc)
	}
	c, err := deps.Store.NewJobClient(rc)
	if err != nil {
		return nil, err
	}
	q.client = c
	return q, nil
}

// Start starts working jobs (and the periodic clean-up) in the background,
// if the queue has workers. They run until Stop: ending ctx does not stop
// them (River would cancel running jobs), so a shutdown signal can first
// drain the HTTP requests and then Stop the queue gracefully.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones until ctx ends;
// jobs still running then are cancelled and go back to the queue to be
// retried. None is lost: a job whose process dies is rescued by River after
// RescueStuckJobsAfter (one hour by default).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	err := q.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		q.log.Warn("jobs still running at shutdown: cancelling them; they will be retried")
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return q.client.StopAndCancel(cctx)
	}
	return fmt.Errorf("stop job workers: %w", err)
}

// WelcomeHook enqueues the welcome email of u in the transaction that
// stores u: wire it with auth.Service.OnRegister.
func (q *Queue) WelcomeHook(ctx context.Context, tx sqldb.Tx, u *users.User) error {
	_, err := q.client.InsertTx(ctx, tx, WelcomeEmailArgs{UserID: u.ID}, nil)
	return err
}

// EmailChangedHook enqueues the notice to before's address in the
// transaction that changes it to after's: wire it with
// auth.Service.OnEmailChange.
func (q *Queue) EmailChangedHook(ctx context.Context, tx sqldb.Tx, before, after *users.User) error {
	_, err := q.client.InsertTx(ctx, tx, EmailChangedArgs{
		UserID: after.ID, Username: after.Username, OldEmail: before.Email, NewEmail: after.Email,
	}, nil)
	return err
}

// EnqueuePasswordRecovery enqueues the recovery email of whoever has email,
// if anyone: the lookup happens in the job, so the request takes the same
// time whether or not the account exists.
func (q *Queue) EnqueuePasswordRecovery(ctx context.Context, email string) error {
	_, err := q.client.Insert(ctx, PasswordRecoveryArgs{Email: email}, nil)
	if err != nil {
		return fmt.Errorf("enqueue password recovery: %w", err)
	}
	return nil
}

// Insert enqueues any job (tests, and jobs without a helper).
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.client.Insert(ctx, args, opts)
}

// Count is the number of jobs of one kind in one state.
type Count struct {
	State string `json:"state"`
	Kind  string `json:"kind"`
	Jobs  int64  `json:"jobs"`
}

const countsSQL = `SELECT state, kind, count(*) FROM river_job GROUP BY state, kind ORDER BY state, kind`

// Counts returns how many jobs there are by state and kind.
func (q *Queue) Counts(ctx context.Context) ([]Count, error) {
	rows, err := q.client.Jobs().Query(ctx, countsSQL)
	if err != nil {
		return []Count{}, fmt.Errorf("job counts: %w", err)
	}
	defer rows.Close()
	list := []Count{}
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.State, &c.Kind, &c.Jobs); err != nil {
			return list, fmt.Errorf("job counts: %w", err)
		}
		list = append(list, c)
	}
	return list, rows.Err()
}
