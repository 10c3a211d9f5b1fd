package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/auth"
)

// CreateSession implements auth.SessionStore.
func (db *DB) CreateSession(ctx context.Context, s *auth.Session) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO refresh_sessions (id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		s.ID, s.UserID, s.TokenHash, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByID implements auth.SessionStore.
func (db *DB) SessionByID(ctx context.Context, id string) (*auth.Session, error) {
	var s auth.Session
	var prev *string
	err := db.pool.QueryRow(ctx,
		`SELECT id, user_id, token_hash, expires_at, revoked_at, prev_token_hash, rotated_at FROM refresh_sessions WHERE id = $1`, id,
	).Scan(&s.ID, &s.UserID, &s.TokenHash, &s.ExpiresAt, &s.RevokedAt, &prev, &s.RotatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, auth.ErrSessionNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", id, err)
	}
	if prev != nil {
		s.PrevTokenHash = *prev
	}
	// pgx returns timestamptz in time.Local; the contract is UTC.
	s.ExpiresAt = s.ExpiresAt.UTC()
	for _, t := range []**time.Time{&s.RevokedAt, &s.RotatedAt} {
		if *t != nil {
			utc := (*t).UTC()
			*t = &utc
		}
	}
	return &s, nil
}

// RotateSession implements auth.SessionStore.
func (db *DB) RotateSession(ctx context.Context, id, oldHash, newHash string, expiresAt, now time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx,
		`UPDATE refresh_sessions SET token_hash = $1, expires_at = $2, updated_at = $3,
		   prev_token_hash = token_hash, rotated_at = $3
		 WHERE id = $4 AND token_hash = $5 AND revoked_at IS NULL AND expires_at > $3`,
		newHash, expiresAt, now, id, oldHash)
	if err != nil {
		return false, fmt.Errorf("rotate session: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RevokeSession implements auth.SessionStore.
func (db *DB) RevokeSession(ctx context.Context, id string, now time.Time) error {
	_, err := db.pool.Exec(ctx,
		`UPDATE refresh_sessions SET revoked_at = $1, updated_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, id)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// RevokeUserSessions implements auth.SessionStore.
func (db *DB) RevokeUserSessions(ctx context.Context, userID int64, now time.Time) error {
	_, err := db.pool.Exec(ctx,
		`UPDATE refresh_sessions SET revoked_at = $1, updated_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, now, userID)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}
