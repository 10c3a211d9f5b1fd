package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"myapi/internal/metrics"
)

type jobMetrics struct {
	duration *prometheus.HistogramVec
}

func newJobMetrics() *jobMetrics {
	return &jobMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metrics.Namespace,
		Name:      "job_duration_seconds",
		Help:      "Time spent working background jobs, by kind and outcome (ok or error).",
		Buckets:   []float64{.005, .01, .05, .1, .5, 1, 5, 10, 30, 60},
	}, []string{"kind", "outcome"})}
}

func (m *jobMetrics) observe(kind string, start time.Time, err *error) {
	outcome := "ok"
	if *err != nil {
		outcome = "error"
	}
	m.duration.WithLabelValues(kind, outcome).Observe(time.Since(start).Seconds())
}

// RegisterMetrics exposes the queue on reg: myapi_job_duration_seconds for
// the jobs this process works, the Extra jobs' own metrics, and myapi_jobs
// (jobs in the database by state and kind, counted at each scrape).
func (q *Queue) RegisterMetrics(reg prometheus.Registerer) error {
	if err := reg.Register(q.metrics.duration); err != nil {
		return err
	}
	for _, x := range q.extra {
		for _, c := range x.Collectors() {
			if err := reg.Register(c); err != nil {
				return err
			}
		}
	}
	return reg.Register(&countCollector{q: q, desc: prometheus.NewDesc(
		metrics.Namespace+"_jobs", "Background jobs in the database, by state and kind.", []string{"state", "kind"}, nil)})
}

type countCollector struct {
	q    *Queue
	desc *prometheus.Desc
}

func (c *countCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *countCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	list, err := c.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, n := range list {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n.Jobs), n.State, n.Kind)
	}
}
