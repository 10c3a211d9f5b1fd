package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"myapi/internal/mail"
	"myapi/internal/users"
)

// WelcomeEmailArgs is the welcome email of a new user. Only the id is
// queued: the worker reads the current address.
type WelcomeEmailArgs struct {
	UserID int64 `json:"user_id"`
}

// Kind implements river.JobArgs.
func (WelcomeEmailArgs) Kind() string { return "welcome_email" }

// PasswordRecoveryArgs asks for a password-reset email to whoever has
// Email; nothing is sent if nobody has it or the account is inactive.
type PasswordRecoveryArgs struct {
	Email string `json:"email"`
}

// Kind implements river.JobArgs.
func (PasswordRecoveryArgs) Kind() string { return "password_recovery_email" }

// EmailChangedArgs is the notice to an account's old address that its
// email was changed: if the owner did not do it, they learn of it where
// they still read their mail.
type EmailChangedArgs struct {
	UserID   int64  `json:"user_id"`
	Username string `json:"username"`
	OldEmail string `json:"old_email"`
	NewEmail string `json:"new_email"`
}

// Kind implements river.JobArgs.
func (EmailChangedArgs) Kind() string { return "email_changed_notice" }

// CleanupArgs deletes expired or revoked sessions and used or expired
// reset tokens.
type CleanupArgs struct{}

// Kind implements river.JobArgs.
func (CleanupArgs) Kind() string { return "cleanup" }

// InsertOpts implements river.JobArgsWithInsertOpts: one pending clean-up
// is enough.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

type welcomeWorker struct {
	river.WorkerDefaults[WelcomeEmailArgs]
	deps Deps
	m    *jobMetrics
}

func (w *welcomeWorker) Work(ctx context.Context, job *river.Job[WelcomeEmailArgs]) (err error) {
	defer w.m.observe(job.Kind, time.Now(), &err)
	u, err := w.deps.Store.UserByID(ctx, job.Args.UserID)
	if errors.Is(err, users.ErrNotFound) {
		return nil // deleted since: nobody to welcome
	}
	if err != nil {
		return err
	}
	return w.deps.Mail.Send(ctx, mail.Message{
		To:      u.Email,
		Subject: "Welcome to " + w.deps.AppName,
		Body: fmt.Sprintf("Hello %s,\n\nyour account on %s is ready: log in with the username %q.\n",
			u.Username, w.deps.AppName, u.Username),
	})
}

type recoveryWorker struct {
	river.WorkerDefaults[PasswordRecoveryArgs]
	deps Deps
	m    *jobMetrics
}

func (w *recoveryWorker) Work(ctx context.Context, job *river.Job[PasswordRecoveryArgs]) (err error) {
	defer w.m.observe(job.Kind, time.Now(), &err)
	u, err := w.deps.Store.UserByEmail(ctx, job.Args.Email)
	if errors.Is(err, users.ErrNotFound) {
		return nil // no such account: nothing to send, and the client was not told
	}
	if err != nil {
		return err
	}
	if !u.IsActive {
		return nil
	}
	// At most one email per account per RecoveryInterval, however many
	// requests ask (from however many addresses): the first attempt of a
	// job sends nothing if a token went out less than that ago. A retry
	// is of a job that passed the check, so it skips it.
	quiet := w.deps.RecoveryInterval
	if job.Attempt > 1 {
		quiet = 0
	}
	// A new token per attempt: a retry after a failed send must not reuse
	// one whose email may never arrive. Using any token uses them all up.
	token, err := w.deps.Auth.ResetTokenFor(ctx, w.deps.Store, u.ID, w.deps.ResetTTL, quiet)
	if err != nil || token == "" {
		return err
	}
	return w.deps.Mail.Send(ctx, mail.Message{
		To:      u.Email,
		Subject: "Reset your " + w.deps.AppName + " password",
		Body: fmt.Sprintf("Hello %s,\n\nsomeone asked to reset the password of your account. If it was you, send this token\n"+
			"with your new password to POST /auth/reset-password within %d minutes:\n\n%s\n\n"+
			"It works once. If it was not you, ignore this email: your password is unchanged.\n",
			u.Username, int(w.deps.ResetTTL/time.Minute), token),
	})
}

type emailChangedWorker struct {
	river.WorkerDefaults[EmailChangedArgs]
	deps Deps
	m    *jobMetrics
}

func (w *emailChangedWorker) Work(ctx context.Context, job *river.Job[EmailChangedArgs]) (err error) {
	defer w.m.observe(job.Kind, time.Now(), &err)
	a := job.Args
	return w.deps.Mail.Send(ctx, mail.Message{
		To:      a.OldEmail,
		Subject: "The email address of your " + w.deps.AppName + " account was changed",
		Body: fmt.Sprintf("Hello %s,\n\nthe email address of your account on %s was changed from %s to %s.\n\n"+
			"If you made this change, there is nothing to do. If you did not, someone else has access to your account:\n"+
			"contact the administrators of %s at once. Password-reset emails now go to the new address.\n",
			a.Username, w.deps.AppName, a.OldEmail, a.NewEmail, w.deps.AppName),
	})
}

type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	deps Deps
	m    *jobMetrics
}

func (w *cleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) (err error) {
	defer w.m.observe(job.Kind, time.Now(), &err)
	sessions, tokens, err := w.deps.Store.PurgeExpired(ctx, time.Now().UTC())
	if err != nil {
		return err
	}
	w.deps.Log.Info("clean-up", "sessions_deleted", sessions, "reset_tokens_deleted", tokens)
	return nil
}
