package sqlite_test

import (
	"testing"

	"myapi/internal/storetest"
	"myapi/internal/testdb"
)

// TestStoreContract runs the storage contract suite against SQLite, which
// needs nothing installed and so always runs.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		if e.Name == "sqlite" {
			storetest.Run(t, e.Open)
			return
		}
	}
	t.Fatal("testdb offers no sqlite engine")
}
