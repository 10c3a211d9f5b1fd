package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"myapi/internal/config"
	"myapi/internal/storage"
	"myapi/internal/testdb"
)

// health is the seed's GET /health body.
type health struct {
	Status      string `json:"status"`
	App         string `json:"app"`
	Version     string `json:"version"`
	Environment string `json:"environment"`
}

func getHealth(t *testing.T, base string) health {
	t.Helper()
	status, body := call(t, http.MethodGet, base+"/health", "", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /health: %d %s", status, body)
	}
	return decode[health](t, body)
}

func register(t *testing.T, base, email, username, password string) user {
	t.Helper()
	body := fmt.Sprintf(`{"email":%q,"username":%q,"password":%q}`, email, username, password)
	status, resp := call(t, http.MethodPost, base+"/auth/register", "application/json", "", strings.NewReader(body))
	if status != http.StatusCreated {
		t.Fatalf("register %s: %d %s", username, status, resp)
	}
	return decode[user](t, resp)
}

// TestServeMigratesAndAnswers: serve on a fresh, empty database migrates it
// by itself and answers the seed's health check and a write.
func TestServeMigratesAndAnswers(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		for _, c := range []struct {
			name    string
			kv      []string
			want    health
			warning string // logged at start, "" for none
		}{
			{"defaults", nil, health{"ok", "My API", "1.0.0", "development"}, "SECRET_KEY is not set"},
			{"seed settings", []string{"APP_NAME", "Shop API", "APP_VERSION", "2.3.4", "ENVIRONMENT", "staging",
				"SECRET_KEY", strings.Repeat("s", 40)}, health{"ok", "Shop API", "2.3.4", "staging"}, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				in := start(t, baseSettings(engine.URL(t)).with(c.kv...))
				if got := getHealth(t, in.URL); got != c.want {
					t.Errorf("GET /health = %+v, want %+v", got, c.want)
				}
				u := register(t, in.URL, "first@example.com", "first", "password123")
				if u.ID == 0 || u.IsSuperuser {
					t.Errorf("registered %+v", u)
				}
				if err := in.stop(t); err != nil {
					t.Errorf("serve returned %v after its context ended, want nil", err)
				}
				logs := in.Logs.String()
				if c.warning != "" && !strings.Contains(logs, c.warning) {
					t.Errorf("logs lack the warning %q:\n%s", c.warning, logs)
				}
				if c.warning == "" && strings.Contains(logs, "SECRET_KEY") {
					t.Errorf("unexpected SECRET_KEY warning:\n%s", logs)
				}
				if !strings.Contains(logs, "stopped") {
					t.Errorf("no \"stopped\" line after a graceful stop:\n%s", logs)
				}
			})
		}
	})
}

// TestServeDefaultDatabase: with DATABASE_URL unset, serve creates and
// migrates data/myapi.db under the working directory, and reads ./.env.
func TestServeDefaultDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile(".env", []byte("APP_NAME=\"From Dotenv\"\nBCRYPT_COST=4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := settings{"HOST": "127.0.0.1", "PORT": "0"} // no DATABASE_URL, no ENV_FILE
	in := start(t, env)
	if got := getHealth(t, in.URL); got.App != "From Dotenv" {
		t.Errorf("GET /health app = %q, want the APP_NAME of ./.env", got.App)
	}
	register(t, in.URL, "default@example.com", "defaulter", "password123")
	if err := in.stop(t); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "myapi.db")); err != nil {
		t.Fatalf("data/myapi.db was not created in the working directory: %v", err)
	}
	// The data survives a restart on the same default file.
	stdout, _, err := runCmd(t, env, "", "migrate", "status")
	if err != nil || !strings.Contains(stdout, "00001_initial.sql") || !strings.Contains(stdout, "applied") {
		t.Errorf("migrate status on the default database: %v\n%s", err, stdout)
	}
	in = start(t, env)
	login(t, in.URL, "defaulter", "password123")
}

// slowRequest starts POST /auth/register on a raw connection with
// "Expect: 100-continue" and returns once the server has asked for the
// body, which proves the request is in flight inside the handler.
func slowRequest(t *testing.T, addr, body string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(waitLimit))
	fmt.Fprintf(conn, "POST /auth/register HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(body))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("want 100 Continue, got %q (%v)", line, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q (%v)", blank, err)
	}
	return conn, br
}

// TestGracefulShutdown: when the context ends (SIGTERM), serve stops
// accepting connections at once, lets a request whose body is still
// arriving finish with its 201, keeps what it wrote, and returns nil.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := engine.URL(t)
		in := start(t, baseSettings(dbURL))
		body := `{"email":"slow@example.com","username":"slowpoke","password":"password123"}`
		conn, br := slowRequest(t, in.Addr, body)

		in.cancel() // SIGTERM

		// New connections are refused while the request drains. There is
		// no event to wait on from outside: poll the listener.
		for deadline := time.Now().Add(waitLimit); ; time.Sleep(5 * time.Millisecond) {
			c, err := net.DialTimeout("tcp", in.Addr, time.Second)
			if err != nil {
				break
			}
			_ = c.Close()
			if time.Now().After(deadline) {
				t.Fatal("still accepting connections after shutdown began")
			}
		}
		select {
		case err := <-in.done:
			t.Fatalf("serve returned (%v) with a request in flight", err)
		default:
		}

		// The body arrives slowly, over about half a second.
		const parts = 5
		step := (len(body) + parts - 1) / parts
		for i := 0; i < len(body); i += step {
			if _, err := io.WriteString(conn, body[i:min(i+step, len(body))]); err != nil {
				t.Fatalf("write body: %v", err)
			}
			time.Sleep(100 * time.Millisecond) // pacing the client, not synchronisation
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("in-flight request got no response: %v", err)
		}
		respBody, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("in-flight request: %d %s, want 201", resp.StatusCode, respBody)
		}
		if u := decode[user](t, respBody); u.Username != "slowpoke" {
			t.Errorf("in-flight request created %+v", u)
		}

		if err := in.wait(t); err != nil {
			t.Fatalf("serve returned %v, want nil after draining", err)
		}
		if c, err := net.DialTimeout("tcp", in.Addr, time.Second); err == nil {
			_ = c.Close()
			t.Fatal("a connection was accepted after serve returned")
		}

		// The acknowledged write is in the database.
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		db, err := storage.Open(ctx, dbURL, storage.Options{PoolSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.UserByUsername(ctx, "slowpoke"); err != nil {
			t.Errorf("the user acknowledged with 201 is not stored: %v", err)
		}
	})
}

// TestShutdownDeadline: a request that does not finish within
// SHUTDOWN_TIMEOUT is cut off, and serve returns an error saying so
// instead of hanging.
func TestShutdownDeadline(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		in := start(t, baseSettings(engine.URL(t)).with("SHUTDOWN_TIMEOUT", "200ms"))
		conn, br := slowRequest(t, in.Addr, `{"email":"stuck@example.com","username":"stuck","password":"password123"}`)
		_, _ = io.WriteString(conn, `{"email":`) // and never the rest

		began := time.Now()
		err := in.stop(t)
		if err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
			t.Fatalf("serve returned %v, want an error naming SHUTDOWN_TIMEOUT", err)
		}
		if took := time.Since(began); took > 10*time.Second {
			t.Errorf("serve took %s to give up, with SHUTDOWN_TIMEOUT=200ms", took)
		}
		// The stuck connection was closed by the server.
		if _, err := br.ReadByte(); err == nil {
			t.Error("the stuck connection is still open after serve returned")
		}
	})
}

// TestFirstSuperuser: FIRST_SUPERUSER_* creates an administrator at start;
// restarting with the same settings is fine and leaves the account as it is.
func TestFirstSuperuser(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		env := baseSettings(engine.URL(t)).with(
			"FIRST_SUPERUSER_EMAIL", "boss@example.com",
			"FIRST_SUPERUSER_USERNAME", "boss",
			"FIRST_SUPERUSER_PASSWORD", "boss-password-1",
		)
		in := start(t, env)
		token := login(t, in.URL, "boss", "boss-password-1")
		if logs := in.Logs.String(); !strings.Contains(logs, "created first superuser") || strings.Contains(logs, "boss-password-1") {
			t.Errorf("want a log line about the first superuser, never its password:\n%s", logs)
		}
		list := listUsers(t, in.URL, token)
		if len(list) != 1 || list[0].Username != "boss" || list[0].Email != "boss@example.com" || !list[0].IsSuperuser || !list[0].IsActive {
			t.Fatalf("GET /users = %+v, want the one active superuser boss", list)
		}
		if err := in.stop(t); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			name string
			env  settings
		}{
			{"same settings", env},
			// A changed password in the settings does not overwrite the
			// account an administrator may have changed since.
			{"changed password", env.with("FIRST_SUPERUSER_PASSWORD", "another-password")},
		} {
			in := start(t, c.env)
			token := login(t, in.URL, "boss", "boss-password-1")
			if list := listUsers(t, in.URL, token); len(list) != 1 {
				t.Errorf("%s: restart made %d users: %+v", c.name, len(list), list)
			}
			if err := in.stop(t); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	})
}

// TestInstancesStartTogether: several instances starting at once on one
// fresh PostgreSQL database all come up (the migration runs once, under
// goose's advisory lock) and agree on one first superuser.
func TestInstancesStartTogether(t *testing.T) {
	t.Parallel()
	engine := postgresEngine(t)
	env := baseSettings(engine.URL(t)).with(
		"FIRST_SUPERUSER_EMAIL", "root@example.com",
		"FIRST_SUPERUSER_USERNAME", "root",
		"FIRST_SUPERUSER_PASSWORD", "root-password-1",
	)
	const n = 3
	instances := make([]*instance, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// start may not call t.Fatal off the test goroutine: run serve
			// by hand and collect the address.
			ctx, cancel := context.WithCancel(context.Background())
			in := &instance{Logs: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
			ready := make(chan string, 1)
			go func() { in.done <- serve(ctx, env.getenv, in.Logs, ready) }()
			select {
			case in.Addr = <-ready:
				in.URL = "http://" + in.Addr
			case err := <-in.done:
				in.result = err
				in.stopped.Store(true)
			case <-time.After(waitLimit):
				in.result = errors.New("did not listen in time")
			}
			instances[i] = in
		})
	}
	wg.Wait()
	for i, in := range instances {
		if in.Addr == "" {
			t.Errorf("instance %d did not start: %v\nlogs:\n%s", i, in.result, in.Logs)
			continue
		}
		t.Cleanup(func() {
			if err := in.stop(t); err != nil {
				t.Errorf("instance %d: %v", i, err)
			}
		})
	}
	if t.Failed() {
		return
	}
	// Every migration (the application's, then the job queue's) is
	// applied exactly once across the instances.
	applied := map[string]int{}
	for _, in := range instances {
		for _, line := range strings.Split(in.Logs.String(), "\n") {
			if strings.Contains(line, "migration applied") {
				_, source, _ := strings.Cut(line, "source=")
				applied[source]++
			}
		}
	}
	if len(applied) == 0 {
		t.Errorf("no migration applied across %d instances", n)
	}
	for source, times := range applied {
		if times != 1 {
			t.Errorf("migration %s was applied %d times across %d instances, want 1", source, times, n)
		}
	}
	for _, in := range instances {
		token := login(t, in.URL, "root", "root-password-1")
		if list := listUsers(t, in.URL, token); len(list) != 1 {
			t.Errorf("%s: %d users, want the one first superuser: %+v", in.Addr, len(list), list)
		}
	}
}

// postgresEngine returns the PostgreSQL engine, skipping when
// TEST_DATABASE_URL is unset (never under CI=true: testdb fails then).
func postgresEngine(t *testing.T) testdb.Engine {
	t.Helper()
	for _, e := range testdb.Engines(t) {
		if e.Name == "postgres" {
			return e
		}
	}
	t.Skip("TEST_DATABASE_URL is not set: skipping a PostgreSQL-only test")
	return testdb.Engine{}
}

// TestRunServe: the program's default command, through run as main calls
// it, serves until its context ends and then returns nil.
func TestRunServe(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		for _, args := range [][]string{nil, {"serve"}} {
			ctx, cancel := context.WithCancel(context.Background())
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				err := run(ctx, args, baseSettings(engine.URL(t)).getenv, strings.NewReader(""), pw, io.Discard)
				_ = pw.Close()
				done <- err
			}()
			addr := waitListening(t, pr)
			if got := getHealth(t, "http://"+addr); got.Status != "ok" {
				t.Errorf("myapi %v: GET /health = %+v", args, got)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("myapi %v returned %v, want nil", args, err)
				}
			case <-time.After(waitLimit):
				t.Fatalf("myapi %v did not return after its context ended", args)
			}
		}
	})
}

// TestExtraProcsDoNotCompound: servers started side by side in one process
// (as the tests start them) each add their hashes' Ps to the process's
// starting GOMAXPROCS, not to the value the other left: compounded, it once
// reached thousands of Ps and exhausted the threads. Not parallel, since
// GOMAXPROCS is the whole process's.
func TestExtraProcsDoNotCompound(t *testing.T) {
	base := defaultProcs()
	first := shareCPUWithHashes(&config.Config{BcryptConcurrency: 2})
	second := shareCPUWithHashes(&config.Config{BcryptConcurrency: 2})
	got := runtime.GOMAXPROCS(0)
	second()
	first()
	if got != base+2 {
		t.Fatalf("two servers side by side: GOMAXPROCS %d, want %d (the starting %d plus 2)", got, base+2, base)
	}
	if after := runtime.GOMAXPROCS(0); after != base {
		t.Fatalf("after both stopped: GOMAXPROCS %d, want the starting %d", after, base)
	}
	cfg := &config.Config{}
	defer shareCPUWithHashes(cfg)()
	if cfg.BcryptConcurrency != base {
		t.Fatalf("BCRYPT_CONCURRENCY=0 settled as %d, want the starting GOMAXPROCS %d", cfg.BcryptConcurrency, base)
	}
}
