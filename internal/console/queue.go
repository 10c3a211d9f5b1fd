package console

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"myapi/internal/admin"
	"myapi/internal/jobs"
)

type queueData struct {
	State  string
	Kind   string
	States []string
	Kinds  []string
	Counts []jobs.Count
	Jobs   []*jobs.Job
}

// jobsShown is how many jobs the queue page lists.
const jobsShown = 50

func (c *Console) queueList(q *request) error {
	ctx := q.r.Context()
	v := q.r.URL.Query()
	d := queueData{State: v.Get("state"), Kind: v.Get("kind"), States: jobs.States()}
	if d.State != "" && !slices.Contains(d.States, d.State) {
		return refuse(http.StatusBadRequest, "Unknown job state.")
	}
	counts, err := c.deps.Jobs.Counts(ctx)
	if err != nil {
		return err
	}
	d.Counts = counts
	for _, n := range counts {
		if !slices.Contains(d.Kinds, n.Kind) {
			d.Kinds = append(d.Kinds, n.Kind)
		}
	}
	slices.Sort(d.Kinds)
	if d.Kind != "" && !slices.Contains(d.Kinds, d.Kind) {
		d.Kinds = append(d.Kinds, d.Kind)
	}
	if d.Jobs, err = c.deps.Jobs.ListJobs(ctx, d.State, d.Kind, jobsShown); err != nil {
		return err
	}
	return c.show(q, "queue", "Jobs", "queue", d)
}

func (c *Console) loadJob(q *request) (*jobs.Job, error) {
	id, err := pathID(q)
	if err != nil {
		return nil, err
	}
	j, err := c.deps.Jobs.Job(q.r.Context(), id)
	if errors.Is(err, jobs.ErrJobNotFound) {
		return nil, errNotFound
	}
	return j, err
}

func (c *Console) jobPage(q *request) error {
	j, err := c.loadJob(q)
	if err != nil {
		return err
	}
	return c.show(q, "job", "Job "+strconv.FormatInt(j.ID, 10), "queue", j)
}

func (c *Console) jobAction(q *request) error {
	id, err := pathID(q)
	if err != nil {
		return err
	}
	var j *jobs.Job
	code := ""
	switch op := q.r.PathValue("op"); op {
	case "retry":
		j, err = c.deps.Jobs.RetryJob(q.r.Context(), id)
		code = "job-retried"
	case "cancel":
		j, err = c.deps.Jobs.CancelJob(q.r.Context(), id)
		code = "job-cancelled"
	default:
		return errNotFound
	}
	if errors.Is(err, jobs.ErrJobNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	c.audit(q, "job."+q.r.PathValue("op"), "job", id, "kind "+j.Kind+", now "+j.State)
	return done(q, "/admin/queue/"+strconv.FormatInt(id, 10), code)
}

type auditData struct {
	Entries []*admin.Entry
	// Before is the id to list older entries from; 0 when there are none.
	Before int64
}

func (c *Console) auditPage(q *request) error {
	before, _ := strconv.ParseInt(q.r.URL.Query().Get("before"), 10, 64)
	list, err := c.deps.Store.ListAudit(q.r.Context(), before, jobsShown+1)
	if err != nil {
		return err
	}
	d := auditData{Entries: list[:min(len(list), jobsShown)]}
	if len(list) > jobsShown {
		d.Before = d.Entries[len(d.Entries)-1].ID
	}
	return c.show(q, "audit", "Audit log", "audit", d)
}
