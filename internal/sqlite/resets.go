package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"myapi/internal/auth"
)

// CreateResetToken implements auth.ResetStore. The single writer runs the
// check and the insert of one call before any other's.
func (db *DB) CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt, quietSince time.Time) (bool, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if !quietSince.IsZero() {
		var recent bool
		if err := tx.QueryRowContext(ctx,
			`SELECT EXISTS (SELECT 1 FROM password_reset_tokens WHERE user_id = ? AND created_at > ?)`,
			userID, quietSince.UTC()).Scan(&recent); err != nil {
			return false, fmt.Errorf("create reset token: %w", err)
		}
		if recent {
			return false, nil
		}
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO password_reset_tokens (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
		tokenHash, userID, expiresAt.UTC(), db.now()); err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("create reset token: commit: %w", err)
	}
	return true, nil
}

// CheckResetToken implements auth.ResetStore.
func (db *DB) CheckResetToken(ctx context.Context, tokenHash string, now time.Time) error {
	var live bool
	if err := db.read.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM password_reset_tokens WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?)`,
		tokenHash, now.UTC()).Scan(&live); err != nil {
		return fmt.Errorf("check reset token: %w", err)
	}
	if !live {
		return auth.ErrResetTokenInvalid
	}
	return nil
}

// ResetPassword implements auth.ResetStore.
func (db *DB) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error) {
	now = now.UTC()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var userID int64
	err = tx.QueryRowContext(ctx,
		`UPDATE password_reset_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
		now, tokenHash, now).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, auth.ErrResetTokenInvalid
	}
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE password_reset_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, []any{now, userID}},
		{`UPDATE users SET hashed_password = ?, updated_at = ? WHERE id = ?`, []any{passwordHash, now, userID}},
		{`UPDATE refresh_sessions SET revoked_at = ?, updated_at = ? WHERE user_id = ? AND revoked_at IS NULL`, []any{now, now, userID}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return 0, fmt.Errorf("reset password: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("reset password: commit: %w", err)
	}
	return userID, nil
}

// PurgeExpired implements auth.ResetStore.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (sessions, tokens int64, err error) {
	now = now.UTC()
	res, err := db.write.ExecContext(ctx,
		`DELETE FROM refresh_sessions WHERE expires_at <= ? OR revoked_at <= ?`, now, now)
	if err != nil {
		return 0, 0, fmt.Errorf("purge sessions: %w", err)
	}
	sessions, _ = res.RowsAffected()
	res, err = db.write.ExecContext(ctx,
		`DELETE FROM password_reset_tokens WHERE expires_at <= ? OR used_at <= ?`, now, now)
	if err != nil {
		return sessions, 0, fmt.Errorf("purge reset tokens: %w", err)
	}
	tokens, _ = res.RowsAffected()
	return sessions, tokens, nil
}

// Writer is the single write connection, for the job queue (River), whose
// writes must go through it too so SQLite never reports "database is
// locked"; River's reads then share it as well.
func (db *DB) Writer() *sql.DB { return db.write }
