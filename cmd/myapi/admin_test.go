package main

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"myapi/internal/storage"
	"myapi/internal/testdb"
	"myapi/internal/users"
)

// tablesPresent reports whether the schema's tables exist in dbURL, by
// looking a user up: a missing table is an error other than ErrNotFound.
func tablesPresent(t *testing.T, dbURL string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	db, err := storage.Open(ctx, dbURL, storage.Options{PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.UserByUsername(ctx, "nobody")
	return errors.Is(err, users.ErrNotFound)
}

// migrationStatus runs "myapi migrate status" and returns each migration
// file with its state ("pending" or "applied"), in order.
func migrationStatus(t *testing.T, env settings) (files, states []string) {
	t.Helper()
	stdout, _, err := runCmd(t, env, "", "migrate", "status")
	if err != nil {
		t.Fatalf("migrate status: %v\n%s", err, stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasSuffix(fields[0], ".sql") || (fields[1] != "pending" && fields[1] != "applied") {
			t.Fatalf("migrate status line %q: want \"<file>.sql pending|applied …\"", line)
		}
		files = append(files, fields[0])
		states = append(states, fields[1])
	}
	return files, states
}

func allStates(t *testing.T, env settings, want string) []string {
	t.Helper()
	files, states := migrationStatus(t, env)
	if len(files) == 0 || files[0] != "00001_initial.sql" {
		t.Fatalf("migrate status lists %v, want 00001_initial.sql first", files)
	}
	for i, s := range states {
		if s != want {
			t.Fatalf("migrate status: %s is %s, want %s", files[i], s, want)
		}
	}
	return files
}

// TestMigrateCommands walks the schema up, down to nothing and up again
// with "myapi migrate", checking status and the tables at each step.
func TestMigrateCommands(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		dbURL := engine.URL(t)
		env := baseSettings(dbURL)
		migrate := func(args ...string) string {
			t.Helper()
			stdout, _, err := runCmd(t, env, "", append([]string{"migrate"}, args...)...)
			if err != nil {
				t.Fatalf("migrate %v: %v\n%s", args, err, stdout)
			}
			return stdout
		}
		upAll := func(files []string) {
			t.Helper()
			out := migrate("up")
			for _, f := range files {
				if !strings.Contains(out, "applied "+f) {
					t.Fatalf("migrate up printed\n%s\nwant \"applied %s\"", out, f)
				}
			}
			allStates(t, env, "applied")
			if !tablesPresent(t, dbURL) {
				t.Fatal("no tables after migrate up")
			}
		}

		files := allStates(t, env, "pending")
		if tablesPresent(t, dbURL) {
			t.Fatal("tables exist before any migration")
		}
		upAll(files)
		if out := migrate("up"); !strings.Contains(out, "no migrations to apply") {
			t.Errorf("second migrate up printed %q, want \"no migrations to apply\"", out)
		}

		// down rolls back one migration at a time, newest first, until
		// the tables are gone.
		for i := len(files) - 1; i >= 0; i-- {
			if out := migrate("down"); !strings.Contains(out, "rolled back "+files[i]) {
				t.Fatalf("migrate down printed %q, want \"rolled back %s\"", out, files[i])
			}
			_, states := migrationStatus(t, env)
			for j, s := range states {
				if want := map[bool]string{true: "applied", false: "pending"}[j < i]; s != want {
					t.Fatalf("after rolling back %s: %s is %s, want %s", files[i], files[j], s, want)
				}
			}
		}
		if tablesPresent(t, dbURL) {
			t.Fatal("tables still there after rolling every migration back")
		}
		if _, _, err := runCmd(t, env, "", "migrate", "down"); err == nil {
			t.Error("migrate down with nothing applied: no error")
		}
		upAll(files)

		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"sideways"}, "unknown migrate command"},
			{nil, "usage: myapi migrate up|down|status"},
			{[]string{"up", "now"}, "usage: myapi migrate up|down|status"},
		} {
			if _, _, err := runCmd(t, env, "", append([]string{"migrate"}, c.args...)...); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("migrate %v: err = %v, want %q", c.args, err, c.want)
			}
		}

		// The schema brought back up serves the API.
		in := start(t, env)
		register(t, in.URL, "after@example.com", "after", "password123")
	})
}

// TestMigrateConcurrently: two "migrate up" at once on PostgreSQL both
// succeed and the migration is applied exactly once (advisory lock).
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	engine := postgresEngine(t)
	dbURL := engine.URL(t)
	env := baseSettings(dbURL)
	const n = 2
	outs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var out strings.Builder
			errs[i] = run(context.Background(), []string{"migrate", "up"}, env.getenv, strings.NewReader(""), &out, &out)
			outs[i] = out.String()
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("migrate up #%d: %v\n%s", i, errs[i], outs[i])
		}
	}
	all := strings.Join(outs, "\n---\n")
	for _, f := range allStates(t, env, "applied") {
		if got := strings.Count(all, "applied "+f); got != 1 {
			t.Errorf("%s applied %d times, want 1:\n%s", f, got, all)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var rows int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id = 1").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("goose_db_version has %d rows for version 1, want 1", rows)
	}
	if !tablesPresent(t, dbURL) {
		t.Error("no tables after the concurrent migrations")
	}
}

// TestCreateSuperuser: "myapi createsuperuser" makes an administrator from
// a password on stdin or in MYAPI_PASSWORD, who can then log in and list
// users; bad input creates nothing, and a duplicate says so.
func TestCreateSuperuser(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		env := baseSettings(engine.URL(t))
		cmd := func(flags ...string) []string { return append([]string{"createsuperuser"}, flags...) }
		ok := []string{"--email", "root@example.com", "--username", "root"}

		// Refused before anything exists: nothing may be created.
		for _, c := range []struct {
			name  string
			env   settings
			stdin string
			args  []string
			want  string
		}{
			{"no flags", env, "password123\n", cmd(), "usage"},
			{"no email", env, "password123\n", cmd("--username", "root"), "usage"},
			{"no username", env, "password123\n", cmd("--email", "root@example.com"), "usage"},
			{"stray argument", env, "password123\n", cmd(append(ok, "extra")...), "usage"},
			{"password as a flag", env, "", cmd(append(ok, "--password", "password123")...), "not defined"},
			{"short password on stdin", env, "short\n", cmd(ok...), "password"},
			{"empty stdin", env, "", cmd(ok...), "password"},
			{"only a newline on stdin", env, "\n", cmd(ok...), "password"},
			{"short MYAPI_PASSWORD", env.with("MYAPI_PASSWORD", "1234567"), "", cmd(ok...), "password"},
			{"long password", env.with("MYAPI_PASSWORD", strings.Repeat("p", 101)), "", cmd(ok...), "password"},
			{"bad email", env, "password123\n", cmd("--email", "root-at-example", "--username", "root"), "--email"},
			{"short username", env, "password123\n", cmd("--email", "root@example.com", "--username", "ro"), "--username"},
			{"bad config", env.with("BCRYPT_COST", "3"), "password123\n", cmd(ok...), "BCRYPT_COST"},
		} {
			stdout, _, err := runCmd(t, c.env, c.stdin, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: err = %v, want one mentioning %q", c.name, err, c.want)
			}
			if strings.Contains(stdout, "created") {
				t.Errorf("%s: %s", c.name, stdout)
			}
			if strings.Contains(err.Error(), "password123") || strings.Contains(err.Error(), "1234567") {
				t.Errorf("%s: the error repeats the password: %v", c.name, err)
			}
		}

		// Created from stdin (a Windows line ending is not part of it) and
		// from MYAPI_PASSWORD (which wins over stdin).
		for _, c := range []struct {
			env   settings
			stdin string
			args  []string
		}{
			{env, "stdin-password-1\r\nignored\n", cmd(ok...)},
			{env.with("MYAPI_PASSWORD", "env-password-2"), "not-this-one\n", cmd("--email", "second@example.com", "--username", "second")},
		} {
			stdout, _, err := runCmd(t, c.env, c.stdin, c.args...)
			if err != nil || !strings.Contains(stdout, "created superuser") {
				t.Fatalf("createsuperuser %v: %v\n%s", c.args, err, stdout)
			}
		}

		// Duplicates are refused with a message that says what exists.
		for _, c := range []struct {
			args []string
			want string
		}{
			{cmd("--email", "root@example.com", "--username", "other"), `email "root@example.com" already exists`},
			{cmd("--email", "ROOT@EXAMPLE.COM", "--username", "other"), "already exists"},
			{cmd("--email", "other@example.com", "--username", "root"), `named "root" already exists`},
			{cmd("--email", "other@example.com", "--username", "Root"), "already exists"},
		} {
			_, _, err := runCmd(t, env, "password123\n", c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("duplicate %v: err = %v, want %q", c.args, err, c.want)
			}
		}

		in := start(t, env)
		token := login(t, in.URL, "root", "stdin-password-1")
		list := listUsers(t, in.URL, token)
		if len(list) != 2 {
			t.Fatalf("GET /users = %+v, want exactly root and second", list)
		}
		for _, u := range list {
			if !u.IsSuperuser || !u.IsActive {
				t.Errorf("%+v is not an active superuser", u)
			}
		}
		login(t, in.URL, "second", "env-password-2")
	})
}
