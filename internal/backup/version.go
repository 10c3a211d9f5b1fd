package backup

// gooseRow is one row of goose's version table (goose_db_version).
type gooseRow struct {
	id        int64
	version   int64
	isApplied bool
}

// schemaVersion is the version goose would report for rows: the highest
// version whose latest row (by id) says it is applied. Older goose releases
// recorded a roll-back as a row with is_applied false; newer ones delete
// the row.
func schemaVersion(rows []gooseRow) int64 {
	latest := map[int64]gooseRow{}
	for _, r := range rows {
		if prev, ok := latest[r.version]; !ok || r.id > prev.id {
			latest[r.version] = r
		}
	}
	var v int64
	for _, r := range latest {
		if r.isApplied && r.version > v {
			v = r.version
		}
	}
	return v
}
