package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"myapi/internal/cache"
	"myapi/internal/config"
	"myapi/internal/metrics"
	"myapi/internal/redisconn"
)

// redisConn is the one Redis connection of the process and the breaker
// that the cache and the rate limiter share, so they agree on an outage
// and it is logged once.
type redisConn struct {
	Client *redis.Client
	// Commands batches the commands of concurrent requests (see
	// redisconn.AutoPipelined); the cache and the limiter use it.
	Commands redis.Cmdable
	Breaker  *redisconn.Breaker
	stop     context.CancelFunc
}

// Ping asks Redis whether it answers, within ctx (readiness).
func (r *redisConn) Ping(ctx context.Context) error {
	return r.Client.Ping(ctx).Err()
}

// Close stops the health watch and closes the connections.
func (r *redisConn) Close() {
	if r == nil {
		return
	}
	r.stop()
	_ = r.Client.Close()
}

// openRedis connects to REDIS_URL; nil without one. It does not fail when
// Redis is down: the server starts and uses Redis once it answers.
func openRedis(cfg *config.Config, log *slog.Logger, m *metrics.Metrics) (*redisConn, error) {
	if cfg.RedisURL == "" {
		return nil, nil
	}
	client, err := redisconn.Open(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	commands, err := redisconn.AutoPipelined(client)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	redisconn.SetLogger(log) // go-redis's own per-dial lines, at debug level
	breaker := redisconn.NewBreaker(log, redisconn.BreakerOptions{})
	ctx, stop := context.WithCancel(context.Background())
	go breaker.Watch(ctx, time.Second, func(ctx context.Context) error { return client.Ping(ctx).Err() })
	up := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace,
		Name:      "redis_up",
		Help:      "1 while Redis answers; 0 during an outage (the cache is skipped, limits count in process).",
	}, func() float64 {
		if breaker.Up() {
			return 1
		}
		return 0
	})
	if err := m.Registry().Register(up); err != nil {
		stop()
		_ = client.Close()
		return nil, fmt.Errorf("register redis metric: %w", err)
	}
	// Connect now rather than on the first request, whose short timeout
	// would otherwise pay for the dial and send it down the fallback path.
	pingCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	err = client.Ping(pingCtx).Err()
	cancel()
	if err != nil {
		log.Warn("redis does not answer yet: caching is off and limits count per instance until it does", "error", err)
	}
	_ = breaker.Record(context.Background(), err)
	log.Info("redis", "addr", client.Options().Addr, "db", client.Options().DB)
	return &redisConn{Client: client, Commands: commands, Breaker: breaker, stop: stop}, nil
}

// newCache builds the items response cache: in Redis when there is one,
// in process otherwise; nil when CACHE_TTL_SECONDS is 0. The returned func
// releases it.
func newCache(cfg *config.Config, rc *redisConn, log *slog.Logger, m *metrics.Metrics) (*cache.Cache, func(), error) {
	if cfg.CacheTTLSeconds <= 0 {
		return nil, func() {}, nil
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace,
		Name:      "cache_requests_total",
		Help:      "Item response cache lookups by result (hit, miss, bypass: cache unavailable), and failed cache calls (error).",
	}, []string{"result"})
	if err := m.Registry().Register(results); err != nil {
		return nil, nil, fmt.Errorf("register cache metric: %w", err)
	}
	for _, r := range []string{cache.ResultHit, cache.ResultMiss, cache.ResultBypass, cache.ResultError} {
		results.WithLabelValues(r) // every series from the start, so ratios are defined
	}
	opts := cache.Options{
		TTL:      time.Duration(cfg.CacheTTLSeconds) * time.Second,
		OnResult: func(r string) { results.WithLabelValues(r).Inc() },
	}
	if rc == nil {
		log.Info("cache", "store", "memory", "ttl", opts.TTL.String(), "max_entries", cfg.CacheMaxEntries)
		return cache.New(cache.NewMemory(cache.MemoryOptions{MaxEntries: cfg.CacheMaxEntries}), opts), func() {}, nil
	}
	store := cache.NewRedis(rc.Commands, cache.RedisOptions{Breaker: rc.Breaker})
	log.Info("cache", "store", "redis", "ttl", opts.TTL.String())
	return cache.New(store, opts), func() { _ = store.Close() }, nil
}
