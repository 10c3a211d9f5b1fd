package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// backupsPanel is the dashboard's Backups section, as root sees it.
func backupsPanel(t *testing.T, b *browserish) string {
	t.Helper()
	resp, page := b.do(http.MethodGet, "/admin", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin: %d\n%s", resp.StatusCode, page)
	}
	_, panel, ok := strings.Cut(page, `<h2 id="backups">Backups</h2>`)
	if !ok {
		t.Fatalf("no Backups panel on the dashboard:\n%s", page)
	}
	return panel
}

func TestConsoleBackupsPanel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dir := t.TempDir()
		notADir := filepath.Join(dir, "file")
		if err := os.WriteFile(notADir, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		backups := filepath.Join(dir, "backups")
		tests := []struct {
			name, dir, interval string
			backUp              bool
			says                []string
		}{
			{"none yet, not scheduled", backups, "0", false, []string{"<code>" + backups + "</code>",
				"scheduled backups are off (BACKUP_INTERVAL)", "none yet", "<code>myapi restore FILE</code>"}},
			{"one made", backups, "0", true, []string{"<code>myapi-", " UTC, ", "iB</dd>"}},
			{"scheduled", filepath.Join(dir, "scheduled"), "30m", false, []string{"every 30m, keeping the newest 3"}},
			{"unreadable directory", notADir, "0", false, []string{"cannot list the backups", "not a directory"}},
		}
		dbURL := engine.URL(t)
		for _, tc := range tests {
			env := consoleSettings(dbURL).with("BACKUP_DIR", tc.dir, "BACKUP_INTERVAL", tc.interval, "BACKUP_KEEP", "3",
				"PATH", os.Getenv("PATH"))
			in := start(t, env)
			b := newBrowserish(t, in.URL)
			if resp, _ := b.signIn("root", "root-password"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: sign-in: %d", tc.name, resp.StatusCode)
			}
			if tc.backUp {
				if _, stderr, err := runCmd(t, env, "", "backup"); err != nil {
					t.Fatalf("%s: myapi backup: %v\n%s", tc.name, err, stderr)
				}
			}
			panel := backupsPanel(t, b)
			for _, want := range tc.says {
				if !strings.Contains(panel, want) {
					t.Errorf("%s: the Backups panel lacks %q:\n%s", tc.name, want, panel)
				}
			}
			if err := in.stop(t); err != nil {
				t.Fatalf("%s: stop: %v", tc.name, err)
			}
		}
	})
}
