package backup_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"myapi/internal/backup"
	"myapi/internal/testdb"
)

// TestScheduleNext: the next backup is due an interval after the newest
// one in the directory, so a restart neither skips one nor adds one; with
// none (or none that recent) it is due an interval after now.
func TestScheduleNext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testdb.Engines(t)[0])
	s := backup.NewSchedule(f.backups, time.Hour, 3, slog.New(slog.DiscardHandler))
	now := time.Now()
	if got := s.Next(now); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("Next with no backup = %s, want now + 1h", got)
	}
	f.write(t, "row", 1)
	info, err := f.backups.Create(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Next(now), info.Time.Add(time.Hour); !got.Equal(want) {
		t.Errorf("Next after a backup = %s, want its time + 1h (%s)", got, want)
	}
	later := info.Time.Add(3 * time.Hour) // the server was down meanwhile
	if got := s.Next(later); !got.Equal(later.Add(time.Hour)) {
		t.Errorf("Next long after the last backup = %s, want then + 1h", got)
	}
}
