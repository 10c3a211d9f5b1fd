package console

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"myapi/internal/admin"
	"myapi/internal/backup"
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
	Backups  backupsPanel
}

// backupsPanel is where the backups are and the newest of them.
type backupsPanel struct {
	Configured bool
	Dir        string
	Every      time.Duration
	Keep       int
	Last       *backup.Info
	LastName   string
	Error      string
}

// backupsPanel reads the backups directory; an unreadable one is shown as
// such on the panel rather than failing the whole dashboard.
func (c *Console) backupsPanel() backupsPanel {
	b := c.deps.Backups
	if b == nil {
		return backupsPanel{}
	}
	p := backupsPanel{Configured: true, Dir: b.Dir(), Every: c.deps.BackupEvery, Keep: c.deps.BackupKeep}
	last, ok, err := b.Last()
	switch {
	case err != nil:
		c.deps.Log.Warn("console: listing the backups", "dir", p.Dir, "error", err)
		p.Error = err.Error()
	case ok:
		p.Last, p.LastName = &last, filepath.Base(last.Path)
	}
	return p
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
	d.Backups = c.backupsPanel()
	return c.show(q, "dashboard", "Dashboard", "dashboard", d)
}

// shortDuration is d as BACKUP_INTERVAL would be written: 1h, not 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// humanSize is n bytes in the largest binary unit that keeps it at least 1.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
