package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
	"myapi/internal/auth"
	"myapi/internal/jobs"
)

// JobQueue is what the API needs of the background job queue.
type JobQueue interface {
	// EnqueuePasswordRecovery enqueues the reset email of whoever has
	// email, if anyone (the job looks the account up).
	EnqueuePasswordRecovery(ctx context.Context, email string) error
	// Counts returns the jobs by state and kind.
	Counts(ctx context.Context) ([]jobs.Count, error)
}

// PasswordRecoveryRequest asks for a reset email.
type PasswordRecoveryRequest struct {
	_     struct{} `additionalProperties:"true"`
	Email string   `json:"email" format:"email" maxLength:"254" example:"alice@example.com"`
}

// ResetPasswordRequest sets a new password with a reset token.
type ResetPasswordRequest struct {
	_           struct{} `additionalProperties:"true"`
	Token       string   `json:"token" minLength:"1" maxLength:"200"`
	NewPassword string   `json:"new_password" minLength:"8" maxLength:"100" example:"correct horse battery"`
}

// Message is a one-line answer.
type Message struct {
	Message string `json:"message"`
}

// MessageOutput wraps Message.
type MessageOutput struct {
	Body Message
}

func messageOutput(msg string) *MessageOutput {
	out := &MessageOutput{}
	out.Body.Message = msg
	return out
}

// JobCounts is the queue at a glance.
type JobCounts struct {
	Counts []jobs.Count `json:"counts" doc:"Jobs by state and kind"`
	Total  int64        `json:"total" doc:"All jobs in the queue"`
}

// JobCountsOutput wraps JobCounts.
type JobCountsOutput struct {
	Body JobCounts
}

const msgRecoverySent = "If an account has this email, a password-reset message is on its way"

func (s *server) registerJobs(api huma.API) {
	if s.Jobs == nil {
		return
	}
	tags := []string{"authentication"} // declared by registerAuth
	register(s, api, huma.Operation{
		OperationID: "password-recovery", Method: http.MethodPost, Path: "/auth/password-recovery",
		Summary:     "Ask for a password-reset email",
		Description: "Always 202, whether or not an account has this email (the lookup happens in a background job).",
		Tags:        tags, DefaultStatus: http.StatusAccepted, Errors: []int{http.StatusUnprocessableEntity},
	}, access.Anyone(), access.Login, func(ctx context.Context, in *struct{ Body PasswordRecoveryRequest }) (*MessageOutput, error) {
		if err := s.Jobs.EnqueuePasswordRecovery(ctx, in.Body.Email); err != nil {
			return nil, err
		}
		return messageOutput(msgRecoverySent), nil
	}, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "reset-password", Method: http.MethodPost, Path: "/auth/reset-password",
		Summary:     "Set a new password with a reset token",
		Description: "The token works once and for a limited time. Every session of the user is revoked.",
		Tags:        tags, Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
	}, access.Anyone(), access.Login, func(ctx context.Context, in *struct{ Body ResetPasswordRequest }) (*MessageOutput, error) {
		if _, err := s.Auth.ResetPassword(ctx, s.Store, in.Body.Token, in.Body.NewPassword); err != nil {
			return nil, err
		}
		return messageOutput("Password updated"), nil
	}, errorRule{target: auth.ErrInvalidPassword, status: http.StatusUnprocessableEntity, detail: invalidField("body.new_password")}, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "admin-jobs", Method: http.MethodGet, Path: "/admin/jobs",
		Summary: "Background jobs by state and kind", Tags: tag(api, "admin", "The background job queue at a glance."),
		Description: "How many jobs of each kind (welcome and password-reset emails, clean-ups) are in each state.",
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden},
	}, access.Superuser(), access.General, func(ctx context.Context, _ *struct{}) (*JobCountsOutput, error) {
		counts, err := s.Jobs.Counts(ctx)
		if err != nil {
			return nil, err
		}
		out := &JobCountsOutput{}
		out.Body.Counts = counts
		for _, c := range counts {
			out.Body.Total += c.Jobs
		}
		return out, nil
	})
}
