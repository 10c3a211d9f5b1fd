package main

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets tests run the real main() in a child process: the test
// binary re-executes itself with MYAPI_TEST_MAIN=1 and the command line in
// MYAPI_TEST_ARGS, so signals and exit codes are tested as an operator
// sees them.
func TestMain(m *testing.M) {
	if os.Getenv("MYAPI_TEST_MAIN") == "1" {
		os.Args = append([]string{"myapi"}, strings.Fields(os.Getenv("MYAPI_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childProcess prepares main() in a child process with exactly env (the
// child sees nothing of the test's environment).
func childProcess(t *testing.T, env settings, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"MYAPI_TEST_MAIN=1", "MYAPI_TEST_ARGS=" + strings.Join(args, " ")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

var listeningAddr = regexp.MustCompile(`msg=listening addr=(\S+)`)

// waitListening reads text logs from r until the "listening" line and
// returns the address; the rest of r is drained in the background.
func waitListening(t *testing.T, r io.Reader) string {
	t.Helper()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			if m := listeningAddr.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case addr, ok := <-found:
		if !ok {
			t.Fatal("the program ended without logging that it listens")
		}
		return addr
	case <-time.After(waitLimit):
		t.Fatalf("no listening line within %s", waitLimit)
		return ""
	}
}

// TestMainExitsZeroOnSignal: SIGTERM (docker stop, Kubernetes) and SIGINT
// (Ctrl-C) stop the server gracefully with exit status 0.
func TestMainExitsZeroOnSignal(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			env := baseSettings("sqlite:///" + filepath.Join(t.TempDir(), "main.db"))
			cmd := childProcess(t, env)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr syncBuffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill() })
			addr := waitListening(t, stdout)
			if status, body := call(t, http.MethodGet, "http://"+addr+"/health", "", "", nil); status != http.StatusOK {
				t.Fatalf("GET /health: %d %s", status, body)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			waited := make(chan error, 1)
			go func() { waited <- cmd.Wait() }()
			select {
			case err := <-waited:
				if err != nil {
					t.Fatalf("after %s: %v (want exit 0)\nstderr:\n%s", sig, err, stderr.String())
				}
			case <-time.After(waitLimit):
				t.Fatalf("still running %s after %s", waitLimit, sig)
			}
		})
	}
}

// TestMainInvalidConfigExitsOne: a wrong setting ends the process with
// status 1 and a message naming the variable on stderr.
func TestMainInvalidConfigExitsOne(t *testing.T) {
	t.Parallel()
	env := baseSettings("sqlite:///"+filepath.Join(t.TempDir(), "main.db")).with("PORT", "abc")
	cmd := childProcess(t, env)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("PORT=abc: %v, want exit status 1", err)
	}
	if !strings.HasPrefix(stderr.String(), "myapi: PORT: ") {
		t.Errorf("stderr = %q, want it to start with \"myapi: PORT: \"", stderr.String())
	}
	if strings.Contains(stdout.String(), "listening") {
		t.Errorf("it listened before refusing the setting:\n%s", stdout.String())
	}
}

func TestUnknownCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"frobnicate"}, {"srve"}, {"--port", "80"}} {
		stdout, stderr, err := runCmd(t, baseSettings(""), "", args...)
		if err == nil || !strings.Contains(err.Error(), "unknown command") || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("myapi %v: err = %v, want an unknown command error naming %q", args, err, args[0])
		}
		if !strings.Contains(stderr, "usage: myapi") || !strings.Contains(stderr, "createsuperuser") {
			t.Errorf("myapi %v: stderr lacks the usage:\n%s", args, stderr)
		}
		if stdout != "" {
			t.Errorf("myapi %v wrote to stdout: %q", args, stdout)
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"version"}, version + "\n"},
		{[]string{"help"}, "usage: myapi"},
		{[]string{"-h"}, "usage: myapi"},
		{[]string{"--help"}, "migrate up|down|status"},
	} {
		stdout, stderr, err := runCmd(t, baseSettings(""), "", c.args...)
		if err != nil || !strings.Contains(stdout, c.want) || stderr != "" {
			t.Errorf("myapi %v: err %v, stdout %q, stderr %q; want stdout containing %q", c.args, err, stdout, stderr, c.want)
		}
	}
}

// TestInvalidConfigStopsBeforeListening: every command refuses a wrong
// setting with an error naming the variable, before it listens or touches
// the database.
func TestInvalidConfigStopsBeforeListening(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		kv   []string
		want string
	}{
		{"PORT not a number", []string{"PORT", "abc"}, "PORT"},
		{"PORT out of range", []string{"PORT", "70000"}, "PORT"},
		{"ENVIRONMENT unknown", []string{"ENVIRONMENT", "prod"}, "ENVIRONMENT"},
		{"DATABASE_URL unknown scheme", []string{"DATABASE_URL", "mysql://root@localhost/app"}, "DATABASE_URL"},
		{"REDIS_URL not a URL", []string{"REDIS_URL", "localhost:6379"}, "REDIS_URL"},
		{"SECRET_KEY missing in production", []string{"ENVIRONMENT", "production"}, "SECRET_KEY"},
		{"SECRET_KEY example in production", []string{"ENVIRONMENT", "production", "SECRET_KEY", "your-secret-key-change-this-in-production"}, "SECRET_KEY"},
		// A weak key set on purpose is refused in development too: with
		// SECRET_KEY=abc anyone could sign a token for user 1.
		{"SECRET_KEY short in development", []string{"SECRET_KEY", "abc"}, "SECRET_KEY"},
		{"SECRET_KEY example in development", []string{"SECRET_KEY", "your-secret-key-change-this-in-production"}, "SECRET_KEY"},
		{"CLIENT_IP_HEADER unknown", []string{"CLIENT_IP_HEADER", "True-Client-IP"}, "CLIENT_IP_HEADER"},
		{"SMTP_HOST missing in production", []string{"ENVIRONMENT", "production", "SECRET_KEY", strings.Repeat("s", 32)}, "SMTP_HOST"},
		{"BCRYPT_COST 3", []string{"BCRYPT_COST", "3"}, "BCRYPT_COST"},
		{"LOG_LEVEL junk", []string{"LOG_LEVEL", "chatty"}, "LOG_LEVEL"},
		{"ALGORITHM RS256", []string{"ALGORITHM", "RS256"}, "ALGORITHM"},
		{"FIRST_SUPERUSER partial", []string{"FIRST_SUPERUSER_EMAIL", "root@example.com"}, "FIRST_SUPERUSER"},
		{"database unreachable", []string{"DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?connect_timeout=5"}, "DATABASE_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dbPath := filepath.Join(t.TempDir(), "never.db")
			env := baseSettings("sqlite:///" + dbPath).with(c.kv...)
			for _, args := range [][]string{{}, {"serve"}, {"migrate", "up"}, {"createsuperuser", "--email", "a@example.com", "--username", "admin"}} {
				stdout, _, err := runCmd(t, env, "long-enough-password\n", args...)
				if err == nil || !strings.HasPrefix(err.Error(), c.want) {
					t.Errorf("myapi %v with %v: err = %v, want one starting with %s", args, c.kv, err, c.want)
				}
				if strings.Contains(stdout, "listening") {
					t.Errorf("myapi %v listened before refusing %v:\n%s", args, c.kv, stdout)
				}
			}
			if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the database file was created despite the bad setting (stat: %v)", err)
			}
		})
	}
}
