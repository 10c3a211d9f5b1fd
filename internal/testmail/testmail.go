// Package testmail gives tests a real SMTP server: mailpit
// (github.com/axllent/mailpit), run as a Go tool. The binary is taken from
// $MAILPIT, from PATH, or installed once with `go install` into the user's
// cache directory.
package testmail

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the mailpit release the tests run.
const Version = "v1.33.1"

// Server is a running mailpit.
type Server struct {
	Host     string
	SMTPPort int
	api      string
}

// Message is a received email.
type Message struct {
	ID      string
	To      []string
	Subject string
	Text    string
}

var (
	installOnce sync.Once
	installed   string
	installErr  error
)

// binary returns a mailpit executable.
func binary() (string, error) {
	if p := os.Getenv("MAILPIT"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	installOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		bin := filepath.Join(dir, "myapi-test", "mailpit-"+Version)
		installed = filepath.Join(bin, "mailpit")
		if _, err := os.Stat(installed); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "install", "github.com/axllent/mailpit@"+Version)
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			installErr = fmt.Errorf("go install mailpit: %w\n%s", err, out)
		}
	})
	return installed, installErr
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs a mailpit for t, stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatalf("mailpit: %v", err)
	}
	for attempt := 0; ; attempt++ {
		smtpPort, httpPort := freePort(t), freePort(t)
		cmd := exec.Command(bin, "--smtp", "127.0.0.1:"+strconv.Itoa(smtpPort),
			"--listen", "127.0.0.1:"+strconv.Itoa(httpPort), "--database", filepath.Join(t.TempDir(), "mailpit.db"), "--quiet")
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start mailpit: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		s := &Server{Host: "127.0.0.1", SMTPPort: smtpPort, api: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
		if s.ready(done) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-done
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-done
		if attempt == 2 {
			t.Fatalf("mailpit did not start:\n%s", out.String())
		}
	}
}

func (s *Server) ready(done <-chan struct{}) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return false
		default:
		}
		resp, err := http.Get(s.api + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", s.Host, s.SMTPPort), time.Second); err == nil {
				c.Close()
				return resp.StatusCode == http.StatusOK
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Messages returns every message received so far, newest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			To      []struct{ Address string }
		} `json:"messages"`
	}
	s.get(t, "/api/v1/messages", &list)
	out := make([]Message, 0, len(list.Messages))
	for _, m := range list.Messages {
		msg := Message{ID: m.ID, Subject: m.Subject}
		for _, to := range m.To {
			msg.To = append(msg.To, to.Address)
		}
		var full struct{ Text string }
		s.get(t, "/api/v1/message/"+m.ID, &full)
		msg.Text = full.Text
		out = append(out, msg)
	}
	return out
}

// Wait returns the first message to `to` whose subject contains subject,
// failing t if none arrives within timeout.
func (s *Server) Wait(t testing.TB, to, subject string, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range s.Messages(t) {
			if len(m.To) == 1 && strings.EqualFold(m.To[0], to) && strings.Contains(m.Subject, subject) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no email to %s about %q within %s; got %+v", to, subject, timeout, s.Messages(t))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) get(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.api + path)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
}
