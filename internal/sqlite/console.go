package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"myapi/internal/admin"
	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/users"
)

// SearchUsers implements users.Searcher. The prefix is a range on the
// UNIQUE indexes of username_key and email_key.
func (db *DB) SearchUsers(ctx context.Context, q users.Query) ([]*users.User, error) {
	var where []string
	var args []any
	if q.Prefix != "" {
		lo, hi := users.PrefixBounds(users.Key(q.Prefix))
		where = append(where, `((username_key >= ? AND username_key < ?) OR (email_key >= ? AND email_key < ?))`)
		args = append(args, lo, hi, lo, hi)
	}
	if q.Active != nil {
		where = append(where, "is_active = ?")
		args = append(args, *q.Active)
	}
	if q.Superuser != nil {
		where = append(where, "is_superuser = ?")
		args = append(args, *q.Superuser)
	}
	query := `SELECT ` + userColumns + ` FROM users`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	switch q.Sort {
	case users.SortOldest:
		query += ` ORDER BY id`
	case users.SortUsername:
		query += ` ORDER BY username_key, id`
	default:
		query += ` ORDER BY id DESC`
	}
	query += ` LIMIT ? OFFSET ?`
	rows, err := db.read.QueryContext(ctx, query, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return collect(rows, "search users", func(r *sql.Rows) (*users.User, error) { return scanUser(r) })
}

// asciiLower lower-cases ASCII letters only, as SQLite's lower() does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// SearchItems implements items.Searcher. Titles compare case-insensitively
// for ASCII letters only: SQLite's lower() knows no others.
func (db *DB) SearchItems(ctx context.Context, q items.Query) ([]*items.Item, error) {
	var where []string
	var args []any
	if q.TitlePrefix != "" {
		lo, hi := users.PrefixBounds(asciiLower(q.TitlePrefix))
		where = append(where, `lower(title) >= ? AND lower(title) < ?`)
		args = append(args, lo, hi)
	}
	if q.OwnerID != 0 {
		where = append(where, "owner_id = ?")
		args = append(args, q.OwnerID)
	}
	query := `SELECT ` + itemColumns + ` FROM items`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY id DESC LIMIT ? OFFSET ?`
	rows, err := db.read.QueryContext(ctx, query, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	return collect(rows, "search items", func(r *sql.Rows) (*items.Item, error) { return scanItem(r) })
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, what string, scan func(*sql.Rows) (T, error)) ([]T, error) {
	defer func() { _ = rows.Close() }()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return list, nil
}

// UserSessions implements auth.SessionLister.
func (db *DB) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, user_id, expires_at, rotated_at FROM refresh_sessions
		 WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY expires_at DESC, id`, userID, now.UTC())
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	return collect(rows, fmt.Sprintf("sessions of user %d", userID), func(r *sql.Rows) (*auth.Session, error) {
		var s auth.Session
		var rotated sql.NullTime
		if err := r.Scan(&s.ID, &s.UserID, &s.ExpiresAt, &rotated); err != nil {
			return nil, err
		}
		if rotated.Valid {
			s.RotatedAt = &rotated.Time
		}
		return &s, nil
	})
}

// CreateConsoleSession implements admin.Store.
func (db *DB) CreateConsoleSession(ctx context.Context, s *admin.Session) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO console_sessions (secret_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		s.SecretHash, s.UserID, s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC())
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSession implements admin.Store.
func (db *DB) ConsoleSession(ctx context.Context, secretHash string) (*admin.Session, error) {
	var s admin.Session
	err := db.read.QueryRowContext(ctx,
		`SELECT secret_hash, user_id, created_at, last_seen_at, expires_at FROM console_sessions WHERE secret_hash = ?`, secretHash,
	).Scan(&s.SecretHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, admin.ErrSessionNotFound
	} else if err != nil {
		return nil, fmt.Errorf("console session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// TouchConsoleSession implements admin.Store.
func (db *DB) TouchConsoleSession(ctx context.Context, secretHash string, now time.Time) error {
	if _, err := db.write.ExecContext(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE secret_hash = ?`, now.UTC(), secretHash); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession implements admin.Store.
func (db *DB) DeleteConsoleSession(ctx context.Context, secretHash string) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM console_sessions WHERE secret_hash = ?`, secretHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteUserConsoleSessions implements admin.Store.
func (db *DB) DeleteUserConsoleSessions(ctx context.Context, userID int64) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM console_sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete console sessions of user %d: %w", userID, err)
	}
	return nil
}

// AppendAudit implements admin.Store.
func (db *DB) AppendAudit(ctx context.Context, e *admin.Entry) error {
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO audit_log (at, actor_id, actor_username, action, target_type, target_id, detail, request_id)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.At.UTC(), e.ActorID, e.ActorUsername, e.Action, e.TargetType, e.TargetID, e.Detail, e.RequestID).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// ListAudit implements admin.Store.
func (db *DB) ListAudit(ctx context.Context, beforeID int64, limit int) ([]*admin.Entry, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := db.read.QueryContext(ctx,
		`SELECT id, at, actor_id, actor_username, action, target_type, target_id, detail, request_id
		 FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return collect(rows, "list audit log", func(r *sql.Rows) (*admin.Entry, error) {
		var e admin.Entry
		err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorUsername, &e.Action, &e.TargetType, &e.TargetID, &e.Detail, &e.RequestID)
		e.At = e.At.UTC()
		return &e, err
	})
}

// CountRows implements admin.Store.
func (db *DB) CountRows(ctx context.Context) (admin.Counts, error) {
	var c admin.Counts
	if err := db.read.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM items)`).Scan(&c.Users, &c.Items); err != nil {
		return c, fmt.Errorf("count rows: %w", err)
	}
	return c, nil
}
