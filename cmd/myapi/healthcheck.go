package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// healthcheckTimeout bounds "myapi healthcheck": a container orchestrator
// runs it every few seconds and must get an answer.
const healthcheckTimeout = 3 * time.Second

// healthcheck runs "myapi healthcheck": it asks the server on this host
// (HOST/PORT from the settings) whether it is ready, so container images
// need no curl. It returns nil exactly when /health/ready answers 200.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, _, err := loadConfig(getenv, io.Discard)
	if err != nil {
		return err
	}
	host := cfg.Host
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1" // listening on every address: ask the loopback one
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(cfg.Port)) + "/health/ready"
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck %s: %s: %s", url, res.Status, body)
	}
	fmt.Fprintf(stdout, "ready: %s\n", body)
	return nil
}
