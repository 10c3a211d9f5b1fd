package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const sqlitePrefix = "sqlite:///"

// fillSQLite writes the same rows as fill does for PostgreSQL into the
// SQLite file the server has created and migrated, in one transaction so
// the server's readers never see half of it.
func fillSQLite(ctx context.Context, path, hash string, users, items int) (err error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	now := time.Now().UTC()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		  VALUES ('bench@example.com', 'bench@example.com', 'bench', 'bench', ?1, 1, 1, ?2, ?2)`, []any{hash, now}},
		{`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?3),
		       n(i, n) AS (SELECT i, json_extract('["alice","bob","carol","dave","erin","frank","grace","heidi","ivan","judy","user"]',
		                                          '$[' || (i % 11) || ']') || i FROM s)
		  INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		  SELECT n||'@example.com', n||'@example.com', n, n, ?1, i % 50 <> 0, i % 10000 = 0, ?2, ?2 FROM n`, []any{hash, now, users - 1}},
		{`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?3)
		  INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
		  SELECT json_extract('["Lamp","Oak table","Chair","Desk","Shelf","Rug","Mirror","Clock"]', '$[' || (i % 8) || ']')||' '||i,
		         'item '||i, 1 + i % 1000, 1 + i % ?1, ?2, ?2 FROM s`, []any{users, now, items}},
	}
	for _, s := range steps {
		if _, err = tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	if err = tx.Commit(); err != nil {
		return err
	}
	// ANALYZE stands for PostgreSQL's VACUUM ANALYZE: the planner statistics
	// a database of this size would have.
	for _, q := range []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err = db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sqlite %s: %w", q, err)
		}
	}
	return nil
}
