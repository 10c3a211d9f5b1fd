package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"myapi/internal/httpapi"
	"myapi/internal/statuswriter"
)

// drainer is the state between SIGTERM and http.Server.Shutdown when
// SHUTDOWN_DRAIN_DELAY is set.
//
// Shutdown closes idle keep-alive connections at once, and a proxy with an
// upstream keep-alive pool (deploy/nginx.conf) may be sending a request on
// one at that very moment; nginx does not retry a POST it has sent, so the
// client gets a 502. While draining, the server still accepts and serves
// as usual, but every response carries "Connection: close", so each pooled
// connection ends right after a complete response and the proxy opens a
// fresh one (to another replica once this one stops listening); and
// /health/ready fails, so load balancers that probe it (Kubernetes
// endpoints) stop sending new work before the listener closes.
type drainer struct {
	on atomic.Bool
}

// errDraining is what the "shutdown" readiness check reports while the
// server drains.
var errDraining = errors.New("draining: shutting down")

// start enters the drain; there is no way back, the process is stopping.
func (d *drainer) start() { d.on.Store(true) }

// check is the readiness check named "shutdown": it fails while draining,
// which makes GET /health/ready answer 503 without touching the HTTP layer.
func (d *drainer) check() httpapi.Check {
	return httpapi.Check{Name: "shutdown", Failure: "shutting down", Ping: func(context.Context) error {
		if d.on.Load() {
			return errDraining
		}
		return nil
	}}
}

// wrap returns next with "Connection: close" on every response whose
// status goes out while draining, also when its request arrived before the
// drain began: net/http then closes the connection after this response
// instead of keeping it idle. Decided when the status is written (a
// statuswriter hook), so a slow request that began before SIGTERM does not
// leave an idle connection behind it that Shutdown would close under a
// proxy's next request. Not srv.SetKeepAlivesEnabled(false): that closes
// idle connections at once, the very race the drain avoids.
func (d *drainer) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statuswriter.Writer{ResponseWriter: w}
		sw.BeforeStatus = func() {
			if d.on.Load() {
				w.Header().Set("Connection", "close")
			}
		}
		next.ServeHTTP(sw, r)
	})
}

// stopAcceptingLimit bounds how long stopAccepting waits for accepted
// connections to send their first request.
const stopAcceptingLimit = time.Second

// connStates follows the server's connections (http.Server.ConnState):
// which have been accepted and not yet read a request.
type connStates struct {
	mu    sync.Mutex
	fresh map[net.Conn]struct{}
}

func (c *connStates) track(conn net.Conn, st http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st == http.StateNew {
		if c.fresh == nil {
			c.fresh = map[net.Conn]struct{}{}
		}
		c.fresh[conn] = struct{}{}
		return
	}
	delete(c.fresh, conn)
}

func (c *connStates) anyFresh() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.fresh) > 0
}

// stopAccepting ends a drain: it closes the listener (a proxy's new
// connections are refused, which it retries elsewhere whatever the method,
// the request not being sent), then waits, up to limit, until every
// connection already accepted has read its first request. Only then may
// Shutdown begin: net/http drops, without an answer, a request it reads
// once Shutdown has begun, and during a drain a proxy opens a connection
// for nearly every request (each answer closes its own), so some are
// always in flight; nginx does not retry a POST it has sent, and answers
// it 502. The requests read here are served as usual, closing their
// connections.
func stopAccepting(ln net.Listener, conns *connStates, limit time.Duration) {
	_ = ln.Close()
	deadline := time.Now().Add(limit)
	for conns.anyFresh() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// A connection leaves "fresh" just before net/http checks for
	// Shutdown; let its goroutine get past that check.
	time.Sleep(20 * time.Millisecond)
}
