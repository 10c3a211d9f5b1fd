package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

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
