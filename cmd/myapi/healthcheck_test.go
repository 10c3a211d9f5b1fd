package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"myapi/internal/redisconn/redistest"
	"myapi/internal/testdb"
)

func TestHealthcheck(t *testing.T) {
	engine := testdb.Engines(t)[0]
	env := baseSettings(engine.URL(t))
	in := start(t, env)
	_, port, err := net.SplitHostPort(in.Addr)
	if err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, env.with("PORT", port).getenv, nil, &out, &out); err != nil {
		t.Fatalf("healthcheck of a running server: %v", err)
	}
	if !strings.Contains(out.String(), `"database":"ok"`) {
		t.Errorf("healthcheck output %q", out.String())
	}

	// Nothing listens on the port any more: not ready, an error.
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"healthcheck"}, env.with("PORT", port).getenv, nil, &out, &out); err == nil {
		t.Error("healthcheck of a stopped server succeeded")
	}
}

// With METRICS_ADDR, /metrics moves off the API port.
func TestMetricsAddr(t *testing.T) {
	engine := testdb.Engines(t)[0]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	_ = ln.Close()
	in := start(t, baseSettings(engine.URL(t)).with("METRICS_ADDR", metricsAddr))

	for _, c := range []struct {
		url  string
		want int
	}{
		{in.URL + "/health", 200},
		{in.URL + "/metrics", 404},
		{"http://" + metricsAddr + "/metrics", 200},
	} {
		res, err := http.Get(c.url)
		if err != nil {
			t.Fatalf("GET %s: %v", c.url, err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("GET %s: %d, want %d", c.url, res.StatusCode, c.want)
		}
		if c.want == 200 && strings.HasSuffix(c.url, "/metrics") && !strings.Contains(string(body), "myapi_http_requests_total") {
			t.Errorf("metrics body lacks the request counter")
		}
	}
}

// METRICS_ENABLED=false: no /metrics, and no METRICS_ADDR beside it.
func TestMetricsDisabled(t *testing.T) {
	engine := testdb.Engines(t)[0]
	in := start(t, baseSettings(engine.URL(t)).with("METRICS_ENABLED", "false"))
	for path, want := range map[string]int{"/health": 200, "/metrics": 404} {
		if status, body := call(t, http.MethodGet, in.URL+path, "", "", nil); status != want {
			t.Errorf("GET %s: %d %s, want %d", path, status, body, want)
		}
	}
	_, _, err := runCmd(t, baseSettings(engine.URL(t)).with("METRICS_ENABLED", "false", "METRICS_ADDR", "127.0.0.1:9100"), "", "serve")
	if err == nil || !strings.Contains(err.Error(), "METRICS_ENABLED is false") {
		t.Errorf("METRICS_ADDR with METRICS_ENABLED=false: err %v; want a refusal naming both", err)
	}
}

// With REDIS_URL, /health/ready names Redis: 503 while it is down (a
// private redis-server, killed), 200 again once it is back, no restart.
func TestReadinessFollowsRedis(t *testing.T) {
	redisSrv := redistest.StartServer(t)
	engine := testdb.Engines(t)[0]
	in := start(t, baseSettings(engine.URL(t)).with("REDIS_URL", redisSrv.URL()))
	ready := func() (int, string) {
		t.Helper()
		status, body := call(t, http.MethodGet, in.URL+"/health/ready", "", "", nil)
		return status, string(body)
	}
	if status, body := ready(); status != 200 || !strings.Contains(body, `"redis":"ok"`) || !strings.Contains(body, `"database":"ok"`) {
		t.Fatalf("redis up: %d %s", status, body)
	}
	redisSrv.Kill()
	status, body := ready()
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "Not ready: redis unavailable") {
		t.Fatalf("redis killed: %d %s, want 503 naming redis", status, body)
	}
	// Requests are still served while Redis is away.
	if status, body := call(t, http.MethodGet, in.URL+"/items", "", "", nil); status != 200 {
		t.Fatalf("GET /items with redis down: %d %s", status, body)
	}
	redisSrv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body = ready()
		if status == 200 && strings.Contains(body, `"redis":"ok"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis restarted: still %d %s after 10s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
