package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"myapi/internal/backup/backuptest"
	"myapi/internal/testdb"
)

// drillSettings is a server on dbURL with limits off (the drills write
// quickly) and no scheduled backup unless a test asks for one.
func drillSettings(dbURL, backupDir string) settings {
	return baseSettings(dbURL).with("RATE_LIMIT_PER_MINUTE", "0", "LOGIN_RATE_LIMIT_PER_MINUTE", "0",
		"BACKUP_DIR", backupDir, "BACKUP_INTERVAL", "0", "PATH", os.Getenv("PATH"))
}

// writer is a client that creates and deletes items through the API.
type writer struct {
	t     *testing.T
	base  string
	token string
}

// newWriter registers a user and logs in.
func newWriter(t *testing.T, base, name string) *writer {
	t.Helper()
	register(t, base, name+"@example.com", name, "password123")
	return &writer{t: t, base: base, token: login(t, base, name, "password123")}
}

// item creates an item and returns its id and the body the API answered.
func (w *writer) item(title string, price float64) (int64, []byte) {
	w.t.Helper()
	body := fmt.Sprintf(`{"title":%q,"description":"line one\nline \"two\" ✓","price":%g}`, title, price)
	status, resp := call(w.t, http.MethodPost, w.base+"/items", "application/json", w.token, strings.NewReader(body))
	if status != http.StatusCreated {
		w.t.Fatalf("POST /items: %d %s", status, resp)
	}
	return decode[struct {
		ID int64 `json:"id"`
	}](w.t, resp).ID, resp
}

// remove deletes an item.
func (w *writer) remove(id int64) {
	w.t.Helper()
	if status, resp := call(w.t, http.MethodDelete, fmt.Sprintf("%s/items/%d", w.base, id), "", w.token, nil); status != http.StatusNoContent {
		w.t.Fatalf("DELETE /items/%d: %d %s", id, status, resp)
	}
}

// getItem returns GET /items/{id}'s status and body.
func getItem(t *testing.T, base string, id int64) (int, string) {
	t.Helper()
	status, body := call(t, http.MethodGet, fmt.Sprintf("%s/items/%d", base, id), "", "", nil)
	return status, string(body)
}

// TestRestoreDrill, on both engines: data written through the API is backed
// up while the server keeps serving and writing; more writes and deletes
// follow; the restored database holds every row acknowledged before the
// backup began, byte for byte with its id, none written after it ended,
// and the server starts on it and serves it.
func TestRestoreDrill(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := backuptest.PrivateAppName(t, engine.URL(t))
		dir := t.TempDir()
		env := drillSettings(dbURL, dir)
		in := start(t, env)
		alice := newWriter(t, in.URL, "alice")
		bob := newWriter(t, in.URL, "bob")

		// Acknowledged before the backup: 40 items, 5 of them deleted.
		acked := map[int64]string{}
		var ackedIDs []int64
		for i := range 40 {
			w := alice
			if i%2 == 1 {
				w = bob
			}
			id, _ := w.item(fmt.Sprintf("before %d", i), float64(i)+0.25)
			ackedIDs = append(ackedIDs, id)
		}
		for i, id := range ackedIDs {
			if i%2 == 0 && i < 10 {
				alice.remove(id) // alice owns the even ones
				continue
			}
			_, body := getItem(t, in.URL, id)
			acked[id] = body
		}
		before := backuptest.Dump(t, dbURL, backuptest.Tables...)

		// The backup, while writes keep arriving and succeeding.
		var during sync.Map // id -> body
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, body := bob.item(fmt.Sprintf("during %d", i), 1.5)
				during.Store(id, string(body))
			}
		}()
		out := filepath.Join(dir, "drill"+map[string]string{"sqlite": ".db", "postgres": ".dump"}[engine.Name])
		stdout, _, err := runCmd(t, env, "", "backup", "--out", out)
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatalf("myapi backup: %v", err)
		}
		if !strings.Contains(stdout, "backed up the "+engine.Name+" database to "+out) {
			t.Errorf("myapi backup said %q", stdout)
		}

		// After the backup: more writes, deletes of acknowledged rows.
		afterID, _ := alice.item("after the backup", 9)
		alice.remove(ackedIDs[10])
		newWriter(t, in.URL, "carol")

		// Not while the server runs.
		_, _, err = runCmd(t, env, "", "restore", out)
		if err == nil || !strings.Contains(err.Error(), "in use") {
			t.Fatalf("restore while served: %v, want a refusal", err)
		}
		if err := in.stop(t); err != nil {
			t.Fatal(err)
		}
		stdout, _, err = runCmd(t, env, "", "restore", out)
		if err != nil {
			t.Fatalf("myapi restore: %v", err)
		}
		if !strings.Contains(stdout, "kept as") {
			t.Errorf("restore does not say where the replaced database is: %q", stdout)
		}

		// Byte for byte: every row acknowledged before the backup, and
		// besides them only items written during it.
		restored := backuptest.Dump(t, dbURL, backuptest.Tables...)
		have := map[string]bool{}
		for _, line := range strings.Split(restored, "\n") {
			have[line] = true
		}
		for _, line := range strings.Split(before, "\n") {
			if !have[line] {
				t.Errorf("restored database lacks a row acknowledged before the backup: %s", line)
			}
			delete(have, line)
		}
		for line := range have {
			if !strings.Contains(line, "during ") {
				t.Errorf("restored database has a row not acknowledged by the time the backup ended: %s", line)
			}
		}

		// The server starts on it and serves it.
		in = start(t, env)
		for id, body := range acked {
			if status, got := getItem(t, in.URL, id); status != http.StatusOK || got != body {
				t.Errorf("GET /items/%d after restore: %d %s, want 200 %s", id, status, got, body)
			}
		}
		during.Range(func(k, v any) bool {
			if status, got := getItem(t, in.URL, k.(int64)); status == http.StatusOK && got != v.(string) {
				t.Errorf("GET /items/%d (written during the backup): %s, want %s", k, got, v)
			}
			return true
		})
		if status, _ := getItem(t, in.URL, afterID); status != http.StatusNotFound {
			t.Errorf("item %d, written after the backup, is there after the restore: %d", afterID, status)
		}
		login(t, in.URL, "alice", "password123")
		form := "username=carol&password=password123"
		if status, _ := call(t, http.MethodPost, in.URL+"/auth/login", "application/x-www-form-urlencoded", "", strings.NewReader(form)); status != http.StatusUnauthorized {
			t.Errorf("carol, registered after the backup, can log in after the restore: %d", status)
		}
		// Ids handed out after the backup are not handed out again.
		if id, _ := newWriter(t, in.URL, "dave").item("new after restore", 2); id <= afterID {
			t.Errorf("a new item after the restore got id %d, not above %d, handed out before the restore", id, afterID)
		}
	})
}

// TestRestoreRefusesBadFiles: through the command, a truncated or corrupt
// backup is refused with a clear message and the current database is
// untouched (the server then starts on it, as it was).
func TestRestoreRefusesBadFiles(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := backuptest.PrivateAppName(t, engine.URL(t))
		dir := t.TempDir()
		env := drillSettings(dbURL, dir)
		in := start(t, env)
		w := newWriter(t, in.URL, "erin")
		for i := range 100 {
			w.item(fmt.Sprintf("item %d", i), 1)
		}
		good := filepath.Join(dir, "good.backup")
		if _, _, err := runCmd(t, env, "", "backup", "--out", good); err != nil {
			t.Fatal(err)
		}
		id, body := w.item("after", 3)
		if err := in.stop(t); err != nil {
			t.Fatal(err)
		}
		current := backuptest.Dump(t, dbURL, backuptest.Tables...)
		data, err := os.ReadFile(good)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := os.ReadFile(good + ".sha256")
		if err != nil {
			t.Fatal(err)
		}
		corrupt := append([]byte(nil), data...)
		corrupt[len(corrupt)/2] ^= 0xff
		for _, c := range []struct {
			name string
			data []byte
			want string
		}{
			{"truncated", data[:len(data)/2], "does not match its checksum (good.backup.sha256): the file is corrupt or truncated"},
			{"corrupt", corrupt, "does not match its checksum (good.backup.sha256): the file is corrupt or truncated"},
		} {
			bad := filepath.Join(t.TempDir(), "good.backup")
			if err := os.WriteFile(bad, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(bad+".sha256", sum, 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := runCmd(t, env, "", "restore", bad)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: restore = %v, want %q", c.name, err, c.want)
			}
			if got := backuptest.Dump(t, dbURL, backuptest.Tables...); got != current {
				t.Errorf("%s: the refused restore changed the current database", c.name)
			}
		}
		in = start(t, env)
		if status, got := getItem(t, in.URL, id); status != http.StatusOK || got != string(body) {
			t.Errorf("after refused restores, GET /items/%d = %d %s, want %s", id, status, got, body)
		}
	})
}

// TestBackupKilled: a backup process killed with SIGKILL in the middle
// leaves no file that looks whole: only its .partial file, which no
// listing or restore takes for a backup.
func TestBackupKilled(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := backuptest.PrivateAppName(t, engine.URL(t))
		dir := t.TempDir()
		env := drillSettings(dbURL, dir)
		backuptest.Fill(t, dbURL, 200_000) // a backup that takes a moment
		out := filepath.Join(dir, "killed.backup")
		cmd := childProcess(t, env, "backup", "--out", out)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		for deadline := time.Now().Add(waitLimit); ; time.Sleep(time.Millisecond) {
			if _, err := os.Stat(out + ".partial"); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s.partial within %s: %s", out, waitLimit, stderr.String())
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if err == nil {
			t.Fatal("the backup finished before it could be killed: make the database larger")
		}
		for _, p := range []string{out, out + ".sha256"} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after the backup was killed (%v)", p, err)
			}
		}
		stdout, _, err := runCmd(t, env, "", "backup", "--list")
		if err != nil || !strings.Contains(stdout, "0 backup(s)") {
			t.Errorf("backup --list after a killed backup: %v %q", err, stdout)
		}
	})
}
