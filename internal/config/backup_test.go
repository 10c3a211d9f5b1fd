package config_test

import (
	"strings"
	"testing"
	"time"

	"myapi/internal/config"
)

func TestBackupSettings(t *testing.T) {
	t.Parallel()
	const pg = "postgres://u:p@db/app"
	for _, c := range []struct {
		name string
		env  map[string]string
		want time.Duration // BackupEvery
	}{
		{"SQLite: hourly by default", nil, time.Hour},
		{"SQLite: off", map[string]string{"BACKUP_INTERVAL": "0"}, 0},
		{"SQLite: every 10 minutes", map[string]string{"BACKUP_INTERVAL": "10m"}, 10 * time.Minute},
		{"PostgreSQL: off by default", map[string]string{"DATABASE_URL": pg}, 0},
		{"PostgreSQL: opted in", map[string]string{"DATABASE_URL": pg, "BACKUP_INTERVAL": "6h"}, 6 * time.Hour},
		{"seed's PostgreSQL scheme: off by default", map[string]string{"DATABASE_URL": "postgresql+asyncpg://u:p@db/app"}, 0},
		{"replica to a directory", map[string]string{"REPLICA_URL": "file:///var/lib/replica"}, time.Hour},
		{"replica to S3", map[string]string{"REPLICA_URL": "s3://bucket/myapi?endpoint=http://127.0.0.1:7070"}, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(vars(c.env), noFile(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.BackupEvery(); got != c.want {
				t.Errorf("BackupEvery() = %s, want %s", got, c.want)
			}
		})
	}
}

func TestBackupSettingsRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"BACKUP_INTERVAL": "hourly"}, "BACKUP_INTERVAL: \"hourly\" is not a duration"},
		{map[string]string{"BACKUP_INTERVAL": "10ms"}, "BACKUP_INTERVAL: must be 0 (off) or at least 1s"},
		{map[string]string{"BACKUP_INTERVAL": "-1h"}, "BACKUP_INTERVAL: must be 0 (off) or at least 1s"},
		{map[string]string{"BACKUP_KEEP": "0"}, "BACKUP_KEEP: must be at least 1"},
		{map[string]string{"REPLICA_URL": "ftp://host/x"}, "REPLICA_URL: want file:///path/to/dir or s3://bucket/path"},
		{map[string]string{"REPLICA_URL": "s3:///nobucket"}, "REPLICA_URL: want"},
		{map[string]string{"REPLICA_URL": "file:///r", "REPLICA_SYNC_INTERVAL": "1ms"}, "REPLICA_SYNC_INTERVAL: must be at least 100ms"},
		{map[string]string{"REPLICA_URL": "file:///r", "DATABASE_URL": "postgres://u@db/app"}, "REPLICA_URL: replication streams the SQLite file"},
	} {
		_, err := config.Load(vars(c.env), noFile(t))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%v) = %v, want an error containing %q", c.env, err, c.want)
		}
	}
}
