// Command consoleseed measures the admin console at size: it fills a
// PostgreSQL or SQLite database with users and items (100 000 and
// 1 000 000 by default) in SQL, starts myapi on it, signs in to the console
// and times every page, lists with searches and filters included.
//
//	go build -o /tmp/myapi ./cmd/myapi
//	go run ./bench/consoleseed -bin /tmp/myapi -db postgres://postgres@127.0.0.1:5432/myapi_bench?sslmode=disable
//	go run ./bench/consoleseed -bin /tmp/myapi -db sqlite:////tmp/consoleseed.db
//
// A PostgreSQL database must exist and be empty; a SQLite file must not
// exist yet (sqlite:///rel/path or sqlite:////abs/path, as for the
// server). Either is created or migrated by the server it starts.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

type options struct {
	bin, db      string
	users, items int
	runs         int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "the myapi binary to measure")
	flag.StringVar(&o.db, "db", os.Getenv("DATABASE_URL"), "an empty PostgreSQL database or a new SQLite file (sqlite:///path)")
	flag.IntVar(&o.users, "users", 100_000, "users to create")
	flag.IntVar(&o.items, "items", 1_000_000, "items to create")
	flag.IntVar(&o.runs, "runs", 20, "requests per page")
	flag.Parse()
	if o.bin == "" || !strings.HasPrefix(o.db, "postgres") && !strings.HasPrefix(o.db, sqlitePrefix) {
		fmt.Fprintln(os.Stderr, "usage: consoleseed -bin /path/to/myapi -db postgres://…|sqlite:///path")
		os.Exit(2)
	}
	if path, ok := strings.CutPrefix(o.db, sqlitePrefix); ok {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "consoleseed: %s exists; give a new file\n", path)
			os.Exit(2)
		}
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "consoleseed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	srv := exec.CommandContext(ctx, o.bin, "serve")
	// BACKUP_INTERVAL=0: on SQLite a first backup would start at once and
	// copy the file while the pages are timed.
	srv.Env = append(os.Environ(), "ENV_FILE="+os.DevNull, "BACKUP_INTERVAL=0", "DATABASE_URL="+o.db, "HOST=127.0.0.1", "PORT="+strconv.Itoa(port),
		"BCRYPT_COST=4", "RATE_LIMIT_PER_MINUTE=0", "LOGIN_RATE_LIMIT_PER_MINUTE=0", "LOG_LEVEL=WARNING", "EMAIL_ENABLED=false",
		"SECRET_KEY=consoleseed-0123456789abcdef0123456789abcdef")
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	if err := waitReady(base); err != nil {
		return err
	}
	start := time.Now()
	if err := fill(ctx, o.db, o.users, o.items); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	fmt.Fprintf(os.Stderr, "filled %d users and %d items in %s\n", o.users, o.items, time.Since(start).Round(time.Second))
	c, err := signIn(base)
	if err != nil {
		return err
	}
	pages := []string{
		"/admin", "/admin/users", "/admin/users?q=ali", "/admin/users?q=user1&sort=username", "/admin/users?q=bob42@",
		"/admin/users?active=no", "/admin/users?superuser=yes&active=yes", "/admin/users?sort=username&page=400",
		"/admin/users/17", "/admin/items", "/admin/items?q=lamp", "/admin/items?q=oak+table+99",
		"/admin/items?owner=alice21", "/admin/items?owner=500&q=lamp", "/admin/items?page=400",
		"/admin/queue", "/admin/audit",
	}
	fmt.Println("| page | first | median | p95 | max |")
	fmt.Println("|---|---|---|---|---|")
	for _, p := range pages {
		var lat []time.Duration
		var first time.Duration
		for i := range o.runs + 2 {
			t0 := time.Now()
			status, err := get(c, base+p)
			if err != nil {
				return err
			}
			if status != http.StatusOK {
				return fmt.Errorf("GET %s: %d", p, status)
			}
			switch {
			case i == 0:
				first = time.Since(t0) // cold: the dashboard counts the rows then
			case i >= 2: // after a second warm-up
				lat = append(lat, time.Since(t0))
			}
		}
		slices.Sort(lat)
		fmt.Printf("| `%s` | %s | %s | %s | %s |\n", p, ms(first), ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100]), ms(lat[len(lat)-1]))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

// fill writes the users and items in SQL: names from a few first names
// (prefix searches then match thousands), every 50th user inactive, every
// 10 000th a superuser, the first one "bench" (password "bench-password").
func fill(ctx context.Context, dbURL string, users, items int) error {
	hash, err := bcrypt.GenerateFromPassword([]byte("bench-password"), 4)
	if err != nil {
		return err
	}
	if path, ok := strings.CutPrefix(dbURL, sqlitePrefix); ok {
		return fillSQLite(ctx, path, string(hash), users, items)
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	now := time.Now().UTC()
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		  VALUES ('bench@example.com', 'bench@example.com', 'bench', 'bench', $1, true, true, $2, $2)`, []any{string(hash), now}},
		{`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		  SELECT n||'@example.com', n||'@example.com', n, n, $1, i % 50 <> 0, i % 10000 = 0, $2, $2
		  FROM (SELECT i, (ARRAY['alice','bob','carol','dave','erin','frank','grace','heidi','ivan','judy','user'])[1 + i % 11]||i AS n
		        FROM generate_series(1, $3) i) s`, []any{string(hash), now, users - 1}},
		{`INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
		  SELECT (ARRAY['Lamp','Oak table','Chair','Desk','Shelf','Rug','Mirror','Clock'])[1 + i % 8]||' '||i, 'item '||i, 1 + i % 1000,
		         1 + i % $1, $2, $2 FROM generate_series(1, $3) i`, []any{users, now, items}},
		{`VACUUM ANALYZE`, nil},
	}
	for _, s := range steps {
		if _, err := db.ExecContext(ctx, s.sql, s.args...); err != nil {
			return err
		}
	}
	return nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in to the console as "bench" and returns a client holding
// the session cookie.
func signIn(base string) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/admin/login")
	if err != nil {
		return nil, err
	}
	page, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	m := csrfField.FindSubmatch(page)
	if m == nil {
		return nil, errors.New("no csrf field on the sign-in page")
	}
	resp, err = c.PostForm(base+"/admin/login", url.Values{"csrf": {string(m[1])}, "username": {"bench"}, "password": {"bench-password"}})
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	if resp.Request.URL.Path != "/admin" {
		return nil, fmt.Errorf("sign-in ended at %s (%d)", resp.Request.URL.Path, resp.StatusCode)
	}
	return c, nil
}

func get(c *http.Client, u string) (int, error) {
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func waitReady(base string) error {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/health/ready"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("the server was not ready within 2 minutes")
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
