package migrations

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Latest is the newest schema version of dialect this binary carries: the
// highest numbered migration file (goose's NNNNN_name.sql).
func Latest(dialect Dialect) (int64, error) {
	entries, err := fs.ReadDir(files, string(dialect))
	if err != nil {
		return 0, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	var latest int64
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			continue
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			continue
		}
		latest = max(latest, v)
	}
	if latest == 0 {
		return 0, fmt.Errorf("migrations for %s: none embedded", dialect)
	}
	return latest, nil
}
