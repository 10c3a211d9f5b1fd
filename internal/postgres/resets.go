package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/auth"
)

// CreateResetToken implements auth.ResetStore.
func (db *DB) CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt, quietSince time.Time) (bool, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// The user's row lock makes the check and the insert of concurrent
	// recoveries of one account take turns; the check is a statement of
	// its own so that, under READ COMMITTED, it sees the token of a
	// recovery it waited for. (NO KEY: rows that merely reference the
	// user, such as new sessions, need not wait.)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID); err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	if !quietSince.IsZero() {
		var recent bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM password_reset_tokens WHERE user_id = $1 AND created_at > $2)`,
			userID, quietSince).Scan(&recent); err != nil {
			return false, fmt.Errorf("create reset token: %w", err)
		}
		if recent {
			return false, nil
		}
	}
	if _, err := tx.Exec(ctx,
		`INSERT INTO password_reset_tokens (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		tokenHash, userID, expiresAt); err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("create reset token: commit: %w", err)
	}
	return true, nil
}

// CheckResetToken implements auth.ResetStore.
func (db *DB) CheckResetToken(ctx context.Context, tokenHash string, now time.Time) error {
	var live bool
	if err := db.pool.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM password_reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)`,
		tokenHash, now).Scan(&live); err != nil {
		return fmt.Errorf("check reset token: %w", err)
	}
	if !live {
		return auth.ErrResetTokenInvalid
	}
	return nil
}

// ResetPassword implements auth.ResetStore.
func (db *DB) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error) {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var userID int64
	err = tx.QueryRow(ctx,
		`UPDATE password_reset_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id`,
		now, tokenHash).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, auth.ErrResetTokenInvalid
	}
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	batch := &pgx.Batch{}
	batch.Queue(`UPDATE password_reset_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, now, userID)
	batch.Queue(`UPDATE users SET hashed_password = $1, updated_at = $2 WHERE id = $3`, passwordHash, now, userID)
	batch.Queue(`UPDATE refresh_sessions SET revoked_at = $1, updated_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, userID)
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("reset password: commit: %w", err)
	}
	return userID, nil
}

// PurgeExpired implements auth.ResetStore.
func (db *DB) PurgeExpired(ctx context.Context, now time.Time) (sessions, tokens int64, err error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM refresh_sessions WHERE expires_at <= $1 OR revoked_at <= $1`, now)
	if err != nil {
		return 0, 0, fmt.Errorf("purge sessions: %w", err)
	}
	sessions = tag.RowsAffected()
	tag, err = db.pool.Exec(ctx, `DELETE FROM password_reset_tokens WHERE expires_at <= $1 OR used_at <= $1`, now)
	if err != nil {
		return sessions, 0, fmt.Errorf("purge reset tokens: %w", err)
	}
	return sessions, tag.RowsAffected(), nil
}
