package metrics

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolStater is what PoolCollector reads: *pgxpool.Pool satisfies it.
type PoolStater interface {
	Stat() *pgxpool.Stat
}

// PoolCollector exposes the statistics of a pgx connection pool as
// myapi_db_pool_* metrics, read from pool.Stat() at each scrape (the pool
// keeps the counts itself, so serving queries costs nothing extra):
//
//	myapi_db_pool_in_use_connections         gauge   connections lent to queries right now
//	myapi_db_pool_idle_connections           gauge   open connections waiting in the pool
//	myapi_db_pool_constructing_connections   gauge   connections being opened
//	myapi_db_pool_open_connections           gauge   in use + idle + constructing
//	myapi_db_pool_max_connections            gauge   the pool's cap (DB_POOL_SIZE + DB_MAX_OVERFLOW)
//	myapi_db_pool_acquires_total             counter connections handed out
//	myapi_db_pool_acquire_waits_total        counter acquires that found no idle connection and waited
//	myapi_db_pool_acquire_wait_seconds_total counter time those acquires waited
//	myapi_db_pool_acquire_seconds_total      counter time all acquires took
//	myapi_db_pool_canceled_acquires_total    counter acquires given up (context ended while waiting)
//	myapi_db_pool_new_connections_total      counter connections opened
//	myapi_db_pool_closed_max_lifetime_total  counter connections closed for reaching their maximum lifetime
//	myapi_db_pool_closed_max_idle_total      counter connections closed for idling too long
//
// Saturation is in_use / max; rate(acquire_wait_seconds_total) /
// rate(acquires_total) is the mean wait per acquire.
type PoolCollector struct {
	pool PoolStater

	inUse, idle, constructing, open, max *prometheus.Desc
	acquires, waits, waitSeconds         *prometheus.Desc
	acquireSeconds, canceled, newConns   *prometheus.Desc
	closedLifetime, closedIdle           *prometheus.Desc
}

// NewPoolCollector returns a collector for pool. Register it on
// Metrics.Registry once per pool.
func NewPoolCollector(pool PoolStater) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db_pool", name), help, nil, nil)
	}
	return &PoolCollector{
		pool:           pool,
		inUse:          d("in_use_connections", "Database connections lent to queries right now."),
		idle:           d("idle_connections", "Open database connections waiting in the pool."),
		constructing:   d("constructing_connections", "Database connections being opened."),
		open:           d("open_connections", "Open database connections: in use, idle and being opened."),
		max:            d("max_connections", "The most database connections the pool opens (DB_POOL_SIZE + DB_MAX_OVERFLOW)."),
		acquires:       d("acquires_total", "Database connections handed out by the pool."),
		waits:          d("acquire_waits_total", "Acquires that found no idle connection and had to wait for one."),
		waitSeconds:    d("acquire_wait_seconds_total", "Time acquires spent waiting for a connection because none was idle."),
		acquireSeconds: d("acquire_seconds_total", "Time all acquires took, waits included."),
		canceled:       d("canceled_acquires_total", "Acquires given up because their context ended while waiting."),
		newConns:       d("new_connections_total", "Database connections opened."),
		closedLifetime: d("closed_max_lifetime_total", "Database connections closed for reaching their maximum lifetime."),
		closedIdle:     d("closed_max_idle_total", "Database connections closed for idling too long."),
	}
}

// Describe implements prometheus.Collector.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.inUse, c.idle, c.constructing, c.open, c.max,
		c.acquires, c.waits, c.waitSeconds, c.acquireSeconds, c.canceled,
		c.newConns, c.closedLifetime, c.closedIdle,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.inUse, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	gauge(c.open, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.waits, float64(s.EmptyAcquireCount()))
	counter(c.waitSeconds, s.EmptyAcquireWaitTime().Seconds())
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.newConns, float64(s.NewConnsCount()))
	counter(c.closedLifetime, float64(s.MaxLifetimeDestroyCount()))
	counter(c.closedIdle, float64(s.MaxIdleDestroyCount()))
}
