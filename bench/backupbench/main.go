// Command backupbench measures a backup at size: it
// fills a database of each engine with -users users and -items items,
// serves it with the myapi binary -bin, sends POST /items at a steady rate,
// and compares the latency without a backup (before and after) with the
// latency while `myapi backup` runs. It prints a Markdown section for
// bench/RESULTS.md and, with -results, puts it there (replacing its
// previous version).
//
//	go build -trimpath -o /tmp/myapi ./cmd/myapi
//	go run ./bench/backupbench -bin /tmp/myapi -results bench/RESULTS.md
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"
)

type options struct {
	bin, pgAdmin, results string
	users, items, rate    int
	window                time.Duration
	engines               []string
}

func main() {
	var o options
	var engines string
	flag.StringVar(&o.bin, "bin", "", "the myapi binary to run (required)")
	flag.StringVar(&o.pgAdmin, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL URL allowed to create the database myapi_bench_backup")
	flag.StringVar(&o.results, "results", "", "replace the backup section of this RESULTS.md")
	flag.IntVar(&o.users, "users", 100_000, "users in the database")
	flag.IntVar(&o.items, "items", 1_000_000, "items in the database")
	flag.IntVar(&o.rate, "rate", 100, "POST /items per second")
	flag.DurationVar(&o.window, "window", 30*time.Second, "length of each window without a backup")
	flag.StringVar(&engines, "engines", "sqlite,postgres", "engines to measure")
	flag.Parse()
	if o.bin == "" {
		log.Fatal("-bin is required")
	}
	o.engines = strings.Split(engines, ",")
	var rows []string
	started := time.Now().UTC()
	for _, engine := range o.engines {
		r, err := measure(context.Background(), o, engine)
		if err != nil {
			log.Fatalf("%s: %v", engine, err)
		}
		rows = append(rows, r)
	}
	section := report(o, started, rows)
	fmt.Print(section)
	if o.results != "" {
		if err := replaceSection(o.results, section); err != nil {
			log.Fatal(err)
		}
	}
}

// measure fills, serves and measures one engine, returning its table row.
func measure(ctx context.Context, o options, engine string) (string, error) {
	dir, err := os.MkdirTemp("", "backupbench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	dbURL := "sqlite:///" + filepath.Join(dir, "bench.db")
	if engine == "postgres" {
		admin, err := sql.Open("pgx", o.pgAdmin)
		if err != nil {
			return "", err
		}
		defer admin.Close()
		for _, q := range []string{"DROP DATABASE IF EXISTS myapi_bench_backup WITH (FORCE)", "CREATE DATABASE myapi_bench_backup"} {
			if _, err := admin.ExecContext(ctx, q); err != nil {
				return "", fmt.Errorf("%s: %w", q, err)
			}
		}
		dbURL = strings.Replace(o.pgAdmin, "/postgres?", "/myapi_bench_backup?", 1)
	}
	env := append(os.Environ(), "DATABASE_URL="+dbURL, "ENV_FILE="+os.DevNull, "HOST=127.0.0.1", "BCRYPT_COST=4",
		"RATE_LIMIT_PER_MINUTE=0", "LOGIN_RATE_LIMIT_PER_MINUTE=0", "LOG_LEVEL=WARNING", "BACKUP_INTERVAL=0",
		"SECRET_KEY=backup-bench-secret-key-0123456789abcdef", "CACHE_TTL_SECONDS=0")
	if out, err := run(ctx, o.bin, env, "migrate", "up"); err != nil {
		return "", fmt.Errorf("migrate: %w\n%s", err, out)
	}
	t0 := time.Now()
	if err := fill(ctx, engine, dbURL, o.users, o.items); err != nil {
		return "", fmt.Errorf("fill: %w", err)
	}
	log.Printf("%s: filled %d users, %d items in %s", engine, o.users, o.items, time.Since(t0).Round(time.Second))

	port, err := freePort()
	if err != nil {
		return "", err
	}
	srv := exec.CommandContext(ctx, o.bin, "serve")
	srv.Env = append(env, fmt.Sprintf("PORT=%d", port))
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return "", err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	token, err := benchUser(base)
	if err != nil {
		return "", err
	}

	before := load(base, token, o.rate, timer(o.window))
	out := filepath.Join(dir, "bench-backup")
	var took time.Duration
	var backupErr error
	var backupOut []byte
	during := load(base, token, o.rate, func(stop chan<- struct{}) {
		start := time.Now()
		backupOut, backupErr = run(ctx, o.bin, env, "backup", "--out", out)
		took = time.Since(start)
		close(stop)
	})
	if backupErr != nil {
		return "", fmt.Errorf("backup: %w\n%s", backupErr, backupOut)
	}
	after := load(base, token, o.rate, timer(o.window))
	fi, err := os.Stat(out)
	if err != nil {
		return "", err
	}
	without := pooled(before, after)
	verdict := "met"
	if during.p99 > 2*without.p99 || during.errors > 0 {
		verdict = "**not met**"
	}
	log.Printf("%s: backup %s, %d bytes; p99 before %s during %s after %s; errors %d/%d/%d",
		engine, took, fi.Size(), before.p99, during.p99, after.p99, before.errors, during.errors, after.errors)
	return fmt.Sprintf("| %s | %.1f s | %.1f MB | %s (%s / %s) | %s | %d / %d | %d / %d / %d | %.2f× | %s |",
		engine, took.Seconds(), float64(fi.Size())/1e6, ms(without.p99), ms(before.p99), ms(after.p99), ms(during.p99),
		without.n, during.n, before.errors, during.errors, after.errors,
		float64(during.p99)/float64(without.p99), verdict), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// fill writes users and items in SQL at once, as the API would store them.
func fill(ctx context.Context, engine, dbURL string, users, items int) error {
	hash, err := bcrypt.GenerateFromPassword([]byte("password123"), 4)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if engine == "postgres" {
		db, err := sql.Open("pgx", dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, `INSERT INTO users (email, email_key, username, username_key, hashed_password, created_at, updated_at)
			SELECT 'user'||i||'@example.com', 'user'||i||'@example.com', 'user'||i, 'user'||i, $1, $2, $2 FROM generate_series(1, $3) i`,
			string(hash), now, users)
		if err == nil {
			_, err = db.ExecContext(ctx, `INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
				SELECT 'item '||i, 'description of item '||i, 1 + i % 1000, 1 + i % $1, $2, $2 FROM generate_series(1, $3) i`,
				users, now, items)
		}
		if err == nil {
			_, err = db.ExecContext(ctx, "VACUUM ANALYZE")
		}
		return err
	}
	path := strings.TrimPrefix(dbURL, "sqlite:///")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
		INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		SELECT 'user'||i||'@example.com', 'user'||i||'@example.com', 'user'||i, 'user'||i, ?, 1, 0, ?, ? FROM s`,
		users, string(hash), now, now)
	if err == nil {
		_, err = db.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
			INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
			SELECT 'item '||i, 'description of item '||i, 1 + i % 1000, 1 + i % ?, ?, ? FROM s`,
			items, users, now, now)
	}
	if err == nil {
		_, err = db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return err
}

// benchUser registers and logs in the user that posts the items.
func benchUser(base string) (string, error) {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/health/ready"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			return "", errors.New("the server did not become ready")
		}
	}
	body := `{"email":"bench@example.com","username":"benchposter","password":"password123"}`
	resp, err := http.Post(base+"/auth/register", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	_ = resp.Body.Close()
	resp, err = http.Post(base+"/auth/login", "application/x-www-form-urlencoded", strings.NewReader("username=benchposter&password=password123"))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		return "", fmt.Errorf("login: %d: %w", resp.StatusCode, err)
	}
	if tok.AccessToken == "" {
		return "", fmt.Errorf("login: %d without a token", resp.StatusCode)
	}
	return tok.AccessToken, nil
}

// stats are the latencies of one window.
type stats struct {
	n, errors int
	p50, p99  time.Duration
	lat       []time.Duration // sorted
}

// pooled are the statistics of windows taken together.
func pooled(windows ...stats) stats {
	var all []time.Duration
	for _, w := range windows {
		all = append(all, w.lat...)
	}
	return summarize(all, 0)
}

// summarize sorts lat and takes its percentiles.
func summarize(lat []time.Duration, errs int) stats {
	slices.Sort(lat)
	s := stats{n: len(lat), errors: errs, lat: lat}
	if len(lat) > 0 {
		s.p50, s.p99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return s
}

// timer ends a window after d.
func timer(d time.Duration) func(chan<- struct{}) {
	return func(stop chan<- struct{}) { time.Sleep(d); close(stop) }
}

// load sends POST /items at rate per second until window closes its
// channel. Requests are started on schedule whatever the earlier ones do
// (an open loop), and each latency counts from its scheduled start, so a
// stall shows as the wait it caused.
func load(base, token string, rate int, window func(chan<- struct{})) stats {
	stop := make(chan struct{})
	go window(stop)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			wg.Wait()
			return summarize(lat, errs)
		case at := <-tick.C:
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"title":"bench %d","description":"posted during the backup bench","price":9.5}`, i)
				req, _ := http.NewRequest(http.MethodPost, base+"/items", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(req)
				ok := err == nil && resp.StatusCode == http.StatusCreated
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
				}
				mu.Lock()
				defer mu.Unlock()
				if !ok {
					errs++
					return
				}
				lat = append(lat, time.Since(at))
			}()
		}
	}
}

func run(ctx context.Context, bin string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

const (
	sectionStart = "<!-- backup bench: written by bench/backupbench, kept by hand when bench/report rewrites this file -->"
	sectionEnd   = "<!-- end of backup bench -->"
)

func report(o options, started time.Time, rows []string) string {
	rev, _ := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	load, _ := os.ReadFile("/proc/loadavg")
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n## Backups at size (issue 14)\n\n", sectionStart)
	fmt.Fprintf(&b, "A backup of a database with %d users and %d items while POST /items keeps arriving at %d/s "+
		"(an open loop: each latency counts from the request's scheduled start). Target: p99 during the backup "+
		"at most 2× the p99 without it (the windows before and after it taken together), and no error. "+
		"One sitting on a shared 2-core machine: the load average says how busy the other tenants kept it.\n\n", o.users, o.items, o.rate)
	fmt.Fprintf(&b, "- **Date**: %s (UTC); myapi revision %s; %d CPUs; load average at the end %s\n",
		started.Format(time.RFC3339), strings.TrimSpace(string(rev)), runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "))
	fmt.Fprintf(&b, "- **Command** (from the repository root):\n\n      go build -trimpath -o /tmp/myapi ./cmd/myapi\n"+
		"      go run ./bench/backupbench -bin /tmp/myapi -rate %d -window %s -results bench/RESULTS.md\n\n", o.rate, o.window)
	b.WriteString("| engine | backup took | backup size | p99 without (before / after) | p99 during | requests without / during | errors before / during / after | during ÷ without | target |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	fmt.Fprintf(&b, "\n%s\n", sectionEnd)
	return b.String()
}

// replaceSection puts section in place of the previous one in the file at
// path, or at its end.
func replaceSection(path, section string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	if i := strings.Index(s, sectionStart); i >= 0 {
		if j := strings.Index(s[i:], sectionEnd); j >= 0 {
			s = s[:i] + strings.TrimSuffix(section, "\n") + s[i+j+len(sectionEnd):]
			return os.WriteFile(path, []byte(s), 0o644)
		}
	}
	return os.WriteFile(path, []byte(strings.TrimRight(s, "\n")+"\n\n"+section), 0o644)
}
