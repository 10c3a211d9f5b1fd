// Package s3test runs a real S3-compatible server for tests: versitygw
// (github.com/versity/versitygw) over a temporary directory. The binary is
// $VERSITYGW or versitygw on PATH (.ci/run installs it with go install);
// without it tests skip, except under CI=true, where they fail.
package s3test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the versitygw release the tests and .ci/run use.
const Version = "v1.8.0"

// Server is a running S3-compatible server with one bucket.
type Server struct {
	// Endpoint is its base URL, http://127.0.0.1:port.
	Endpoint string
	// Bucket exists and is empty at start.
	Bucket string
	// AccessKeyID and SecretAccessKey are its root credentials.
	AccessKeyID, SecretAccessKey string
}

// URL is a Litestream replica URL for path in the bucket.
func (s *Server) URL(path string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1&forcePathStyle=true", s.Bucket, path, s.Endpoint)
}

// Start runs versitygw for t, stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("VERSITYGW")
	if bin == "" {
		p, err := exec.LookPath("versitygw")
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("CI=true but versitygw is not installed: go install github.com/versity/versitygw/cmd/versitygw@" + Version)
			}
			t.Skip("versitygw is not installed (go install github.com/versity/versitygw/cmd/versitygw@" + Version + "): skipping the S3 test")
		}
		bin = p
	}
	root := t.TempDir()
	s := &Server{Bucket: "myapi-test", AccessKeyID: "myapitestkey", SecretAccessKey: "myapi-test-secret-key"}
	if err := os.Mkdir(filepath.Join(root, s.Bucket), 0o750); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		cmd := exec.Command(bin, "--access", s.AccessKeyID, "--secret", s.SecretAccessKey, "--port", addr,
			"posix", "--sidecar", t.TempDir(), root)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start versitygw: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		s.Endpoint = "http://" + addr
		if ready(s.Endpoint, done) {
			t.Cleanup(func() {
				_ = cmd.Process.Kill()
				<-done
			})
			return s
		}
		_ = cmd.Process.Kill()
		<-done
		if attempt == 2 {
			t.Fatalf("versitygw did not start:\n%s", out.String())
		}
	}
}

// ready waits until the server answers HTTP (an unsigned request gets an
// S3 error, which is an answer).
func ready(endpoint string, done <-chan struct{}) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			return false
		default:
		}
		resp, err := http.Get(endpoint + "/")
		if err == nil {
			_ = resp.Body.Close()
			return true
		}
	}
	return false
}
