package console

import (
	"context"
	"slices"
	"time"

	"myapi/internal/admin"
	"myapi/internal/jobs"
)

// countsTTL is how long the dashboard reuses its row counts: counting a
// million items on every view would cost the database for nothing.
const countsTTL = 30 * time.Second

type cachedCounts struct {
	counts admin.Counts
	at     time.Time
}

type checkStatus struct {
	Name  string
	OK    bool
	Error string
}

type dashboardData struct {
	Counts   admin.Counts
	CountsAt time.Time
	Jobs     map[string]int64
	States   []string
	Checks   []checkStatus
	Version  string
	Failed   []*jobs.Job
}

// rowCounts returns the users and items counts, at most countsTTL old.
func (c *Console) rowCounts(ctx context.Context) (admin.Counts, time.Time, error) {
	c.countsMu.Lock()
	defer c.countsMu.Unlock()
	now := c.deps.Now()
	if !c.counts.at.IsZero() && now.Sub(c.counts.at) < countsTTL {
		return c.counts.counts, c.counts.at, nil
	}
	counts, err := c.deps.Store.CountRows(ctx)
	if err != nil {
		return counts, now, err
	}
	c.counts = cachedCounts{counts: counts, at: now}
	return counts, now, nil
}

func (c *Console) dashboard(q *request) error {
	ctx := q.r.Context()
	d := dashboardData{Version: c.cfg.Version, Jobs: map[string]int64{}, States: jobs.States()}
	var err error
	if d.Counts, d.CountsAt, err = c.rowCounts(ctx); err != nil {
		return err
	}
	counts, err := c.deps.Jobs.Counts(ctx)
	if err != nil {
		return err
	}
	for _, n := range counts {
		d.Jobs[n.State] += n.Jobs
	}
	for _, state := range []string{"retryable", "discarded"} {
		list, err := c.deps.Jobs.ListJobs(ctx, state, "", 5)
		if err != nil {
			return err
		}
		d.Failed = append(d.Failed, list...)
	}
	slices.SortFunc(d.Failed, func(a, b *jobs.Job) int { return int(b.ID - a.ID) })
	d.Failed = d.Failed[:min(len(d.Failed), 5)]
	for _, ch := range c.deps.Checks {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ch.Ping(pctx)
		cancel()
		st := checkStatus{Name: ch.Name, OK: err == nil}
		if err != nil {
			st.Error = "not answering"
		}
		d.Checks = append(d.Checks, st)
	}
	return c.show(q, "dashboard", "Dashboard", "dashboard", d)
}
