// Package redistest gives tests a Redis: the shared one named by
// TEST_REDIS_URL (used only under a random key prefix, deleted at the end),
// or a redis-server the test starts itself on a spare port, to kill and
// restart, and a TCP proxy to cut the connection while Redis keeps its data.
//
// Without TEST_REDIS_URL (or without redis-server installed) the tests
// that need one are skipped, except under CI=true, where they fail: CI must
// never skip the Redis suites silently.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"myapi/internal/redisconn"
)

// URL returns TEST_REDIS_URL, or skips t when it is unset (fails it under
// CI=true).
func URL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but TEST_REDIS_URL is not set: the Redis suites must run in CI")
		}
		t.Skip("TEST_REDIS_URL is not set: skipping Redis (set it, e.g. redis://127.0.0.1:6379/15, to run this against a real server)")
	}
	return url
}

// Available reports whether TEST_REDIS_URL is set; under CI=true an unset
// one fails t.
func Available(t testing.TB) bool {
	t.Helper()
	if os.Getenv("TEST_REDIS_URL") == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but TEST_REDIS_URL is not set: the Redis suites must run in CI")
	}
	return os.Getenv("TEST_REDIS_URL") != ""
}

// Client returns a client for url, closed at the end of t, with
// redisconn's settings except roomier timeouts (a loaded test machine
// must not turn a slow answer into a failed test), unless short is true.
func Client(t testing.TB, url string, short bool) *redis.Client {
	t.Helper()
	opt, err := redisconn.Options(url)
	if err != nil {
		t.Fatal(err)
	}
	if !short {
		opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout, opt.DialTimeout = 2*time.Second, 2*time.Second, 2*time.Second, 2*time.Second
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Shared returns a client on TEST_REDIS_URL (skipping t without it) and a
// fresh random key prefix; every key under the prefix is deleted at the
// end of t. Tests must write no other key.
func Shared(t testing.TB) (*redis.Client, string) {
	t.Helper()
	c := Client(t, URL(t), false)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("TEST_REDIS_URL does not answer: %v", err)
	}
	prefix := Prefix()
	t.Cleanup(func() { DeletePrefix(t, c, prefix) })
	return c, prefix
}

// Prefix returns a random key prefix, "myapi-test:<hex>:".
func Prefix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "myapi-test:" + hex.EncodeToString(b[:]) + ":"
}

// DeletePrefix deletes every key that starts with prefix.
func DeletePrefix(t testing.TB, c redis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("delete %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// Server is a redis-server the test started itself.
type Server struct {
	t    testing.TB
	bin  string
	Port int
	mu   sync.Mutex
	cmd  *exec.Cmd
}

// StartServer starts redis-server on a spare port, without persistence,
// and stops it at the end of t. It skips t when redis-server is not
// installed (fails it under CI=true).
func StartServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but redis-server is not installed: the Redis fault tests must run in CI")
		}
		t.Skip("redis-server is not installed: skipping the Redis fault test")
	}
	s := &Server{t: t, bin: bin, Port: freePort(t)}
	s.Start()
	t.Cleanup(s.Kill)
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// Start starts the server (again) on its port and waits until it answers.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		s.t.Fatal("redis-server already running")
	}
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.t.TempDir(), "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on port %d does not answer: %v", s.Port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL); its data is lost.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Proxy forwards TCP connections to a Redis, and can cut them: while cut,
// connections are closed and new ones refused, as in a network outage,
// but Redis keeps its data (unlike a restart without persistence).
type Proxy struct {
	target string
	l      net.Listener

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

// StartProxy listens on a spare port and forwards to target (host:port)
// until the end of t.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{target: target, l: l, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() {
		_ = l.Close()
		p.Cut()
	})
	return p
}

// URL is the proxy's redis:// URL for database db.
func (p *Proxy) URL(db int) string {
	return fmt.Sprintf("redis://%s/%d", p.l.Addr().String(), db)
}

// Cut closes every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *Proxy) serve() {
	for {
		in, err := p.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		go p.forward(in)
	}
}

func (p *Proxy) forward(in net.Conn) {
	p.mu.Lock()
	cut := p.cut
	p.mu.Unlock()
	if cut {
		_ = in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		_ = in.Close()
		return
	}
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		_ = in.Close()
		_ = out.Close()
		return
	}
	p.conns[in], p.conns[out] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	_ = in.Close()
	_ = out.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, in)
	delete(p.conns, out)
	p.mu.Unlock()
}
