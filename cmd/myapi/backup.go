package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"myapi/internal/backup"
	"myapi/internal/config"
	"myapi/internal/jobs"
	"myapi/internal/storage"
)

// backupCmd runs "myapi backup [--out FILE | --keep N]" and "myapi backup
// --list".
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("out", "", "write the backup to this file (default: a new file in BACKUP_DIR)")
	list := fs.Bool("list", false, "list the backups in BACKUP_DIR, newest first")
	keep := fs.Int("keep", 0, "then delete all but the newest N backups in BACKUP_DIR (0: delete none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *keep < 0 || (*keep > 0 && *out != "") {
		return errors.New("usage: myapi backup [--out FILE | --keep N] | myapi backup --list")
	}
	cfg, _, err := loadConfig(getenv, io.Discard)
	if err != nil {
		return err
	}
	b, err := openBackups(cfg)
	if err != nil {
		return err
	}
	if *list {
		infos, err := b.List()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%d backup(s) in %s\n", len(infos), b.Dir())
		for _, info := range infos {
			fmt.Fprintf(stdout, "%s  %12d bytes  %s\n", info.Time.Format(time.RFC3339), info.Size, info.Path)
		}
		return nil
	}
	start := time.Now()
	info, err := b.Create(ctx, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up the %s database to %s (%d bytes, %s; checksum in %s.sha256)\n",
		b.Engine().Name(), info.Path, info.Size, time.Since(start).Round(time.Millisecond), info.Path)
	if *keep > 0 {
		deleted, err := b.Prune(*keep)
		for _, d := range deleted {
			fmt.Fprintf(stdout, "deleted %s (keeping the newest %d)\n", d.Path, *keep)
		}
		return err
	}
	return nil
}

// restoreUsage is restore's command line.
const restoreUsage = "usage: myapi restore FILE | myapi restore --from-replica [URL] (stop every server and worker of this database first)"

// restoreCmd runs "myapi restore FILE" and "myapi restore --from-replica
// [URL]" (default REPLICA_URL).
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || len(args) > 2 || args[0] == "" {
		return errors.New(restoreUsage)
	}
	cfg, _, err := loadConfig(getenv, io.Discard)
	if err != nil {
		return err
	}
	b, err := openBackups(cfg)
	if err != nil {
		return err
	}
	if args[0] == "--from-replica" {
		replica := cfg.ReplicaURL
		if len(args) == 2 {
			replica = args[1]
		}
		if replica == "" {
			return errors.New("restore --from-replica: give the replica's URL or set REPLICA_URL")
		}
		keys, err := s3Keys(getenv)
		if err != nil {
			return err
		}
		aside, err := b.RestoreFromReplica(ctx, replica, keys)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored the sqlite database from its replica, migrated to this myapi's schema\n")
		if aside != "" {
			fmt.Fprintf(stdout, "the database it replaced is kept as %s: remove it once the restored one is right\n", aside)
		}
		return nil
	}
	if len(args) != 1 || args[0][0] == '-' {
		return errors.New(restoreUsage)
	}
	aside, warning, err := b.Restore(ctx, args[0])
	if warning != "" {
		fmt.Fprintln(stdout, "warning:", warning)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored the %s database from %s, migrated to this myapi's schema\n", b.Engine().Name(), args[0])
	if aside != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s: remove it once the restored one is right\n", aside)
	}
	return nil
}

// openBackups returns the backups of DATABASE_URL's database in BACKUP_DIR.
func openBackups(cfg *config.Config) (*backup.Backups, error) {
	engine, err := backup.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	return backup.New(engine, cfg.BackupDir), nil
}

// holdDatabase marks the database as served until the returned func is
// called: a restore refuses to run meanwhile.
func holdDatabase(ctx context.Context, cfg *config.Config) (func(), error) {
	engine, err := backup.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	return engine.Serving(ctx)
}

// startReplica starts streaming the SQLite file to REPLICA_URL, if set,
// and returns what stops it (after the database is closed).
func startReplica(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger) (func(), error) {
	if cfg.ReplicaURL == "" {
		return func() {}, nil
	}
	path, err := storage.SQLitePath(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	keys, err := s3Keys(getenv)
	if err != nil {
		return nil, err
	}
	r, err := backup.StartReplica(ctx, path, cfg.ReplicaURL, keys, cfg.ReplicaSyncInterval, log)
	if err != nil {
		return nil, err
	}
	log.Info("replicating the database", "replica", redacted(cfg.ReplicaURL), "sync_interval", cfg.ReplicaSyncInterval.String())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Close(sctx); err != nil {
			log.Warn("replica: last sync failed", "error", err)
		}
	}, nil
}

// s3Keys are an s3:// replica's credentials, from the environment or .env.
func s3Keys(getenv func(string) string) (backup.S3Keys, error) {
	lookup, err := config.Lookup(getenv, envFile(getenv))
	if err != nil {
		return backup.S3Keys{}, err
	}
	return backup.S3Keys{AccessKeyID: lookup("AWS_ACCESS_KEY_ID"), SecretAccessKey: lookup("AWS_SECRET_ACCESS_KEY")}, nil
}

// redacted is a URL without its password, for logs.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// backupJobs is the scheduled backup, if BACKUP_INTERVAL (or the engine's
// default) asks for one, as an extra job of the queue.
func backupJobs(cfg *config.Config, log *slog.Logger) ([]jobs.Extra, error) {
	every := cfg.BackupEvery()
	if every == 0 {
		log.Info("scheduled backups are off (BACKUP_INTERVAL)")
		return nil, nil
	}
	b, err := openBackups(cfg)
	if err != nil {
		return nil, err
	}
	log.Info("scheduled backups", "dir", b.Dir(), "interval", every.String(), "keep", cfg.BackupKeep)
	return []jobs.Extra{backup.NewSchedule(b, every, cfg.BackupKeep, log)}, nil
}
