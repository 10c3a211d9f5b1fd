package postgres_test

import (
	"testing"

	"myapi/internal/storetest"
	"myapi/internal/testdb"
)

// TestStoreContract runs the storage contract suite against PostgreSQL, in
// a schema of its own per subtest. Without TEST_DATABASE_URL it skips on a
// developer's machine and fails under CI=true (see testdb.PostgresURL).
func TestStoreContract(t *testing.T) {
	t.Parallel()
	if testdb.PostgresURL(t) == "" {
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL store contract suite " +
			"(e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	for _, e := range testdb.Engines(t) {
		if e.Name == "postgres" {
			storetest.Run(t, e.Open)
			return
		}
	}
	t.Fatal("TEST_DATABASE_URL is set but testdb offers no postgres engine")
}
