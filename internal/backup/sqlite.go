package backup

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/litestream"
	sqlite3 "modernc.org/sqlite"

	"myapi/internal/storage"
)

// sqliteEngine backs up the SQLite file at path with SQLite's online backup
// API: a page-by-page copy made inside one read transaction, so it is a
// consistent snapshot while the server keeps writing (WAL mode lets writers
// go on meanwhile).
type sqliteEngine struct {
	path string
	now  func() time.Time
}

// NewSQLite returns the engine of the SQLite database file at path.
func NewSQLite(path string) Engine {
	return &sqliteEngine{path: path, now: time.Now}
}

func (e *sqliteEngine) Name() string { return "sqlite" }

func (e *sqliteEngine) Ext() string { return ".db" }

// DefaultDir is backups/ beside the database file.
func (e *sqliteEngine) DefaultDir() string { return filepath.Join(filepath.Dir(e.path), "backups") }

// lockPath is the file servers hold a shared lock on and a restore an
// exclusive one (SQLite's own locks live on the database file and say
// nothing about a server that is merely open).
func (e *sqliteEngine) lockPath() string { return e.path + ".lock" }

// Serving takes a shared lock on the database's lock file for as long as
// the server runs; a restore's exclusive lock then fails.
func (e *sqliteEngine) Serving(context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(e.path), 0o750); err != nil {
		return nil, fmt.Errorf("create database directory: %w", err)
	}
	release, held, err := fileLock(e.lockPath(), false)
	if err != nil {
		return nil, err
	}
	if held {
		return nil, fmt.Errorf("a restore of %s is running (it holds %s): start again once it has finished", e.path, e.lockPath())
	}
	return release, nil
}

// backuper is the modernc driver connection's backup API.
type backuper interface {
	NewBackup(dstURI string) (*sqlite3.Backup, error)
}

func (e *sqliteEngine) Snapshot(ctx context.Context, path string) error {
	if _, err := os.Stat(e.path); err != nil {
		return fmt.Errorf("no database to back up at %s: %w", e.path, err)
	}
	src, err := sql.Open("sqlite", "file:"+e.path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", e.path, err)
	}
	defer src.Close()
	conn, err := src.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", e.path, err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return fmt.Errorf("the SQLite driver's connection (%T) has no backup API", dc)
		}
		bk, err := b.NewBackup(path)
		if err != nil {
			return err
		}
		// All pages in one step: one read transaction, so the copy is the
		// database as of its start. Copying in several steps would restart
		// whenever another connection writes, which under load is always.
		_, stepErr := bk.Step(-1)
		return errors.Join(stepErr, bk.Finish())
	})
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", e.path, err)
	}
	// The copy keeps the live database's WAL mode; a backup is one
	// self-contained file instead.
	dst, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("open snapshot: %w", err)
	}
	defer dst.Close()
	if _, err := dst.ExecContext(ctx, "PRAGMA journal_mode=DELETE"); err != nil {
		return fmt.Errorf("snapshot journal mode: %w", err)
	}
	return dst.Close()
}

// Inspect checks, without writing to it, that path is whole (its size is
// what its header says), passes PRAGMA integrity_check and holds myapi's
// tables, and returns its goose schema version.
func (e *sqliteEngine) Inspect(ctx context.Context, path string) (int64, error) {
	if err := checkSQLiteSize(path); err != nil {
		return 0, err
	}
	// immutable: no locks and no journal files next to someone's backup.
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return 0, refuse("%s is corrupt: %v", path, err)
	}
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			_ = rows.Close()
			return 0, refuse("%s is corrupt: %v", path, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, refuse("%s is corrupt: %v", path, err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], "…")
		}
		return 0, refuse("%s is corrupt (integrity_check: %s)", path, strings.Join(problems, "; "))
	}
	for _, table := range []string{"goose_db_version", "users", "items"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table).Scan(&n); err != nil {
			return 0, refuse("%s is unreadable: %v", path, err)
		}
		if n == 0 {
			return 0, refuse("%s is not a myapi database: it has no %s table", path, table)
		}
	}
	vrows, err := db.QueryContext(ctx, "SELECT id, version_id, is_applied FROM goose_db_version")
	if err != nil {
		return 0, refuse("%s: read schema version: %v", path, err)
	}
	defer vrows.Close()
	var list []gooseRow
	for vrows.Next() {
		var r gooseRow
		if err := vrows.Scan(&r.id, &r.version, &r.isApplied); err != nil {
			return 0, refuse("%s: read schema version: %v", path, err)
		}
		list = append(list, r)
	}
	if err := vrows.Err(); err != nil {
		return 0, refuse("%s: read schema version: %v", path, err)
	}
	return schemaVersion(list), nil
}

// checkSQLiteSize refuses a file shorter than its header says, or cut in
// the middle of a page: a truncated copy.
func checkSQLiteSize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [100]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return refuse("%s is truncated: shorter than a SQLite header", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count in the header is valid when the "version valid for"
	// number matches the change counter (SQLite's file format, 1.3.7).
	valid := binary.BigEndian.Uint32(h[92:96]) == binary.BigEndian.Uint32(h[24:28])
	switch {
	case pageSize < 512 || fi.Size()%pageSize != 0:
		return refuse("%s is truncated: %d bytes is not a whole number of %d-byte pages", path, fi.Size(), pageSize)
	case valid && pages > 0 && fi.Size() < pages*pageSize:
		return refuse("%s is truncated: %d bytes, its header says %d", path, fi.Size(), pages*pageSize)
	}
	return nil
}

// Restore copies the backup next to the database, migrates the copy
// forward, sets the current database aside (a hard link: the file is not
// copied) and renames the copy into place, holding the exclusive lock
// throughout so that no server starts meanwhile.
func (e *sqliteEngine) Restore(ctx context.Context, path string) (string, error) {
	release, held, err := fileLock(e.lockPath(), true)
	if err != nil {
		return "", err
	}
	if held {
		return "", fmt.Errorf("%w: a myapi server or worker has %s open (it holds a shared lock on %s): stop it first",
			ErrInUse, e.path, e.lockPath())
	}
	defer release()

	if err := os.MkdirAll(filepath.Dir(e.path), 0o750); err != nil {
		return "", fmt.Errorf("create database directory: %w", err)
	}
	stamp := asideStamp(e.now())
	staged := e.path + ".restoring-" + stamp
	defer removeSQLiteFiles(staged)
	if err := copyFile(path, staged); err != nil {
		return "", fmt.Errorf("copy %s: %w", path, err)
	}
	if err := migrateFile(ctx, staged); err != nil {
		return "", err
	}
	if _, err := e.Inspect(ctx, staged); err != nil {
		return "", fmt.Errorf("the migrated copy does not verify: %w", err)
	}
	if err := syncFile(staged); err != nil {
		return "", err
	}

	aside := ""
	if _, err := os.Stat(e.path); err == nil {
		if err := checkpoint(ctx, e.path); err != nil {
			return "", err
		}
		if err := keepSequences(ctx, e.path, staged); err != nil {
			return "", err
		}
		aside = e.path + ".before-restore-" + stamp
		if err := os.Link(e.path, aside); err != nil {
			if err := copyFile(e.path, aside); err != nil {
				return "", fmt.Errorf("set the current database aside: %w", err)
			}
		}
	}
	// The one step that changes the database: a rename, atomic.
	if err := os.Rename(staged, e.path); err != nil {
		return "", fmt.Errorf("put the restored database in place: %w", err)
	}
	_ = os.Remove(e.path + "-shm") // the old file's index of an empty WAL
	// Litestream's local state follows the replaced file's WAL: without
	// it, replication starts over from a snapshot of the restored one.
	dir, file := filepath.Split(e.path)
	_ = os.RemoveAll(filepath.Join(dir, "."+file+litestream.MetaDirSuffix))
	if err := syncDir(filepath.Dir(e.path)); err != nil {
		return aside, err
	}
	return aside, nil
}

// migrateFile applies this binary's migrations (the application's and the
// job queue's) to the SQLite file at path, closing it checkpointed.
func migrateFile(ctx context.Context, path string) error {
	db, err := storage.Open(ctx, "file:"+path, storage.Options{})
	if err != nil {
		return fmt.Errorf("open the restored copy: %w", err)
	}
	if _, err := storage.MigrateUp(ctx, db); err != nil {
		_ = db.Close()
		return fmt.Errorf("migrate the restored copy: %w", err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("close the restored copy: %w", err)
	}
	return nil
}

// keepSequences raises the AUTOINCREMENT counters of the restored copy to
// those of the current database, so that ids handed out after the backup
// (to rows the restore removes) are not handed out again: a token names its
// user by id.
func keepSequences(ctx context.Context, current, restored string) error {
	db, err := sql.Open("sqlite", "file:"+restored+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("carry id counters over: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ATTACH DATABASE ? AS cur", "file:"+current+"?mode=ro"); err != nil {
		return fmt.Errorf("carry id counters over: %w", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE main.sqlite_sequence SET seq = max(seq,
		coalesce((SELECT c.seq FROM cur.sqlite_sequence c WHERE c.name = main.sqlite_sequence.name), 0))`); err != nil {
		return fmt.Errorf("carry id counters over: %w", err)
	}
	if _, err := db.ExecContext(ctx, "DETACH DATABASE cur"); err != nil {
		return fmt.Errorf("carry id counters over: %w", err)
	}
	return db.Close()
}

// checkpoint moves everything in the database's WAL into the file and
// empties the WAL, so that the file alone is the whole database: set aside
// without its WAL, and replaced without an old WAL applying to the new file.
func checkpoint(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		_ = db.Close()
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	// The last connection to close deletes the WAL.
	if err := db.Close(); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("checkpoint %s: its WAL still holds %d bytes: is another program using it?", path, fi.Size())
	}
	_ = os.Remove(path + "-wal")
	return nil
}

// removeSQLiteFiles removes a database file and its journals.
func removeSQLiteFiles(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal", ".lock"} {
		_ = os.Remove(path + suffix)
	}
}

// copyFile copies src to a new file dst, synced.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
	}
	return err
}
