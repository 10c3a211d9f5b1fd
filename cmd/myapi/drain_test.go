package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"myapi/internal/testdb"
)

// keepAliveConn is one client connection reused across requests, as a
// proxy's upstream keep-alive pool (deploy/nginx.conf) reuses it.
type keepAliveConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

// dialKeepAlive opens a connection to addr, closed at the end of t.
func dialKeepAlive(t *testing.T, addr string) *keepAliveConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	return &keepAliveConn{addr: addr, conn: conn, br: bufio.NewReader(conn)}
}

// reply is what a test reads of a response: Close is net/http's reading of
// "Connection: close".
type reply struct {
	StatusCode int
	Close      bool
}

// do sends one request on the connection and reads the whole response.
func (c *keepAliveConn) do(t *testing.T, method, path, body string) (reply, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+c.addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := req.Write(c.conn); err != nil {
		t.Fatalf("%s %s: write: %v", method, path, err)
	}
	res, err := http.ReadResponse(c.br, req)
	if err != nil {
		t.Fatalf("%s %s: no response: %v", method, path, err)
	}
	b, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{StatusCode: res.StatusCode, Close: res.Close}, string(b)
}

// closedByServer reports whether the server has closed the connection:
// reading finds its end, not more bytes nor a timeout.
func (c *keepAliveConn) closedByServer(wait time.Duration) bool {
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	_, err := c.br.ReadByte()
	return errors.Is(err, io.EOF)
}

// waitLog waits until the logs contain line.
func waitLog(t *testing.T, in *instance, line string) {
	t.Helper()
	for deadline := time.Now().Add(waitLimit); !strings.Contains(in.Logs.String(), line); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the logs after %s:\n%s", line, waitLimit, in.Logs)
		}
	}
}

// drainLine starts the log line of a drain; shutdownLine, the one of
// Shutdown (deploy/scaleout/run.sh greps it).
const (
	drainLine    = "draining before shutdown"
	shutdownLine = "shutting down: draining in-flight requests"
)

// TestShutdownDrainDelay: with SHUTDOWN_DRAIN_DELAY, ending the context
// (SIGTERM) does not close idle keep-alive connections at once, which
// races a request a proxy has just sent on one (a POST through nginx then
// fails with 502). For the delay, requests are served as usual, on the
// connections already open and on new ones, but each response says
// "Connection: close" and the server closes the connection after it;
// /health/ready is 503 naming the shutdown, /health/live stays 200. Then
// serve shuts down as before and returns nil.
func TestShutdownDrainDelay(t *testing.T) {
	t.Parallel()
	// Long enough for the requests below on a loaded 2-core machine: they
	// must all be served before it ends.
	const delay = time.Second
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		in := start(t, baseSettings(engine.URL(t)).with("SHUTDOWN_DRAIN_DELAY", delay.String()))
		cases := []struct {
			name         string
			fresh        bool // on a connection opened during the drain
			method, path string
			body         string
			want         int
			detail       string // the 503's detail must contain it
		}{
			{name: "POST, the request a proxy cannot retry", method: http.MethodPost, path: "/auth/register",
				body: `{"email":"drain@example.com","username":"drainer","password":"password123"}`, want: http.StatusCreated},
			{name: "GET", method: http.MethodGet, path: "/items", want: http.StatusOK},
			{name: "liveness", method: http.MethodGet, path: "/health/live", want: http.StatusOK},
			{name: "readiness", method: http.MethodGet, path: "/health/ready", want: http.StatusServiceUnavailable, detail: "Not ready: shutting down"},
			{name: "new connection", fresh: true, method: http.MethodGet, path: "/health/live", want: http.StatusOK},
		}

		// Before SIGTERM: keep-alive as usual, ready, no Connection: close.
		conns := make([]*keepAliveConn, len(cases))
		for i, c := range cases {
			if c.fresh {
				continue
			}
			conns[i] = dialKeepAlive(t, in.Addr)
			res, body := conns[i].do(t, http.MethodGet, "/health/ready", "")
			if res.StatusCode != http.StatusOK || !strings.Contains(body, `"shutdown":"ok"`) {
				t.Fatalf("GET /health/ready before SIGTERM: %d %s, want 200 with shutdown ok", res.StatusCode, body)
			}
			if res.Close {
				t.Fatal("before SIGTERM: Connection: close, want the connection kept alive")
			}
		}

		began := time.Now()
		in.cancel() // SIGTERM
		waitLog(t, in, drainLine)

		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				conn := conns[i]
				if c.fresh {
					conn = dialKeepAlive(t, in.Addr)
				}
				res, body := conn.do(t, c.method, c.path, c.body)
				if res.StatusCode != c.want {
					t.Errorf("%s %s during the drain: %d %s, want %d", c.method, c.path, res.StatusCode, body, c.want)
				}
				if c.detail != "" {
					if d, _ := decode[map[string]any](t, []byte(body))["detail"].(string); !strings.Contains(d, c.detail) {
						t.Errorf("%s %s during the drain: detail %q, want it to name %q", c.method, c.path, d, c.detail)
					}
				}
				// ReadResponse takes "Connection: close" out of the header
				// into Close (an HTTP/1.1 response sets it no other way).
				if !res.Close {
					t.Errorf("%s %s during the drain: no Connection: close", c.method, c.path)
				}
				if !conn.closedByServer(waitLimit) {
					t.Errorf("%s %s during the drain: the server kept the connection open after Connection: close", c.method, c.path)
				}
			})
		}
		if served := time.Since(began); served >= delay {
			t.Errorf("the drain's requests took %s, not within SHUTDOWN_DRAIN_DELAY=%s: results above are unreliable", served, delay)
		}

		if err := in.wait(t); err != nil {
			t.Fatalf("serve returned %v after the drain, want nil", err)
		}
		took := time.Since(began)
		if took < delay || took > delay+10*time.Second {
			t.Errorf("serve returned %s after SIGTERM, want about SHUTDOWN_DRAIN_DELAY=%s", took, delay)
		}
		logs := in.Logs.String()
		d, s := strings.Index(logs, drainLine), strings.Index(logs, shutdownLine)
		if d < 0 || s < d {
			t.Errorf("want the drain line, then %q:\n%s", shutdownLine, logs)
		}
		if !strings.Contains(logs[max(d, 0):], "delay="+delay.String()) {
			t.Errorf("the drain line does not say the delay (delay=%s):\n%s", delay, logs)
		}
	})
}

// TestShutdownWithoutDrainDelay: by default (SHUTDOWN_DRAIN_DELAY=0s)
// nothing waits: an idle keep-alive connection is closed as soon as the
// context ends and no drain is logged, so Ctrl-C in development and the
// tests stay instant.
func TestShutdownWithoutDrainDelay(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		in := start(t, baseSettings(engine.URL(t)))
		conn := dialKeepAlive(t, in.Addr)
		if res, body := conn.do(t, http.MethodGet, "/health/live", ""); res.StatusCode != http.StatusOK || res.Close {
			t.Fatalf("GET /health/live: %d %s (close %v), want 200 kept alive", res.StatusCode, body, res.Close)
		}
		in.cancel() // SIGTERM
		if !conn.closedByServer(waitLimit) {
			t.Error("the idle keep-alive connection was not closed by the shutdown")
		}
		if err := in.wait(t); err != nil {
			t.Fatalf("serve returned %v, want nil", err)
		}
		if logs := in.Logs.String(); strings.Contains(logs, drainLine) || !strings.Contains(logs, shutdownLine) {
			t.Errorf("want %q and no drain:\n%s", shutdownLine, logs)
		}
	})
}

// TestDrainClosesWhenTheStatusGoesOut: whether a response closes its
// connection is decided when its status is written, so a request that
// arrived before the drain began and answers during it closes its
// connection too (left idle, Shutdown would close it under the proxy's
// next request).
func TestDrainClosesWhenTheStatusGoesOut(t *testing.T) {
	for _, c := range []struct {
		name               string
		drainBefore, after bool // the drain begins before the request, or while it runs
		want               string
	}{
		{"no drain", false, false, ""},
		{"drain before the request", true, false, "close"},
		{"drain while the request runs", false, true, "close"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &drainer{}
			if c.drainBefore {
				d.start()
			}
			h := d.wrap(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if c.after {
					d.start()
				}
				w.WriteHeader(http.StatusContinue) // a 1xx decides nothing
				_, _ = w.Write([]byte("ok"))
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if got := rec.Header().Get("Connection"); got != c.want {
				t.Fatalf("Connection %q, want %q", got, c.want)
			}
		})
	}
}

// TestStopAcceptingServesAcceptedConnections: a connection accepted before
// the listener closes and whose request comes after is answered, not
// dropped (net/http drops a request it reads once Shutdown has begun).
func TestStopAcceptingServesAcceptedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := &connStates{}
	srv := &http.Server{ConnState: conns.track, ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })}
	go func() { _ = srv.Serve(ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); !conns.anyFresh(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server did not accept the connection")
		}
	}
	stopped := make(chan error, 1)
	go func() {
		stopAccepting(ln, conns, 2*time.Second)
		stopped <- srv.Shutdown(t.Context())
	}()
	time.Sleep(200 * time.Millisecond) // the request comes after the listener closed
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: myapi\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the request on an accepted connection was dropped: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("the listener still accepts")
	}
}
