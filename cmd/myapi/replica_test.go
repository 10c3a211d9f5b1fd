package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"myapi/internal/backup/s3test"
)

// ack is a write the server acknowledged, and when.
type ack struct {
	id   int64
	body string
	at   time.Time
}

// replicaDrill runs serve in a child process replicating to replicaURL,
// writes through the API for a while, kills the process with SIGKILL, and
// restores the database from the replica. It checks that every write
// acknowledged more than REPLICA_SYNC_INTERVAL before the kill is there,
// as the API answered it, and that the server serves the restored database.
func replicaDrill(t *testing.T, replicaURL string, extraEnv ...string) {
	t.Helper()
	const interval = time.Second
	dir := t.TempDir()
	env := drillSettings("sqlite:///"+filepath.Join(dir, "live.db"), filepath.Join(dir, "backups")).with(
		append([]string{"REPLICA_URL", replicaURL, "REPLICA_SYNC_INTERVAL", interval.String()}, extraEnv...)...)
	cmd := childProcess(t, env)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := "http://" + waitListening(t, stdout)

	var mu sync.Mutex
	var acks []ack
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for n := range 2 {
		w := newWriter(t, base, fmt.Sprintf("writer%d", n))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"title":"w%d-%d","price":1.5}`, n, i)
				req, _ := http.NewRequest(http.MethodPost, base+"/items", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+w.token)
				resp, err := client.Do(req)
				if err != nil {
					return // the server was killed
				}
				got := readAll(resp)
				at := time.Now()
				var created struct {
					ID int64 `json:"id"`
				}
				if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(got), &created) != nil {
					return
				}
				mu.Lock()
				acks = append(acks, ack{id: created.ID, body: got, at: at})
				mu.Unlock()
				// Pacing the client (a few hundred writes a second), not
				// synchronisation: the drill is about the replica's lag,
				// not about how much CPU writers can take from it.
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(4 * interval) // writing under replication
	killedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	close(stop)
	wg.Wait()

	// The disk is lost: only the replica is left.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(filepath.Join(dir, "live.db") + suffix)
	}
	_ = os.RemoveAll(filepath.Join(dir, ".live.db-litestream"))
	// As an operator runs it: a process of its own, with only env.
	restore := childProcess(t, env, "restore", "--from-replica")
	restore.Dir = dir
	out, err := restore.CombinedOutput()
	if err != nil {
		t.Fatalf("restore --from-replica: %v\n%s\nserver stderr:\n%s", err, out, stderr.String())
	}
	if !strings.Contains(string(out), "restored the sqlite database from its replica") {
		t.Errorf("restore said %q", out)
	}

	in := start(t, env.with("REPLICA_URL", ""))
	var due, lost, later int
	for _, a := range acks {
		status, got := getItem(t, in.URL, a.id)
		switch {
		case killedAt.Sub(a.at) > interval:
			due++
			if status != http.StatusOK || got != a.body {
				lost++
				t.Errorf("item %d, acknowledged %s before the kill: %d %s, want %s", a.id, killedAt.Sub(a.at).Round(time.Millisecond), status, got, a.body)
			}
		case status == http.StatusOK:
			later++
		}
	}
	if due < 100 {
		t.Fatalf("only %d writes were acknowledged more than %s before the kill: the drill proves little", due, interval)
	}
	t.Logf("%d acknowledged writes: %d due on the replica, %d lost; %d of the last %s's there too", len(acks), due, lost, later, interval)
	if err := in.stop(t); err != nil {
		t.Fatal(err)
	}

	// Replication goes on from the restored database, to the same replica.
	serve2 := childProcess(t, env)
	serve2.Dir = dir
	stdout2, err := serve2.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr2 syncBuffer
	serve2.Stderr = &stderr2
	if err := serve2.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = serve2.Process.Kill() })
	base2 := "http://" + waitListening(t, stdout2)
	after, body := newWriter(t, base2, "afterwards").item("written after the restore", 4)
	if err := serve2.Process.Signal(syscall.SIGTERM); err != nil { // a graceful stop ships everything
		t.Fatal(err)
	}
	if err := serve2.Wait(); err != nil {
		t.Fatalf("serve after the restore: %v\n%s", err, stderr2.String())
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(filepath.Join(dir, "live.db") + suffix)
	}
	restore = childProcess(t, env, "restore", "--from-replica")
	restore.Dir = dir
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("second restore --from-replica: %v\n%s", err, out)
	}
	in = start(t, env.with("REPLICA_URL", ""))
	if status, got := getItem(t, in.URL, after); status != http.StatusOK || got != string(body) {
		t.Errorf("item written after the first restore, from the replica: %d %s, want %s\nserver stderr:\n%s", status, got, body, stderr2.String())
	}
}

// readAll returns a response's body as a string and closes it.
func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// TestReplicaToDirectory: replication to a directory survives a SIGKILL of
// the server under writes.
func TestReplicaToDirectory(t *testing.T) {
	t.Parallel()
	replicaDrill(t, "file://"+t.TempDir())
}

// TestReplicaToS3: the same drill against a real S3-compatible server
// (versitygw) started by the test.
func TestReplicaToS3(t *testing.T) {
	t.Parallel()
	s3 := s3test.Start(t)
	replicaDrill(t, s3.URL("myapi"), "AWS_ACCESS_KEY_ID", s3.AccessKeyID, "AWS_SECRET_ACCESS_KEY", s3.SecretAccessKey)
}
