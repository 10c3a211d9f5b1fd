package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultBackupInterval is how often the embedded default (SQLite) is
// backed up when BACKUP_INTERVAL is unset.
const DefaultBackupInterval = time.Hour

// onPostgres reports whether DATABASE_URL names PostgreSQL (validateURLs
// has checked the scheme).
func (c *Config) onPostgres() bool {
	scheme, _, _ := strings.Cut(c.DatabaseURL, "://")
	scheme, _, _ = strings.Cut(strings.ToLower(scheme), "+")
	return scheme == "postgres" || scheme == "postgresql"
}

// BackupEvery is the time between scheduled backups, 0 for none:
// BACKUP_INTERVAL, or when unset every DefaultBackupInterval on SQLite and
// none on PostgreSQL (opt-in: pg_dump must be on PATH, and a deployment
// usually backs up its database elsewhere).
func (c *Config) BackupEvery() time.Duration {
	switch {
	case c.BackupInterval != nil:
		return *c.BackupInterval
	case c.onPostgres():
		return 0
	}
	return DefaultBackupInterval
}

// validateBackup checks BACKUP_* and REPLICA_*.
func (c *Config) validateBackup() error {
	if c.BackupInterval != nil && *c.BackupInterval != 0 && *c.BackupInterval < time.Second {
		return fmt.Errorf("BACKUP_INTERVAL: must be 0 (off) or at least 1s, got %s", *c.BackupInterval)
	}
	if c.BackupKeep < 1 {
		return fmt.Errorf("BACKUP_KEEP: must be at least 1, got %d", c.BackupKeep)
	}
	if c.ReplicaURL == "" {
		return nil
	}
	if c.onPostgres() {
		return errors.New("REPLICA_URL: replication streams the SQLite file; with PostgreSQL use its own (streaming replication, WAL archiving) and unset REPLICA_URL")
	}
	u, err := url.Parse(c.ReplicaURL)
	if err != nil || (u.Scheme != "file" && u.Scheme != "s3") || (u.Scheme == "s3" && u.Host == "") || (u.Scheme == "file" && u.Path == "") {
		return fmt.Errorf("REPLICA_URL: want file:///path/to/dir or s3://bucket/path, got %q", c.ReplicaURL)
	}
	if c.ReplicaSyncInterval < 100*time.Millisecond {
		return fmt.Errorf("REPLICA_SYNC_INTERVAL: must be at least 100ms, got %s", c.ReplicaSyncInterval)
	}
	return nil
}
