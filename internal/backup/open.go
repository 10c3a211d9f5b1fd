package backup

import (
	"myapi/internal/postgres"
	"myapi/internal/storage"
)

// Open returns the engine of the database databaseURL names, chosen the
// way storage.Open chooses: PostgreSQL for a postgres URL, the SQLite file
// otherwise.
func Open(databaseURL string) (Engine, error) {
	if postgres.IsURL(databaseURL) {
		return NewPostgres(databaseURL)
	}
	path, err := storage.SQLitePath(databaseURL)
	if err != nil {
		return nil, err
	}
	return NewSQLite(path), nil
}
