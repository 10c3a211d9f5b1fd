package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"myapi/internal/auth"
)

// CreateSession implements auth.SessionStore.
func (s *Store) CreateSession(ctx context.Context, ses *auth.Session) error {
	now := s.e.Now()
	_, err := s.e.Writer().Exec(ctx,
		`INSERT INTO refresh_sessions (id, user_id, token_hash, expires_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		ses.ID, ses.UserID, ses.TokenHash, ses.ExpiresAt.UTC(), now, now)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByID implements auth.SessionStore.
func (s *Store) SessionByID(ctx context.Context, id string) (*auth.Session, error) {
	var ses auth.Session
	var prev *string
	err := s.e.Reader().QueryRow(ctx,
		`SELECT id, user_id, token_hash, expires_at, revoked_at, prev_token_hash, rotated_at FROM refresh_sessions WHERE id = ?`, id,
	).Scan(&ses.ID, &ses.UserID, &ses.TokenHash, &ses.ExpiresAt, &ses.RevokedAt, &prev, &ses.RotatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, auth.ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	if prev != nil {
		ses.PrevTokenHash = *prev
	}
	ses.ExpiresAt, ses.RevokedAt, ses.RotatedAt = ses.ExpiresAt.UTC(), utc(ses.RevokedAt), utc(ses.RotatedAt)
	return &ses, nil
}

// RotateSession implements auth.SessionStore.
func (s *Store) RotateSession(ctx context.Context, id, oldHash, newHash string, expiresAt, now time.Time) (bool, error) {
	now = now.UTC()
	n, err := s.e.Writer().Exec(ctx,
		`UPDATE refresh_sessions SET token_hash = ?, expires_at = ?, updated_at = ?,
		   prev_token_hash = token_hash, rotated_at = ?
		 WHERE id = ? AND token_hash = ? AND revoked_at IS NULL AND expires_at > ?`,
		newHash, expiresAt.UTC(), now, now, id, oldHash, now)
	if err != nil {
		return false, fmt.Errorf("rotate session: %w", err)
	}
	return n == 1, nil
}

// RevokeSession implements auth.SessionStore.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	return s.revoke(ctx, "revoke session", `id = ?`, id, now)
}

// RevokeUserSessions implements auth.SessionStore.
func (s *Store) RevokeUserSessions(ctx context.Context, userID int64, now time.Time) error {
	return s.revoke(ctx, "revoke sessions", `user_id = ?`, userID, now)
}

// revoke revokes the live sessions where the condition holds for arg.
func (s *Store) revoke(ctx context.Context, what, where string, arg any, now time.Time) error {
	now = now.UTC()
	_, err := s.e.Writer().Exec(ctx,
		`UPDATE refresh_sessions SET revoked_at = ?, updated_at = ? WHERE `+where+` AND revoked_at IS NULL`, now, now, arg)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
