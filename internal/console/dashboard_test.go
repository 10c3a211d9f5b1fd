package console

import (
	"testing"
	"time"
)

func TestBackupsPanelFormats(t *testing.T) {
	durations := []struct {
		in   time.Duration
		want string
	}{
		{time.Hour, "1h"},
		{30 * time.Minute, "30m"},
		{90 * time.Minute, "1h30m"},
		{24 * time.Hour, "24h"},
		{45 * time.Second, "45s"},
		{time.Hour + time.Second, "1h0m1s"},
	}
	for _, c := range durations {
		if got := shortDuration(c.in); got != c.want {
			t.Errorf("shortDuration(%s) = %q, want %q", c.in, got, c.want)
		}
	}
	sizes := []struct {
		in   int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{5 << 20, "5.0 MiB"},
		{3 << 30, "3.0 GiB"},
	}
	for _, c := range sizes {
		if got := humanSize(c.in); got != c.want {
			t.Errorf("humanSize(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}
