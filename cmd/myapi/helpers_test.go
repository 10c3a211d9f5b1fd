package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"myapi/internal/testdb"
)

// waitLimit bounds every wait in these tests, so a hang fails instead of
// stalling the run.
const waitLimit = 30 * time.Second

// settings is a test's environment.
type settings map[string]string

// baseSettings is a quick instance on a free local port storing in dbURL;
// ENV_FILE points at an empty file, so a developer's .env cannot leak in.
func baseSettings(dbURL string) settings {
	return settings{
		"DATABASE_URL": dbURL,
		"HOST":         "127.0.0.1",
		"PORT":         "0",
		"BCRYPT_COST":  "4",
		"ENV_FILE":     os.DevNull,
	}
}

// with returns a copy of s with kv ("NAME", "value", …) set.
func (s settings) with(kv ...string) settings {
	out := settings{}
	for k, v := range s {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (s settings) getenv(k string) string { return s[k] }

// forEachEngine runs fn in parallel on every engine testdb offers.
func forEachEngine(t *testing.T, fn func(t *testing.T, engine testdb.Engine)) {
	t.Helper()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, engine)
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a server's goroutines to log into.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// instance is one serve call running in the background.
type instance struct {
	Addr    string
	URL     string
	Logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error // receives serve's result once
	stopped atomic.Bool
	result  error
}

// start runs serve with env and waits until it listens. It is stopped at
// the end of t if the test has not stopped it.
func start(t *testing.T, env settings) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{Logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { in.done <- serve(ctx, env.getenv, in.Logs, ready) }()
	select {
	case in.Addr = <-ready:
	case err := <-in.done:
		cancel()
		t.Fatalf("serve ended before listening: %v\nlogs:\n%s", err, in.Logs)
	case <-time.After(waitLimit):
		cancel()
		t.Fatalf("serve did not listen within %s\nlogs:\n%s", waitLimit, in.Logs)
	}
	in.URL = "http://" + in.Addr
	t.Cleanup(func() {
		if !in.stopped.Load() {
			if err := in.stop(t); err != nil {
				t.Errorf("serve returned %v\nlogs:\n%s", err, in.Logs)
			}
		}
	})
	return in
}

// stop cancels serve's context (what SIGTERM does) and returns its result.
func (in *instance) stop(t *testing.T) error {
	t.Helper()
	in.cancel()
	return in.wait(t)
}

// wait returns serve's result once it has returned.
func (in *instance) wait(t *testing.T) error {
	t.Helper()
	if in.stopped.Load() {
		return in.result
	}
	select {
	case in.result = <-in.done:
		in.stopped.Store(true)
		return in.result
	case <-time.After(waitLimit):
		t.Fatalf("serve did not return within %s of its context ending\nlogs:\n%s", waitLimit, in.Logs)
		return nil
	}
}

var client = &http.Client{Timeout: waitLimit}

// call sends a request and returns the status and body.
func call(t *testing.T, method, u, contentType, token string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return resp.StatusCode, b
}

// decode unmarshals b into a value of type T or fails t.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// login logs in through the OAuth2 password form and returns the access
// token.
func login(t *testing.T, base, username, password string) string {
	t.Helper()
	access, _ := loginPair(t, base, username, password)
	return access
}

// loginPair logs in through the form and returns the access and refresh
// tokens.
func loginPair(t *testing.T, base, username, password string) (string, string) {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}}.Encode()
	status, body := call(t, http.MethodPost, base+"/auth/login", "application/x-www-form-urlencoded", "", strings.NewReader(form))
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, status, body)
	}
	tok := decode[struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		TokenType    string `json:"token_type"`
	}](t, body)
	if tok.AccessToken == "" || tok.TokenType != "bearer" {
		t.Fatalf("login %s: %s", username, body)
	}
	return tok.AccessToken, tok.RefreshToken
}

// user is the API's user body.
type user struct {
	ID          int64  `json:"id"`
	Email       string `json:"email"`
	Username    string `json:"username"`
	IsActive    bool   `json:"is_active"`
	IsSuperuser bool   `json:"is_superuser"`
}

// listUsers returns GET /users as the holder of token sees it.
func listUsers(t *testing.T, base, token string) []user {
	t.Helper()
	status, body := call(t, http.MethodGet, base+"/users?limit=100", "", token, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /users: %d %s", status, body)
	}
	return decode[[]user](t, body)
}

// runCmd runs the program with args and returns stdout, stderr and the
// error.
func runCmd(t *testing.T, env settings, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	err := run(ctx, args, env.getenv, strings.NewReader(stdin), &stdout, &stderr)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("myapi %v did not finish within %s", args, waitLimit)
	}
	return stdout.String(), stderr.String(), err
}
