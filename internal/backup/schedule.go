package backup

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"myapi/internal/metrics"
)

// JobArgs is the scheduled backup, a job on myapi's queue.
type JobArgs struct{}

// Kind implements river.JobArgs.
func (JobArgs) Kind() string { return "backup" }

// InsertOpts implements river.JobArgsWithInsertOpts: one pending backup is
// enough, and a failed one is retried twice before the next scheduled one.
func (JobArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// Schedule makes a backup every interval on the job queue, keeping the
// newest keep. River's periodic jobs are enqueued by the elected leader
// only, so with several instances each backup is made once.
type Schedule struct {
	backups  *Backups
	interval time.Duration
	keep     int
	log      *slog.Logger
	now      func() time.Time

	failures     prometheus.Counter
	lastDuration prometheus.Gauge
}

// NewSchedule returns the schedule of backups every interval into b's
// directory, keeping the newest keep.
func NewSchedule(b *Backups, interval time.Duration, keep int, log *slog.Logger) *Schedule {
	return &Schedule{
		backups: b, interval: interval, keep: keep, log: log, now: time.Now,
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "backup_failures_total",
			Help: "Scheduled backups that failed (each attempt).",
		}),
		lastDuration: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "backup_last_duration_seconds",
			Help: "How long the last scheduled backup made by this process took.",
		}),
	}
}

// Backups are the backups the schedule makes and lists.
func (s *Schedule) Backups() *Backups { return s.backups }

// Interval is the time between two backups.
func (s *Schedule) Interval() time.Duration { return s.interval }

// Keep is how many backups are kept.
func (s *Schedule) Keep() int { return s.keep }

// AddWorker registers the backup job's worker.
func (s *Schedule) AddWorker(w *river.Workers) { river.AddWorker(w, &backupWorker{s: s}) }

// Periodic is the periodic job that enqueues the backups: interval after
// the newest backup in the directory (so restarts neither skip one nor
// make an extra one), and at start when there is none from the last half
// interval.
func (s *Schedule) Periodic() *river.PeriodicJob {
	return river.NewPeriodicJob(s, func() (river.JobArgs, *river.InsertOpts) {
		if last, ok, _ := s.backups.Last(); ok && s.now().Sub(last.Time) < s.interval/2 {
			return nil, nil // a recent one exists (a restart): wait for Next
		}
		return JobArgs{}, nil
	}, &river.PeriodicJobOpts{ID: "backup", RunOnStart: true})
}

// Next implements river.PeriodicSchedule.
func (s *Schedule) Next(current time.Time) time.Time {
	if last, ok, _ := s.backups.Last(); ok {
		if next := last.Time.Add(s.interval); next.After(current) {
			return next
		}
	}
	return current.Add(s.interval)
}

// Collectors are the schedule's metrics: myapi_backup_last_success_timestamp_seconds
// and myapi_backup_last_size_bytes (the newest backup in the directory,
// read at each scrape, so every instance sharing it agrees and a restart
// does not forget), myapi_backup_interval_seconds (for the alert rule),
// myapi_backup_failures_total and myapi_backup_last_duration_seconds.
func (s *Schedule) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		s.failures, s.lastDuration,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "backup_last_success_timestamp_seconds",
			Help: "When the newest complete backup in BACKUP_DIR was taken (Unix time; 0: none).",
		}, func() float64 {
			if last, ok, _ := s.backups.Last(); ok {
				return float64(last.Time.UnixMilli()) / 1000
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "backup_last_size_bytes",
			Help: "Size of the newest complete backup in BACKUP_DIR.",
		}, func() float64 {
			last, _, _ := s.backups.Last()
			return float64(last.Size)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: metrics.Namespace, Name: "backup_interval_seconds",
			Help: "BACKUP_INTERVAL: the time between two scheduled backups.",
		}, func() float64 { return s.interval.Seconds() }),
	}
}

type backupWorker struct {
	river.WorkerDefaults[JobArgs]
	s *Schedule
}

// Timeout lets a backup run up to its interval (at least ten minutes):
// River's default minute is too short for a large database.
func (w *backupWorker) Timeout(*river.Job[JobArgs]) time.Duration {
	return max(w.s.interval, 10*time.Minute)
}

func (w *backupWorker) Work(ctx context.Context, _ *river.Job[JobArgs]) error {
	start := w.s.now()
	info, err := w.s.backups.Create(ctx, "")
	if err != nil {
		w.s.failures.Inc()
		w.s.log.Error("backup failed", "error", err, "dir", w.s.backups.Dir())
		return err
	}
	took := w.s.now().Sub(start)
	w.s.lastDuration.Set(took.Seconds())
	deleted, err := w.s.backups.Prune(w.s.keep)
	w.s.log.Info("backup", "path", info.Path, "bytes", info.Size, "duration_ms", took.Milliseconds(), "pruned", len(deleted))
	if err != nil {
		w.s.log.Warn("backup: pruning old backups failed", "error", err)
	}
	return nil
}
