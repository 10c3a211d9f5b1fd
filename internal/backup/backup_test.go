package backup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"myapi/internal/backup"
	"myapi/internal/backup/backuptest"
	"myapi/internal/items"
	"myapi/internal/storage"
	"myapi/internal/testdb"
	"myapi/internal/users"
	"myapi/migrations"
)

// fixture is one engine's database with some rows, and its backups.
type fixture struct {
	url     string
	store   storage.Store
	backups *backup.Backups
	latest  int64
}

func newFixture(t *testing.T, engine testdb.Engine) *fixture {
	t.Helper()
	url := backuptest.PrivateAppName(t, engine.URL(t))
	store := testdb.Open(t, url)
	eng, err := backup.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := migrations.Latest(migrations.Dialect(eng.Name()))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{url: url, store: store, backups: backup.New(eng, t.TempDir()), latest: latest}
}

// write stores n users with an item each, named after tag.
func (f *fixture) write(t *testing.T, tag string, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for i := range n {
		u := &users.User{Email: fmt.Sprintf("%s%d@example.com", tag, i), Username: fmt.Sprintf("%s%d", tag, i),
			PasswordHash: "hash-" + tag, IsActive: true}
		if err := f.store.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		desc := "désc\tription ✓ \"quoted\"\n" + tag
		it := &items.Item{Title: tag, Description: &desc, Price: 0.1 + float64(i), OwnerID: u.ID}
		if err := f.store.CreateItem(ctx, it); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, it.ID)
	}
	return ids
}

func (f *fixture) dump(t *testing.T) string {
	t.Helper()
	return backuptest.Dump(t, f.url, backuptest.Tables...)
}

func TestCreateListAndRestore(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engine)
			ctx := context.Background()
			ids := f.write(t, "before", 5)
			before := f.dump(t)

			info, err := f.backups.Create(ctx, "")
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if info.Size == 0 || filepath.Dir(info.Path) != f.backups.Dir() {
				t.Errorf("Create = %+v", info)
			}
			if _, err := os.Stat(info.Path + ".sha256"); err != nil {
				t.Errorf("no checksum file: %v", err)
			}
			if partial, _ := filepath.Glob(filepath.Join(f.backups.Dir(), "*.partial")); len(partial) > 0 {
				t.Errorf("partial files left: %v", partial)
			}
			list, err := f.backups.List()
			if err != nil || len(list) != 1 || list[0].Path != info.Path || list[0].Size != info.Size {
				t.Fatalf("List = %+v, %v; want the one backup %+v", list, err, info)
			}
			version, warning, err := f.backups.Check(ctx, info.Path)
			if err != nil || warning != "" || version != f.latest {
				t.Fatalf("Check = %d, %q, %v; want version %d", version, warning, err, f.latest)
			}

			// Keep writing and deleting after the backup.
			f.write(t, "after", 3)
			if err := f.store.DeleteItem(ctx, ids[0]); err != nil {
				t.Fatal(err)
			}
			if f.dump(t) == before {
				t.Fatal("the writes after the backup changed nothing")
			}
			if err := f.store.Close(); err != nil {
				t.Fatal(err)
			}
			aside, warning, err := f.backups.Restore(ctx, info.Path)
			if err != nil || warning != "" {
				t.Fatalf("Restore: %q, %v", warning, err)
			}
			if got := f.dump(t); got != before {
				t.Errorf("restored database differs from the one backed up:\n got %s\nwant %s", got, before)
			}
			if aside == "" {
				t.Error("Restore kept nothing aside")
			}
			// The restored database serves, and ids continue after the
			// highest one it holds.
			store := testdb.Open(t, f.url)
			if _, err := store.ItemByID(ctx, ids[0]); err != nil {
				t.Errorf("item %d, deleted after the backup, is not back: %v", ids[0], err)
			}
			u := &users.User{Email: "new@example.com", Username: "newcomer", PasswordHash: "h", IsActive: true}
			if err := store.CreateUser(ctx, u); err != nil {
				t.Fatalf("write after restore: %v", err)
			}
		})
	}
}

// TestRestoreRefuses: files that are not whole, sound backups of this
// engine and schema are refused, and the current database is untouched.
func TestRestoreRefuses(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engine)
			ctx := context.Background()
			f.write(t, "row", 200)
			good, err := f.backups.Create(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			newer := f.newerBackup(t)
			current := f.dump(t)
			data, err := os.ReadFile(good.Path)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := os.ReadFile(good.Path + ".sha256")
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := func(name string, content []byte, withSum bool) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, content, 0o600); err != nil {
					t.Fatal(err)
				}
				if withSum {
					if err := os.WriteFile(p+".sha256", sum, 0o600); err != nil {
						t.Fatal(err)
					}
				}
				return p
			}
			// Damage its structure, near the start: SQLite's first b-tree
			// page, pg_dump's table of contents. (A changed byte inside a
			// row, or inside pg_dump's compressed data, is not always
			// caught but by the checksum.)
			const at = 100
			flipped := append([]byte(nil), data...)
			for i := at; i < at+64; i++ {
				flipped[i] ^= 0x5a
			}
			other := "postgres"
			if engine.Name == "postgres" {
				other = "sqlite"
			}
			for _, c := range []struct {
				name, path, want string
			}{
				{"truncated, with its checksum", file("t1", data[:len(data)*2/3], true), "does not match its checksum"},
				{"truncated, no checksum", file("t2", data[:len(data)*2/3], false), "truncated"},
				{"corrupt, with its checksum", file("c1", flipped, true), "does not match its checksum"},
				{"corrupt, no checksum", file("c2", flipped, false), "corrupt"},
				{"not a backup", file("f1", []byte("hello, this is not a database\n"), false), "neither a SQLite database nor a pg_dump"},
				{"empty", file("f2", nil, false), "neither a SQLite database nor a pg_dump"},
				{"foreign SQLite database", foreignSQLite(t), "not a myapi database"},
				{"the other engine's", otherEngineFile(t, other), "backup, but DATABASE_URL names a " + engine.Name},
				{"newer than this binary", newer, "newer than this myapi knows"},
			} {
				if c.name == "foreign SQLite database" && engine.Name != "sqlite" {
					continue // a SQLite file is "the other engine's" there
				}
				t.Run(c.name, func(t *testing.T) {
					_, _, err := f.backups.Restore(ctx, c.path)
					if !errors.Is(err, backup.ErrRefused) || !strings.Contains(err.Error(), c.want) {
						t.Errorf("Restore = %v, want a refusal saying %q", err, c.want)
					}
					if got := f.dump(t); got != current {
						t.Error("a refused restore changed the current database")
					}
				})
			}
		})
	}
}

// newerBackup returns a backup whose schema version is past this binary's
// latest migration.
func (f *fixture) newerBackup(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	bump := func(sql string) {
		t.Helper()
		backuptest.Exec(t, f.url, sql)
	}
	bump(fmt.Sprintf("INSERT INTO goose_db_version (version_id, is_applied) VALUES (%d, true)", f.latest+1))
	info, err := f.backups.Create(ctx, filepath.Join(t.TempDir(), "newer"+f.backups.Engine().Ext()))
	if err != nil {
		t.Fatal(err)
	}
	bump(fmt.Sprintf("DELETE FROM goose_db_version WHERE version_id = %d", f.latest+1))
	return info.Path
}

// foreignSQLite is a sound SQLite database that is not myapi's.
func foreignSQLite(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "other.db")
	backuptest.Exec(t, "sqlite:///"+p, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
	return p
}

// otherEngineFile is a file that starts like the engine's backups.
func otherEngineFile(t *testing.T, engine string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "other")
	head := []byte("PGDMP\x01\x0e\x00")
	if engine == "sqlite" {
		head = []byte("SQLite format 3\x00")
	}
	if err := os.WriteFile(p, append(head, make([]byte, 4096)...), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRestoreRefusesWhileServed: a restore refuses while a server uses the
// database, and says how it knows.
func TestRestoreRefusesWhileServed(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engine)
			ctx := context.Background()
			f.write(t, "row", 3)
			info, err := f.backups.Create(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			// The fixture's store is open: on PostgreSQL its pool is the
			// server; on SQLite a server also holds the serving lock.
			release, err := f.backups.Engine().Serving(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = f.backups.Restore(ctx, info.Path)
			want := map[string]string{"sqlite": "holds a shared lock on", "postgres": "pg_stat_activity"}[engine.Name]
			if !errors.Is(err, backup.ErrInUse) || !strings.Contains(err.Error(), want) {
				t.Errorf("Restore while served = %v, want ErrInUse saying %q", err, want)
			}
			release()
			if engine.Name == "sqlite" {
				// And a server does not start while a restore runs.
				hold, err := backup.NewSQLite(strings.TrimPrefix(f.url, "sqlite:///")).Serving(ctx)
				if err != nil {
					t.Fatal(err)
				}
				hold()
			}
		})
	}
}

// TestPrune keeps the newest backups.
func TestPrune(t *testing.T) {
	t.Parallel()
	engine := testdb.Engines(t)[0]
	f := newFixture(t, engine)
	ctx := context.Background()
	f.write(t, "row", 1)
	var made []backup.Info
	for range 4 {
		info, err := f.backups.Create(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, info)
		time.Sleep(2 * time.Millisecond) // names carry milliseconds
	}
	deleted, err := f.backups.Prune(2)
	if err != nil || len(deleted) != 2 {
		t.Fatalf("Prune(2) = %+v, %v", deleted, err)
	}
	list, _ := f.backups.List()
	if len(list) != 2 || list[0].Path != made[3].Path || list[1].Path != made[2].Path {
		t.Errorf("after Prune(2): %+v, want the two newest", list)
	}
	for _, d := range deleted {
		if _, err := os.Stat(d.Path + ".sha256"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("checksum of pruned %s left: %v", d.Path, err)
		}
	}
}

// TestPostgresToolsMissing: without pg_dump on PATH, a PostgreSQL backup
// says what is missing and how to get it. (Not parallel: it empties PATH.)
func TestPostgresToolsMissing(t *testing.T) {
	url := testdb.PostgresURL(t)
	if url == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	eng, err := backup.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = backup.New(eng, t.TempDir()).Create(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "pg_dump is not on PATH: install the PostgreSQL client programs") {
		t.Errorf("Create without pg_dump = %v", err)
	}
}
