package main

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

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
