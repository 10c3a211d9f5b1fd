package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"myapi/internal/auth"
	"myapi/internal/sqldb"
)

// CreateResetToken implements auth.ResetStore. The user's row lock makes
// the check and the insert of concurrent recoveries of one account take
// turns; the check is a statement of its own so that, under READ
// COMMITTED, it sees the token of a recovery it waited for.
func (s *Store) CreateResetToken(ctx context.Context, userID int64, tokenHash string, expiresAt, quietSince time.Time) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx sqldb.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM users WHERE id = ?`+s.e.Lock(LockNoKeyUpdate), userID); err != nil {
			return err
		}
		if !quietSince.IsZero() {
			var recent bool
			if err := tx.QueryRow(ctx,
				`SELECT EXISTS (SELECT 1 FROM password_reset_tokens WHERE user_id = ? AND created_at > ?)`,
				userID, quietSince.UTC()).Scan(&recent); err != nil {
				return err
			}
			if recent {
				return nil
			}
		}
		if _, err := tx.Exec(ctx,
			`INSERT INTO password_reset_tokens (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`,
			tokenHash, userID, expiresAt.UTC(), s.e.Now()); err != nil {
			return err
		}
		created = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("create reset token: %w", err)
	}
	return created, nil
}

// CheckResetToken implements auth.ResetStore.
func (s *Store) CheckResetToken(ctx context.Context, tokenHash string, now time.Time) error {
	var live bool
	if err := s.e.Reader().QueryRow(ctx,
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
func (s *Store) ResetPassword(ctx context.Context, tokenHash, passwordHash string, now time.Time) (int64, error) {
	now = now.UTC()
	var userID int64
	err := s.inTx(ctx, func(tx sqldb.Tx) error {
		err := tx.QueryRow(ctx,
			`UPDATE password_reset_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id`,
			now, tokenHash, now).Scan(&userID)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrResetTokenInvalid
		}
		if err != nil {
			return err
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE password_reset_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, []any{now, userID}},
			{`UPDATE users SET hashed_password = ?, updated_at = ? WHERE id = ?`, []any{passwordHash, now, userID}},
			{`UPDATE refresh_sessions SET revoked_at = ?, updated_at = ? WHERE user_id = ? AND revoked_at IS NULL`, []any{now, now, userID}},
		} {
			if _, err := tx.Exec(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, auth.ErrResetTokenInvalid) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("reset password: %w", err)
	}
	return userID, nil
}

// PurgeExpired implements auth.ResetStore.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) (sessions, tokens int64, err error) {
	now = now.UTC()
	sessions, err = s.e.Writer().Exec(ctx, `DELETE FROM refresh_sessions WHERE expires_at <= ? OR revoked_at <= ?`, now, now)
	if err != nil {
		return 0, 0, fmt.Errorf("purge sessions: %w", err)
	}
	tokens, err = s.e.Writer().Exec(ctx, `DELETE FROM password_reset_tokens WHERE expires_at <= ? OR used_at <= ?`, now, now)
	if err != nil {
		return sessions, 0, fmt.Errorf("purge reset tokens: %w", err)
	}
	return sessions, tokens, nil
}
