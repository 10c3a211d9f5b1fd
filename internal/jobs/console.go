package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ErrJobNotFound is returned for a job id the queue does not hold.
var ErrJobNotFound = errors.New("job not found")

// Job is a job as the admin console shows it. Args is its arguments as
// JSON with every secret-looking value hidden (see redact).
type Job struct {
	ID          int64
	Kind        string
	State       string
	Attempt     int
	MaxAttempts int
	Args        string
	Errors      []JobError
	CreatedAt   time.Time
	ScheduledAt time.Time
	FinalizedAt *time.Time
}

// JobError is one failed attempt of a job.
type JobError struct {
	At      time.Time
	Attempt int
	Error   string
}

// States lists the states a job can be in, in the order of its life.
func States() []string {
	return []string{
		string(rivertype.JobStateAvailable), string(rivertype.JobStateScheduled), string(rivertype.JobStateRunning),
		string(rivertype.JobStateRetryable), string(rivertype.JobStateCompleted), string(rivertype.JobStateCancelled),
		string(rivertype.JobStateDiscarded), string(rivertype.JobStatePending),
	}
}

// ListJobs returns up to limit jobs, newest first, in state (one of
// States; "" for any) and of kind ("" for any).
func (q *Queue) ListJobs(ctx context.Context, state, kind string, limit int) ([]*Job, error) {
	params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
	if state != "" {
		if !slices.Contains(States(), state) {
			return nil, fmt.Errorf("list jobs: unknown state %q", state)
		}
		params = params.States(rivertype.JobState(state))
	} else {
		params = params.States(rivertype.JobStates()...)
	}
	if kind != "" {
		params = params.Kinds(kind)
	}
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	list := make([]*Job, len(res.Jobs))
	for i, row := range res.Jobs {
		list[i] = consoleJob(row)
	}
	return list, nil
}

// Job returns one job (ErrJobNotFound).
func (q *Queue) Job(ctx context.Context, id int64) (*Job, error) {
	return q.jobOp(ctx, "job", id, q.client.JobGet)
}

// RetryJob makes a job available to run again now (a failed, cancelled or
// completed one included).
func (q *Queue) RetryJob(ctx context.Context, id int64) (*Job, error) {
	return q.jobOp(ctx, "retry job", id, q.client.JobRetry)
}

// CancelJob cancels a job that has not finished; a running one is asked
// to stop.
func (q *Queue) CancelJob(ctx context.Context, id int64) (*Job, error) {
	return q.jobOp(ctx, "cancel job", id, q.client.JobCancel)
}

func (q *Queue) jobOp(ctx context.Context, what string, id int64, op func(context.Context, int64) (*rivertype.JobRow, error)) (*Job, error) {
	row, err := op(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, ErrJobNotFound
	} else if err != nil {
		return nil, fmt.Errorf("%s %d: %w", what, id, err)
	}
	return consoleJob(row), nil
}

func consoleJob(row *rivertype.JobRow) *Job {
	j := &Job{
		ID: row.ID, Kind: row.Kind, State: string(row.State), Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		Args: redact(row.EncodedArgs), CreatedAt: row.CreatedAt.UTC(), ScheduledAt: row.ScheduledAt.UTC(),
	}
	if row.FinalizedAt != nil {
		t := row.FinalizedAt.UTC()
		j.FinalizedAt = &t
	}
	for _, e := range row.Errors {
		j.Errors = append(j.Errors, JobError{At: e.At.UTC(), Attempt: e.Attempt, Error: e.Error})
	}
	return j
}

// hidden replaces a secret value in a job's arguments.
const hidden = "(hidden)"

// redact returns a job's arguments as indented JSON with the value of
// every key that names a secret (token, password, secret, key) hidden,
// at any depth. Arguments that are not a JSON object are hidden whole.
func redact(args []byte) string {
	var v any
	if err := json.Unmarshal(args, &v); err != nil {
		return hidden
	}
	if _, ok := v.(map[string]any); !ok {
		return hidden
	}
	out, err := json.MarshalIndent(redactValue(v), "", "  ")
	if err != nil {
		return hidden
	}
	return string(out)
}

func redactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, val := range v {
			if secretKey(k) {
				v[k] = hidden
			} else {
				v[k] = redactValue(val)
			}
		}
	case []any:
		for i := range v {
			v[i] = redactValue(v[i])
		}
	}
	return v
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, s := range []string{"token", "password", "secret", "key", "hash", "credential"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}
