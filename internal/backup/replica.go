package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/benbjohnson/litestream"
	_ "github.com/benbjohnson/litestream/file" // file:// replicas
	"github.com/benbjohnson/litestream/s3"
)

// Replica streams every change of the SQLite file to a Litestream replica
// (a directory or an S3-compatible bucket), in the server's own process:
// Litestream follows the WAL with the same SQLite driver myapi writes with,
// holding a read transaction so that no checkpoint passes what it has not
// copied yet.
type Replica struct {
	store *litestream.Store
	db    *litestream.DB
}

// S3Keys are the credentials of an s3:// replica: AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, read like every other setting (environment, then
// .env). Empty: Litestream's own lookup (the process environment, then the
// AWS SDK's: shared files, instance roles).
type S3Keys struct {
	AccessKeyID     string
	SecretAccessKey string
}

// replicaClient is the Litestream client of the replica at rawURL.
func replicaClient(ctx context.Context, rawURL string, keys S3Keys) (litestream.ReplicaClient, error) {
	client, err := litestream.NewReplicaClientFromURL(rawURL)
	if err != nil {
		return nil, err
	}
	if c, ok := client.(*s3.ReplicaClient); ok && keys.AccessKeyID != "" {
		c.AccessKeyID, c.SecretAccessKey = keys.AccessKeyID, keys.SecretAccessKey
	}
	if err := client.Init(ctx); err != nil {
		return nil, err
	}
	return client, nil
}

// StartReplica starts replicating the SQLite database at dbPath to
// replicaURL: a committed change is on the replica about syncInterval
// later at most (plus the time to copy it). Close stops it.
func StartReplica(ctx context.Context, dbPath, replicaURL string, keys S3Keys, syncInterval time.Duration, log *slog.Logger) (*Replica, error) {
	client, err := replicaClient(ctx, replicaURL, keys)
	if err != nil {
		return nil, fmt.Errorf("REPLICA_URL: %w", err)
	}
	db := litestream.NewDB(dbPath)
	db.SetLogger(log.With("component", "replica"))
	// A change reaches the replica after two waits (the WAL is polled,
	// then shipped) and the work of copying it: a quarter of the interval
	// for each wait leaves half of it for the work.
	db.MonitorInterval = syncInterval / 4
	r := litestream.NewReplicaWithClient(db, client)
	r.SyncInterval = syncInterval / 4
	db.Replica = r
	store := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	if err := store.Open(ctx); err != nil {
		return nil, fmt.Errorf("start replication to %s: %w", redactURL(replicaURL), err)
	}
	return &Replica{store: store, db: db}, nil
}

// Close ships what is left and stops replicating. Call it after the
// application's own connections to the database are closed.
func (r *Replica) Close(ctx context.Context) error {
	// Ship the last writes first: Litestream takes up a database lazily,
	// on its first poll, and its own close syncs only one taken up.
	err := r.db.SyncAndWait(ctx)
	if cerr := r.store.Close(ctx); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("stop replication: %w", err)
	}
	return nil
}

// RestoreReplica rebuilds the database from the replica at replicaURL into
// a new file at out (its latest state), checked with PRAGMA integrity_check.
func RestoreReplica(ctx context.Context, replicaURL string, keys S3Keys, out string) error {
	client, err := replicaClient(ctx, replicaURL, keys)
	if err != nil {
		return fmt.Errorf("replica: %w", err)
	}
	opt := litestream.NewRestoreOptions()
	opt.OutputPath = out
	opt.IntegrityCheck = litestream.IntegrityCheckFull
	if err := litestream.NewReplicaWithClient(nil, client).Restore(ctx, opt); err != nil {
		if errors.Is(err, litestream.ErrTxNotAvailable) || errors.Is(err, litestream.ErrNoSnapshots) {
			return fmt.Errorf("%w: the replica at %s holds nothing to restore", ErrRefused, redactURL(replicaURL))
		}
		return fmt.Errorf("restore from the replica at %s: %w", redactURL(replicaURL), err)
	}
	return nil
}

// RestoreFromReplica rebuilds the database from the replica at replicaURL
// and puts it in place like Restore does with a backup file: checked,
// migrated forward, the replaced database set aside.
func (b *Backups) RestoreFromReplica(ctx context.Context, replicaURL string, keys S3Keys) (aside string, err error) {
	if b.engine.Name() != "sqlite" {
		return "", fmt.Errorf("%w: replicas are of the SQLite file, and DATABASE_URL names %s", ErrRefused, b.engine.Name())
	}
	dir := b.dir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	out := filepath.Join(dir, namePrefix+"replica-"+b.now().Format(timeLayout)+b.engine.Ext())
	defer removeSQLiteFiles(out)
	if err := RestoreReplica(ctx, replicaURL, keys, out); err != nil {
		return "", fmt.Errorf("restore: %w", err)
	}
	aside, _, err = b.Restore(ctx, out)
	return aside, err
}

// redactURL hides a password in a URL for messages.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "REPLICA_URL"
}
