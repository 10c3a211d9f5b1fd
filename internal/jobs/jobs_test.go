package jobs_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"myapi/internal/auth"
	"myapi/internal/jobs"
	"myapi/internal/mail"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/testdb"
	"myapi/internal/testmail"
	"myapi/internal/users"
)

// fastRetry retries at once, instead of River's growing backoff, so the
// tests need not wait.
type fastRetry struct{}

func (fastRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(10 * time.Millisecond) }

func tuneFast(extra func(*river.Config)) func(*river.Config) {
	return func(c *river.Config) {
		c.FetchPollInterval = 20 * time.Millisecond
		c.FetchCooldown = 5 * time.Millisecond
		c.RetryPolicy = fastRetry{}
		c.TestOnly = true
		if extra != nil {
			extra(c)
		}
	}
}

type env struct {
	store storage.Store
	auth  *auth.Service
	queue *jobs.Queue
	mail  *testmail.Server
}

func newEnv(t *testing.T, open func(testing.TB) storage.Store, cfg jobs.Config) *env {
	t.Helper()
	e := &env{store: open(t), mail: testmail.Start(t)}
	h, err := auth.NewHasher(4, 4)
	if err != nil {
		t.Fatal(err)
	}
	e.auth = auth.NewService(e.store, e.store, h, auth.NewTokens([]byte("0123456789abcdef0123456789abcdef"), time.Minute, time.Hour))
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: e.mail.Host, Port: e.mail.SMTPPort, From: "myapi@example.com", TLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Tune == nil {
		cfg.Tune = tuneFast(nil)
	}
	e.queue, err = jobs.New(jobs.Deps{
		Log: slog.New(slog.DiscardHandler), Store: e.store, Auth: e.auth, Mail: sender,
		AppName: "Test API", ResetTTL: 30 * time.Minute,
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.auth.OnRegister(e.queue.WelcomeHook)
	return e
}

func (e *env) start(t *testing.T) {
	t.Helper()
	if err := e.queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.queue.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
}

func (e *env) count(t *testing.T, kind, state string) int64 {
	t.Helper()
	list, err := e.queue.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range list {
		if c.Kind == kind && (state == "" || c.State == state) {
			n += c.Jobs
		}
	}
	return n
}

var tokenRE = regexp.MustCompile(`(?m)^([A-Za-z0-9_-]{40,})\s*$`)

// TestEmails: the welcome email and the reset email arrive for the right
// recipient over real SMTP, and the reset token works exactly once.
func TestEmails(t *testing.T) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, eng.Open, jobs.Config{})
			e.start(t)

			u, err := e.auth.Register(ctx, "Alice@Example.com", "alice", "correct horse")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.auth.Register(ctx, "bob@example.com", "bob", "correct horse"); err != nil {
				t.Fatal(err)
			}
			welcome := e.mail.Wait(t, "Alice@example.com", "Welcome", 20*time.Second)
			if !strings.Contains(welcome.Text, "alice") {
				t.Errorf("welcome email text = %q, want the username", welcome.Text)
			}
			e.mail.Wait(t, "bob@example.com", "Welcome", 20*time.Second)

			// Recovery for an unknown address: accepted, nothing sent.
			if err := e.queue.EnqueuePasswordRecovery(ctx, "nobody@example.com"); err != nil {
				t.Fatal(err)
			}
			if err := e.queue.EnqueuePasswordRecovery(ctx, "alice@example.com"); err != nil {
				t.Fatal(err)
			}
			reset := e.mail.Wait(t, "Alice@example.com", "Reset", 20*time.Second)
			m := tokenRE.FindStringSubmatch(reset.Text)
			if m == nil {
				t.Fatalf("no token in the reset email: %q", reset.Text)
			}
			token := m[1]
			waitFor(t, func() bool { return e.count(t, "password_recovery_email", "completed") == 2 })
			for _, msg := range e.mail.Messages(t) {
				if strings.Contains(msg.Text, token) && !strings.EqualFold(msg.To[0], u.Email) {
					t.Errorf("token sent to %v", msg.To)
				}
				if strings.Contains(strings.Join(msg.To, ","), "nobody") {
					t.Errorf("email sent to an unknown address: %+v", msg)
				}
			}
			id, err := e.auth.ResetPassword(ctx, e.store, token, "a new password")
			if err != nil || id != u.ID {
				t.Fatalf("ResetPassword = %d, %v; want %d", id, err, u.ID)
			}
			if _, err := e.auth.ResetPassword(ctx, e.store, token, "another password"); !errors.Is(err, auth.ErrResetTokenInvalid) {
				t.Errorf("second use of the token: %v, want ErrResetTokenInvalid", err)
			}
			if _, _, err := e.auth.Login(ctx, "alice", "a new password"); err != nil {
				t.Errorf("login with the new password: %v", err)
			}
		})
	}
}

// TestWelcomeJobIsTransactional: no user without its job, no job without
// its user.
func TestWelcomeJobIsTransactional(t *testing.T) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			e := newEnv(t, eng.Open, jobs.Config{}) // not started: jobs stay queued
			if _, err := e.auth.Register(ctx, "carol@example.com", "carol", "correct horse"); err != nil {
				t.Fatal(err)
			}
			if n := e.count(t, "welcome_email", "available"); n != 1 {
				t.Errorf("welcome jobs after one registration = %d, want 1", n)
			}
			// A duplicate: no user, so no job.
			if _, err := e.auth.Register(ctx, "CAROL@example.com", "carol2", "correct horse"); !errors.Is(err, users.ErrEmailTaken) {
				t.Fatalf("duplicate: %v", err)
			}
			// The job is enqueued but a later step fails: neither stays.
			boom := errors.New("boom")
			u := &users.User{Email: "dave@example.com", Username: "dave", PasswordHash: "x", IsActive: true}
			err := e.store.CreateUser(ctx, u, func(ctx context.Context, tx sqldb.Tx) error {
				return e.queue.WelcomeHook(ctx, tx, u)
			}, func(context.Context, sqldb.Tx) error { return boom })
			if !errors.Is(err, boom) {
				t.Fatalf("CreateUser = %v, want boom", err)
			}
			if _, err := e.store.UserByUsername(ctx, "dave"); !errors.Is(err, users.ErrNotFound) {
				t.Errorf("user after rollback: %v", err)
			}
			if n := e.count(t, "welcome_email", ""); n != 1 {
				t.Errorf("welcome jobs = %d, want still 1", n)
			}
		})
	}
}

// FlakyArgs is a job that fails its first two attempts.
type FlakyArgs struct{ Name string }

func (FlakyArgs) Kind() string { return "test_flaky" }

type flakyWorker struct {
	river.WorkerDefaults[FlakyArgs]
	attempts atomic.Int32
	done     chan int
}

func (w *flakyWorker) Work(_ context.Context, job *river.Job[FlakyArgs]) error {
	n := w.attempts.Add(1)
	if n <= 2 {
		return fmt.Errorf("attempt %d fails on purpose", n)
	}
	w.done <- job.Attempt
	return nil
}

// TestRetries: a job that fails twice then succeeds, on its third attempt.
func TestRetries(t *testing.T) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			w := &flakyWorker{done: make(chan int, 1)}
			e := newEnv(t, eng.Open, jobs.Config{Register: func(ws *river.Workers) { river.AddWorker(ws, w) }})
			e.start(t)
			if _, err := e.queue.Insert(context.Background(), FlakyArgs{Name: "x"}, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case attempt := <-w.done:
				if attempt != 3 {
					t.Errorf("succeeded on attempt %d, want 3", attempt)
				}
			case <-time.After(45 * time.Second):
				t.Fatalf("the job did not succeed; %d attempts", w.attempts.Load())
			}
			waitFor(t, func() bool { return e.count(t, "test_flaky", "completed") == 1 })
		})
	}
}

// BlockArgs is a job that blocks in the helper process until it is killed.
type BlockArgs struct{}

func (BlockArgs) Kind() string { return "test_block" }

type blockWorker struct {
	river.WorkerDefaults[BlockArgs]
	block bool
	done  chan int
}

func (w *blockWorker) Work(_ context.Context, job *river.Job[BlockArgs]) error {
	if w.block {
		fmt.Println("started")
		select {} // until the process is killed
	}
	w.done <- job.Attempt
	return nil
}

// TestMain doubles as the worker process that TestKilledWorker kills.
func TestMain(m *testing.M) {
	if url := os.Getenv("JOBS_TEST_HELPER_DB"); url != "" {
		os.Exit(helper(url))
	}
	os.Exit(m.Run())
}

func helper(url string) int {
	ctx := context.Background()
	db, err := storage.Open(ctx, url, storage.Options{PoolSize: 2, MaxOverflow: 2})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q, err := jobs.New(jobs.Deps{Store: db, Mail: mail.LogSender{Log: slog.Default()}}, jobs.Config{
		Workers:  1,
		Register: func(ws *river.Workers) { river.AddWorker(ws, &blockWorker{block: true}) },
		Tune: tuneFast(func(c *river.Config) {
			c.LeaderElectionDisabled = true // the survivor must lead (and rescue) at once
			c.PeriodicJobs = nil
		}),
	})
	if err == nil {
		err = q.Start(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	select {}
}

// TestKilledWorker: a worker process killed mid-job → the job runs again,
// rescued by River once RescueStuckJobsAfter has passed.
func TestKilledWorker(t *testing.T) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			url := eng.URL(t)
			open := func(t testing.TB) storage.Store {
				db, err := storage.Open(context.Background(), url, storage.Options{PoolSize: 2, MaxOverflow: 4})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = db.Close() })
				if _, err := storage.MigrateUp(context.Background(), db); err != nil {
					t.Fatal(err)
				}
				return db
			}
			w := &blockWorker{done: make(chan int, 1)}
			e := newEnv(t, open, jobs.Config{
				Register: func(ws *river.Workers) { river.AddWorker(ws, w) },
				Tune: tuneFast(func(c *river.Config) {
					c.JobTimeout = 500 * time.Millisecond
					c.RescueStuckJobsAfter = time.Second
				}),
			})
			if _, err := e.queue.Insert(context.Background(), BlockArgs{}, nil); err != nil {
				t.Fatal(err)
			}

			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "JOBS_TEST_HELPER_DB="+url)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			started := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if sc.Text() == "started" {
						started <- true
						return
					}
				}
				started <- false
			}()
			select {
			case ok := <-started:
				if !ok {
					t.Fatal("the worker process ended before starting the job")
				}
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("the worker process did not start the job")
			}
			_ = cmd.Process.Kill() // SIGKILL: no graceful stop, the job stays "running"
			_ = cmd.Wait()
			if n := e.count(t, "test_block", "running"); n != 1 {
				t.Fatalf("running jobs after the kill = %d, want 1", n)
			}

			time.Sleep(1500 * time.Millisecond) // past RescueStuckJobsAfter
			e.start(t)
			select {
			case attempt := <-w.done:
				if attempt != 2 {
					t.Errorf("the job ran again as attempt %d, want 2", attempt)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("the killed worker's job never ran again")
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SlowArgs is a job that takes Millis milliseconds, or until cancelled.
type SlowArgs struct{ Millis int }

func (SlowArgs) Kind() string { return "test_slow" }

type slowWorker struct {
	river.WorkerDefaults[SlowArgs]
	started chan struct{}
}

func (w *slowWorker) Work(ctx context.Context, job *river.Job[SlowArgs]) error {
	w.started <- struct{}{}
	select {
	case <-time.After(time.Duration(job.Args.Millis) * time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestGracefulStop: on Stop a running job finishes if it can within the
// deadline, and otherwise is cancelled and goes back to the queue.
func TestGracefulStop(t *testing.T) {
	for _, eng := range testdb.Engines(t) {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			w := &slowWorker{started: make(chan struct{}, 2)}
			e := newEnv(t, eng.Open, jobs.Config{Register: func(ws *river.Workers) { river.AddWorker(ws, w) }})
			ctx := context.Background()

			// Finishes within the deadline: completed, even though the
			// context Start was given (the process's, ended by SIGTERM)
			// is cancelled first.
			runCtx, stopRun := context.WithCancel(ctx)
			if err := e.queue.Start(runCtx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.queue.Insert(ctx, SlowArgs{Millis: 300}, nil); err != nil {
				t.Fatal(err)
			}
			<-w.started
			stopRun()
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := e.queue.Stop(stopCtx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if n := e.count(t, "test_slow", "completed"); n != 1 {
				t.Errorf("completed after a graceful stop = %d, want 1", n)
			}

			// Longer than the deadline: cancelled, back in the queue.
			e2 := newEnv(t, func(testing.TB) storage.Store { return e.store }, jobs.Config{Register: func(ws *river.Workers) { river.AddWorker(ws, w) }})
			if err := e2.queue.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := e2.queue.Insert(ctx, SlowArgs{Millis: 60_000}, nil); err != nil {
				t.Fatal(err)
			}
			<-w.started
			short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel2()
			if err := e2.queue.Stop(short); err != nil {
				t.Fatalf("Stop past the deadline: %v", err)
			}
			if n := e.count(t, "test_slow", "retryable") + e.count(t, "test_slow", "available"); n != 1 {
				list, _ := e.queue.Counts(ctx)
				t.Errorf("jobs back in the queue after a cut-off stop = %d, want 1: %+v", n, list)
			}
		})
	}
}
