package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"myapi/internal/auth"
)

// CreateSession implements auth.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	now := db.now()
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO refresh_sessions (id, user_id, token_hash, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, s.TokenHash, s.ExpiresAt.UTC(), now, now)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByID implements auth.SessionStore.
func (db *DB) SessionByID(ctx context.Context, id string) (*auth.Session, error) {
	var s auth.Session
	var revoked, rotated sql.NullTime
	var prev sql.NullString
	err := db.read.QueryRowContext(ctx,
		`SELECT id, user_id, token_hash, expires_at, revoked_at, prev_token_hash, rotated_at FROM refresh_sessions WHERE id = ?`, id,
	).Scan(&s.ID, &s.UserID, &s.TokenHash, &s.ExpiresAt, &revoked, &prev, &rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	if revoked.Valid {
		s.RevokedAt = &revoked.Time
	}
	if rotated.Valid {
		s.RotatedAt = &rotated.Time
	}
	s.PrevTokenHash = prev.String
	return &s, nil
}

// RotateSession implements auth.SessionStore.
func (db *DB) RotateSession(ctx context.Context, id, oldHash, newHash string, expiresAt, now time.Time) (bool, error) {
	res, err := db.write.ExecContext(ctx,
		`UPDATE refresh_sessions SET token_hash = ?, expires_at = ?, updated_at = ?,
		   prev_token_hash = token_hash, rotated_at = ?
		 WHERE id = ? AND token_hash = ? AND revoked_at IS NULL AND expires_at > ?`,
		newHash, expiresAt.UTC(), now.UTC(), now.UTC(), id, oldHash, now.UTC())
	if err != nil {
		return false, fmt.Errorf("rotate session: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RevokeSession implements auth.SessionStore.
func (db *DB) RevokeSession(ctx context.Context, id string, now time.Time) error {
	_, err := db.write.ExecContext(ctx,
		`UPDATE refresh_sessions SET revoked_at = ?, updated_at = ? WHERE id = ? AND revoked_at IS NULL`,
		now.UTC(), now.UTC(), id)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements auth.SessionStore.
func (db *DB) RevokeUserSessions(ctx context.Context, userID int64, now time.Time) error {
	_, err := db.write.ExecContext(ctx,
		`UPDATE refresh_sessions SET revoked_at = ?, updated_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		now.UTC(), now.UTC(), userID)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}
