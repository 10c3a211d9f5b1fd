package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"myapi/internal/backup"
	"myapi/internal/backup/backuptest"
	"myapi/internal/testdb"
)

// metric returns the value of the unlabelled series name in a /metrics
// body, or -1 when it is absent.
func metric(body, name string) float64 {
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return -1
	}
	return v
}

// TestScheduledBackups, on both engines: with BACKUP_INTERVAL set, the
// queue backs the database up at start and every interval, keeps the
// newest BACKUP_KEEP, and /metrics says when the last one succeeded.
func TestScheduledBackups(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := backuptest.PrivateAppName(t, engine.URL(t))
		dir := t.TempDir()
		env := drillSettings(dbURL, dir).with("BACKUP_INTERVAL", "1s", "BACKUP_KEEP", "2")
		in := start(t, env)
		eng, err := backup.Open(dbURL)
		if err != nil {
			t.Fatal(err)
		}
		backups := backup.New(eng, dir)
		// Three backups made (the first at start), two kept. A pg_dump
		// on a loaded machine takes seconds: wait for three at leisure.
		seen := map[string]bool{}
		for deadline := time.Now().Add(4 * waitLimit); len(seen) < 3; time.Sleep(50 * time.Millisecond) {
			list, err := backups.List()
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 2 {
				// Pruning follows each backup at once; three can show
				// for a moment only.
				time.Sleep(time.Second)
				if list, _ = backups.List(); len(list) > 2 {
					t.Fatalf("%d backups kept, BACKUP_KEEP is 2: %+v", len(list), list)
				}
			}
			for _, b := range list {
				seen[b.Path] = true
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d scheduled backups within %s, want 3\nlogs:\n%s", len(seen), 4*waitLimit, in.Logs)
			}
		}
		last, ok, err := backups.Last()
		if err != nil || !ok {
			t.Fatalf("Last: %v %v", ok, err)
		}
		_, body := call(t, http.MethodGet, in.URL+"/metrics", "", "", nil)
		metrics := string(body)
		if got := metric(metrics, "myapi_backup_last_success_timestamp_seconds"); got < float64(last.Time.Unix()) {
			t.Errorf("myapi_backup_last_success_timestamp_seconds = %v, want at least %d", got, last.Time.Unix())
		}
		for name, want := range map[string]float64{"myapi_backup_interval_seconds": 1, "myapi_backup_failures_total": 0} {
			if got := metric(metrics, name); got != want {
				t.Errorf("%s = %v, want %v", name, got, want)
			}
		}
		if metric(metrics, "myapi_backup_last_size_bytes") <= 0 || metric(metrics, "myapi_backup_last_duration_seconds") <= 0 {
			t.Errorf("no size or duration of the last backup:\n%s", grepLines(metrics, "myapi_backup"))
		}
		if !strings.Contains(in.Logs.String(), "msg=backup ") {
			t.Errorf("no log line of a scheduled backup:\n%s", in.Logs)
		}
	})
}

// TestScheduledBackupFailure: a backup that cannot be written is counted
// in myapi_backup_failures_total and logged, and the server keeps serving.
func TestScheduledBackupFailure(t *testing.T) {
	t.Parallel()
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := drillSettings("sqlite:///"+filepath.Join(t.TempDir(), "f.db"), notADir).with("BACKUP_INTERVAL", "1h")
	in := start(t, env)
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(50 * time.Millisecond) {
		_, body := call(t, http.MethodGet, in.URL+"/metrics", "", "", nil)
		if metric(string(body), "myapi_backup_failures_total") >= 1 {
			if got := metric(string(body), "myapi_backup_last_success_timestamp_seconds"); got != 0 {
				t.Errorf("myapi_backup_last_success_timestamp_seconds = %v with no backup, want 0", got)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failure counted within %s\nlogs:\n%s", waitLimit, in.Logs)
		}
	}
	if !strings.Contains(in.Logs.String(), "backup failed") {
		t.Errorf("the failure is not logged:\n%s", in.Logs)
	}
	getHealth(t, in.URL)
}

// TestBackupKeep: "myapi backup --keep N", what docker-compose.yml's
// backup service runs on a schedule, keeps the newest N backups.
func TestBackupKeep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "k.db")
	env := drillSettings(dbURL, dir)
	backuptest.Fill(t, dbURL, 10)
	var made []string
	for range 4 {
		out, _, err := runCmd(t, env, "", "backup", "--keep", "2")
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, out)
		time.Sleep(2 * time.Millisecond) // names carry milliseconds
	}
	if !strings.Contains(made[3], "deleted ") {
		t.Errorf("the fourth backup deleted nothing: %q", made[3])
	}
	out, _, err := runCmd(t, env, "", "backup", "--list")
	if err != nil || !strings.HasPrefix(out, "2 backup(s) in "+dir) {
		t.Errorf("backup --list = %q, %v; want 2 backups", out, err)
	}
}
