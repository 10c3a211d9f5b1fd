package sqlstore

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
	"myapi/internal/sqldb"
	"myapi/internal/users"
)

// SearchUsers implements users.Searcher. Each condition is added only when
// set, so that the planner sees plain ranges on the prefix indexes of
// migration 00004. A prefix search is the union of two ranges, each read
// in the list's order from its own index and cut at the page's end: one
// condition with OR would walk the sort order's index filtering every row.
func (s *Store) SearchUsers(ctx context.Context, q users.Query) ([]*users.User, error) {
	c := s.e.Collate()
	var filters []string
	var filterArgs []any
	if q.Active != nil {
		filters = append(filters, "is_active = ?")
		filterArgs = append(filterArgs, *q.Active)
	}
	switch {
	case q.Superuser == nil:
	case *q.Superuser:
		// Bare, as the partial index's own predicate: SQLite uses a partial
		// index only for a term that matches it literally, and
		// "is_superuser = ?" scanned the whole table.
		filters = append(filters, "is_superuser")
	default:
		filters = append(filters, "NOT is_superuser")
	}
	order := ` ORDER BY id DESC`
	switch q.Sort {
	case users.SortOldest:
		order = ` ORDER BY id`
	case users.SortUsername:
		order = ` ORDER BY username_key` + c + `, id`
	}
	where := func(conds ...string) string {
		all := append(conds, filters...)
		if len(all) == 0 {
			return ""
		}
		return ` WHERE ` + strings.Join(all, " AND ")
	}
	var query string
	var args []any
	if q.Prefix != "" {
		lo, hi := users.PrefixBounds(users.Key(q.Prefix))
		branch := func(col, alias string) string {
			args = append(args, lo, hi)
			args = append(args, filterArgs...)
			args = append(args, q.Offset+q.Limit)
			return `SELECT * FROM (SELECT ` + userColumns + `, username_key FROM users` +
				where(col+c+` >= ?`, col+c+` < ?`) + order + ` LIMIT ?) ` + alias
		}
		query = `SELECT ` + userColumns + ` FROM (` + branch("username_key", "by_username") + ` UNION ` + branch("email_key", "by_email") + `) u` + order
	} else {
		query = `SELECT ` + userColumns + ` FROM users` + where() + order
		args = filterArgs
	}
	query += ` LIMIT ? OFFSET ?`
	rows, err := s.e.Reader().Query(ctx, query, append(args, q.Limit, q.Offset)...)
	list, err := collect(rows, err, scanUser)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return list, nil
}

// SearchItems implements items.Searcher. The prefix is lower-cased as the
// database's lower() does it: SQLite's knows ASCII letters only, so there
// other letters compare as typed.
func (s *Store) SearchItems(ctx context.Context, q items.Query) ([]*items.Item, error) {
	var where []string
	var args []any
	if q.TitlePrefix != "" {
		lo, hi := users.PrefixBounds(strings.ToLower(q.TitlePrefix))
		c := s.e.Collate()
		where = append(where, `lower(title)`+c+` >= ?`, `lower(title)`+c+` < ?`)
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
	rows, err := s.e.Reader().Query(ctx, query, append(args, q.Limit, q.Offset)...)
	list, err := collect(rows, err, scanItem)
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	return list, nil
}

// UserSessions implements auth.SessionLister.
func (s *Store) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	rows, err := s.e.Reader().Query(ctx,
		`SELECT id, user_id, expires_at, rotated_at FROM refresh_sessions
		 WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY expires_at DESC, id`, userID, now.UTC())
	list, err := collect(rows, err, func(r sqldb.Row) (*auth.Session, error) {
		var ses auth.Session
		if err := r.Scan(&ses.ID, &ses.UserID, &ses.ExpiresAt, &ses.RotatedAt); err != nil {
			return nil, err
		}
		ses.ExpiresAt, ses.RotatedAt = ses.ExpiresAt.UTC(), utc(ses.RotatedAt)
		return &ses, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	return list, nil
}

// CreateConsoleSession implements admin.Store.
func (s *Store) CreateConsoleSession(ctx context.Context, ses *admin.Session) error {
	_, err := s.e.Writer().Exec(ctx,
		`INSERT INTO console_sessions (secret_hash, user_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ses.SecretHash, ses.UserID, ses.CreatedAt.UTC(), ses.LastSeenAt.UTC(), ses.ExpiresAt.UTC())
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSession implements admin.Store.
func (s *Store) ConsoleSession(ctx context.Context, secretHash string) (*admin.Session, error) {
	var ses admin.Session
	err := s.e.Reader().QueryRow(ctx,
		`SELECT secret_hash, user_id, created_at, last_seen_at, expires_at FROM console_sessions WHERE secret_hash = ?`, secretHash,
	).Scan(&ses.SecretHash, &ses.UserID, &ses.CreatedAt, &ses.LastSeenAt, &ses.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, admin.ErrSessionNotFound
	} else if err != nil {
		return nil, fmt.Errorf("console session: %w", err)
	}
	ses.CreatedAt, ses.LastSeenAt, ses.ExpiresAt = ses.CreatedAt.UTC(), ses.LastSeenAt.UTC(), ses.ExpiresAt.UTC()
	return &ses, nil
}

// TouchConsoleSession implements admin.Store.
func (s *Store) TouchConsoleSession(ctx context.Context, secretHash string, now time.Time) error {
	if _, err := s.e.Writer().Exec(ctx, `UPDATE console_sessions SET last_seen_at = ? WHERE secret_hash = ?`, now.UTC(), secretHash); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession implements admin.Store.
func (s *Store) DeleteConsoleSession(ctx context.Context, secretHash string) error {
	if _, err := s.e.Writer().Exec(ctx, `DELETE FROM console_sessions WHERE secret_hash = ?`, secretHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteUserConsoleSessions implements admin.Store.
func (s *Store) DeleteUserConsoleSessions(ctx context.Context, userID int64) error {
	if _, err := s.e.Writer().Exec(ctx, `DELETE FROM console_sessions WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("delete console sessions of user %d: %w", userID, err)
	}
	return nil
}

// AppendAudit implements admin.Store.
func (s *Store) AppendAudit(ctx context.Context, e *admin.Entry) error {
	err := s.e.Writer().QueryRow(ctx,
		`INSERT INTO audit_log (at, actor_id, actor_username, action, target_type, target_id, detail, request_id)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		e.At.UTC(), e.ActorID, e.ActorUsername, e.Action, e.TargetType, e.TargetID, e.Detail, e.RequestID).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// ListAudit implements admin.Store.
func (s *Store) ListAudit(ctx context.Context, beforeID int64, limit int) ([]*admin.Entry, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	rows, err := s.e.Reader().Query(ctx,
		`SELECT id, at, actor_id, actor_username, action, target_type, target_id, detail, request_id
		 FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?`, beforeID, limit)
	list, err := collect(rows, err, func(r sqldb.Row) (*admin.Entry, error) {
		var e admin.Entry
		err := r.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorUsername, &e.Action, &e.TargetType, &e.TargetID, &e.Detail, &e.RequestID)
		e.At = e.At.UTC()
		return &e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return list, nil
}

// CountRows implements admin.Store: the engine's estimate of a table's
// rows (Engine.EstimateRows) when it is large, a count otherwise.
func (s *Store) CountRows(ctx context.Context) (admin.Counts, error) {
	var c admin.Counts
	for _, n := range []struct {
		table string
		v     *int64
	}{{"users", &c.Users}, {"items", &c.Items}} {
		est, err := s.e.EstimateRows(ctx, n.table)
		if err != nil {
			return c, fmt.Errorf("count %s: %w", n.table, err)
		}
		if est >= exactBelow {
			*n.v, c.Estimated = est, true
			continue
		}
		if err := s.e.Reader().QueryRow(ctx, `SELECT count(*) FROM `+n.table).Scan(n.v); err != nil {
			return c, fmt.Errorf("count %s: %w", n.table, err)
		}
	}
	return c, nil
}

// exactBelow is the size under which CountRows counts a table's rows;
// above it, counting (a scan of a million items takes a quarter of a
// second on PostgreSQL) gives way to the engine's estimate.
const exactBelow = 100_000
