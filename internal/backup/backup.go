// Package backup makes, checks, lists and restores backups of myapi's
// database on either engine: an online snapshot of the SQLite file (SQLite's
// backup API) or a pg_dump custom-format archive of the PostgreSQL schema.
//
// A backup is written under a temporary name, verified, and only then given
// its final name, with a SHA-256 checksum file beside it (sha256sum's
// format), so a file with a final name is always whole. A restore checks the
// file first (checksum, integrity, schema version), refuses while a server
// uses the database, and never touches the current database until the new
// one is complete; the replaced one is kept aside.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"myapi/migrations"
)

// Engine is one database engine's side of backing up and restoring.
type Engine interface {
	// Name is "sqlite" or "postgres", as migrations.Dialect names them.
	Name() string
	// Ext is the extension of this engine's backup files (".db", ".dump").
	Ext() string
	// DefaultDir is where scheduled backups go when BACKUP_DIR is empty.
	DefaultDir() string
	// Snapshot writes a consistent copy of the live database to path.
	Snapshot(ctx context.Context, path string) error
	// Inspect checks that the file at path is a whole, sound myapi backup of
	// this engine and returns the schema version it holds.
	Inspect(ctx context.Context, path string) (int64, error)
	// Serving marks the database as used by a server until release is
	// called, so that a restore refuses to run meanwhile.
	Serving(ctx context.Context) (release func(), err error)
	// Restore replaces the database with the backup at path (already
	// checked by Inspect), migrated forward, and returns where the replaced
	// database was kept ("" if there was none).
	Restore(ctx context.Context, path string) (aside string, err error)
}

// ErrInUse is returned by Restore while a server or worker uses the
// database.
var ErrInUse = errors.New("the database is in use")

// ErrRefused wraps every reason a file is not restored: not a backup, of
// the other engine, truncated, corrupt, or from a newer myapi.
var ErrRefused = errors.New("refused")

// refuse returns an error wrapping ErrRefused with the reason.
func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// Info describes one backup file.
type Info struct {
	// Path is the file.
	Path string `json:"path"`
	// Time is when the backup was taken (from its name; the file's
	// modification time for a file named otherwise).
	Time time.Time `json:"time"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
}

// Backups makes and lists backups of one database into one directory.
type Backups struct {
	engine Engine
	dir    string
	now    func() time.Time
}

// New returns the backups of the database engine reaches, kept in dir
// (the engine's default if empty).
func New(engine Engine, dir string) *Backups {
	if dir == "" {
		dir = engine.DefaultDir()
	}
	return &Backups{engine: engine, dir: dir, now: func() time.Time { return time.Now().UTC() }}
}

// Engine is the engine the backups are of.
func (b *Backups) Engine() Engine { return b.engine }

// Dir is the directory scheduled and unnamed backups go to.
func (b *Backups) Dir() string { return b.dir }

// namePrefix and timeLayout name backups in Dir: myapi-<UTC time><ext>.
// The time has milliseconds so that two backups in one second do not
// collide, and sorts as text.
const (
	namePrefix = "myapi-"
	timeLayout = "20060102T150405.000Z"
	// partialSuffix marks a file being written; it never looks whole.
	partialSuffix = ".partial"
	// sumSuffix is the checksum file beside a backup.
	sumSuffix = ".sha256"
)

// Create makes a backup at out, or in Dir under a new name if out is empty,
// and returns it once it is complete and verified.
func (b *Backups) Create(ctx context.Context, out string) (Info, error) {
	start := b.now().Truncate(time.Millisecond) // as its name says
	if out == "" {
		if err := os.MkdirAll(b.dir, 0o750); err != nil {
			return Info{}, fmt.Errorf("backup: create BACKUP_DIR: %w", err)
		}
		out = filepath.Join(b.dir, namePrefix+start.Format(timeLayout)+b.engine.Ext())
	}
	if _, err := os.Stat(out); err == nil {
		return Info{}, fmt.Errorf("backup: %s exists already: not overwriting it", out)
	}
	tmp := out + partialSuffix
	_ = os.Remove(tmp) // a leftover of a killed run, never a whole backup
	defer func() { _ = os.Remove(tmp) }()
	var sum string
	var size int64
	// Below the requests of a server backing itself up, or sharing the
	// machine.
	err := atLowPriority(func() error {
		if err := b.engine.Snapshot(ctx, tmp); err != nil {
			return err
		}
		if _, err := b.engine.Inspect(ctx, tmp); err != nil {
			return fmt.Errorf("the new backup does not verify: %w", err)
		}
		var err error
		sum, size, err = fileSHA256(tmp)
		return err
	})
	if err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	// The checksum first: a file under its final name always has one.
	if err := writeFileAtomic(out+sumSuffix, []byte(sum+"  "+filepath.Base(out)+"\n")); err != nil {
		return Info{}, fmt.Errorf("backup: write checksum: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(filepath.Dir(out)); err != nil {
		return Info{}, fmt.Errorf("backup: %w", err)
	}
	return Info{Path: out, Time: start, Size: size}, nil
}

// List returns the complete backups in Dir, newest first: files named
// myapi-<time><ext> with their checksum file beside them.
func (b *Backups) List() ([]Info, error) {
	entries, err := os.ReadDir(b.dir)
	if errors.Is(err, os.ErrNotExist) {
		return []Info{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	list := []Info{}
	for _, e := range entries {
		name := e.Name()
		stamp, ok := strings.CutPrefix(name, namePrefix)
		if !ok || !strings.HasSuffix(name, b.engine.Ext()) || !names[name+sumSuffix] {
			continue
		}
		t, err := time.Parse(timeLayout, strings.TrimSuffix(stamp, b.engine.Ext()))
		if err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		list = append(list, Info{Path: filepath.Join(b.dir, name), Time: t, Size: fi.Size()})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Time.After(list[j].Time) })
	return list, nil
}

// Last returns the newest complete backup in Dir, if any.
func (b *Backups) Last() (Info, bool, error) {
	list, err := b.List()
	if err != nil || len(list) == 0 {
		return Info{}, false, err
	}
	return list[0], true, nil
}

// Prune deletes all but the newest keep backups in Dir (with their
// checksum files) and the partial files of runs killed more than a day ago,
// and returns the backups deleted.
func (b *Backups) Prune(keep int) ([]Info, error) {
	list, err := b.List()
	if err != nil {
		return nil, err
	}
	var deleted []Info
	var errs []error
	for i, info := range list {
		if i < keep {
			continue
		}
		// The backup first: a checksum without its file is ignored by List.
		if err := os.Remove(info.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		_ = os.Remove(info.Path + sumSuffix)
		deleted = append(deleted, info)
	}
	stale, _ := filepath.Glob(filepath.Join(b.dir, namePrefix+"*"+partialSuffix))
	for _, p := range stale {
		if fi, err := os.Stat(p); err == nil && b.now().Sub(fi.ModTime()) > 24*time.Hour {
			_ = os.Remove(p)
		}
	}
	if len(errs) > 0 {
		return deleted, fmt.Errorf("prune backups: %w", errors.Join(errs...))
	}
	return deleted, nil
}

// Check verifies the backup at path without restoring it: its checksum
// file if there is one (a missing one is reported in warning), then the
// engine's own checks. It returns the schema version the file holds.
func (b *Backups) Check(ctx context.Context, path string) (version int64, warning string, err error) {
	latest, err := migrations.Latest(migrations.Dialect(b.engine.Name()))
	if err != nil {
		return 0, "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("restore: %w", err)
	}
	kind := sniff(f)
	_ = f.Close()
	switch {
	case kind == "":
		return 0, "", refuse("%s is neither a SQLite database nor a pg_dump custom-format archive", path)
	case kind != b.engine.Name():
		return 0, "", refuse("%s is a %s backup, but DATABASE_URL names a %s database", path, kind, b.engine.Name())
	}
	warning, err = verifyChecksum(path)
	if err != nil {
		return 0, "", err
	}
	version, err = b.engine.Inspect(ctx, path)
	if err != nil {
		return 0, warning, err
	}
	if version > latest {
		return version, warning, refuse("%s holds schema version %d, newer than this myapi knows (%d): restore it with the myapi release that made it, or a newer one",
			path, version, latest)
	}
	return version, warning, nil
}

// Restore checks the backup at path (Check) and replaces the database with
// it, migrated to this binary's schema. It returns where the replaced
// database was kept and the checksum warning, if any.
func (b *Backups) Restore(ctx context.Context, path string) (aside, warning string, err error) {
	_, warning, err = b.Check(ctx, path)
	if err != nil {
		return "", warning, fmt.Errorf("restore: %w", err)
	}
	aside, err = b.engine.Restore(ctx, path)
	if err != nil {
		return "", warning, fmt.Errorf("restore: %w", err)
	}
	return aside, warning, nil
}

// sniff names the engine whose backup f starts like, or "".
func sniff(f io.Reader) string {
	var head [16]byte
	n, _ := io.ReadFull(f, head[:])
	switch {
	case n == 16 && string(head[:]) == "SQLite format 3\x00":
		return "sqlite"
	case n >= 5 && string(head[:5]) == "PGDMP":
		return "postgres"
	}
	return ""
}

// verifyChecksum compares path with the checksum file beside it. Without
// one it returns a warning: the engine's own checks still read the whole
// file.
func verifyChecksum(path string) (warning string, err error) {
	want, err := os.ReadFile(path + sumSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Sprintf("no checksum file %s: relying on the engine's own checks", filepath.Base(path)+sumSuffix), nil
	}
	if err != nil {
		return "", fmt.Errorf("read checksum: %w", err)
	}
	fields := strings.Fields(string(want))
	if len(fields) == 0 || len(fields[0]) != sha256.Size*2 {
		return "", refuse("%s is not a SHA-256 checksum file", path+sumSuffix)
	}
	got, _, err := fileSHA256(path)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(got, fields[0]) {
		return "", refuse("%s does not match its checksum (%s): the file is corrupt or truncated", path, filepath.Base(path)+sumSuffix)
	}
	return "", nil
}

// fileSHA256 returns the hex SHA-256 and the size of the file at path.
func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeFileAtomic writes data to path through a temporary file and a
// rename, synced, so path is either absent or whole.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + partialSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// syncFile flushes the file at path to disk.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// syncDir flushes a directory's entries (a rename in it) to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// asideStamp names what a restore sets aside, by the time it ran.
func asideStamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
