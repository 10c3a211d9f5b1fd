package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"myapi/internal/admin"
	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/users"
)

// SearchUsers implements users.Searcher. Each condition is added only when
// set, so that the planner sees plain ranges on the prefix indexes of
// migration 00004. A prefix search is the union of two ranges, each read
// in the list's order from its own index and cut at the page's end: one
// condition with OR would walk the sort order's index filtering every row.
func (db *DB) SearchUsers(ctx context.Context, q users.Query) ([]*users.User, error) {
	var filters []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.Active != nil {
		filters = append(filters, "is_active = "+arg(*q.Active))
	}
	if q.Superuser != nil {
		filters = append(filters, "is_superuser = "+arg(*q.Superuser))
	}
	order := ` ORDER BY id DESC`
	switch q.Sort {
	case users.SortOldest:
		order = ` ORDER BY id`
	case users.SortUsername:
		order = ` ORDER BY username_key COLLATE "C", id`
	}
	where := func(conds ...string) string {
		all := append(conds, filters...)
		if len(all) == 0 {
			return ""
		}
		return ` WHERE ` + strings.Join(all, " AND ")
	}
	var sql string
	if q.Prefix != "" {
		lo, hi := users.PrefixBounds(users.Key(q.Prefix))
		l, h, end := arg(lo), arg(hi), arg(q.Offset+q.Limit)
		branch := func(col string) string {
			return `(SELECT ` + userColumns + `, username_key FROM users` +
				where(col+` COLLATE "C" >= `+l, col+` COLLATE "C" < `+h) + order + ` LIMIT ` + end + `)`
		}
		sql = `SELECT ` + userColumns + ` FROM (` + branch("username_key") + ` UNION ` + branch("email_key") + `) u` + order
	} else {
		sql = `SELECT ` + userColumns + ` FROM users` + where() + order
	}
	sql += ` LIMIT ` + arg(q.Limit) + ` OFFSET ` + arg(q.Offset)
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*users.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	return list, nil
}

// SearchItems implements items.Searcher.
func (db *DB) SearchItems(ctx context.Context, q items.Query) ([]*items.Item, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.TitlePrefix != "" {
		lo, hi := users.PrefixBounds(strings.ToLower(q.TitlePrefix))
		where = append(where, `lower(title) COLLATE "C" >= `+arg(lo)+` AND lower(title) COLLATE "C" < `+arg(hi))
	}
	if q.OwnerID != 0 {
		where = append(where, "owner_id = "+arg(q.OwnerID))
	}
	sql := `SELECT ` + itemColumns + ` FROM items`
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	sql += ` ORDER BY id DESC LIMIT ` + arg(q.Limit) + ` OFFSET ` + arg(q.Offset)
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*items.Item, error) { return scanItem(r) })
	if err != nil {
		return nil, fmt.Errorf("search items: %w", err)
	}
	return list, nil
}

// UserSessions implements auth.SessionLister.
func (db *DB) UserSessions(ctx context.Context, userID int64, now time.Time) ([]*auth.Session, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT id, user_id, expires_at, rotated_at FROM refresh_sessions
		 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY expires_at DESC, id`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*auth.Session, error) {
		var s auth.Session
		if err := r.Scan(&s.ID, &s.UserID, &s.ExpiresAt, &s.RotatedAt); err != nil {
			return nil, err
		}
		s.ExpiresAt = s.ExpiresAt.UTC()
		if s.RotatedAt != nil {
			t := s.RotatedAt.UTC()
			s.RotatedAt = &t
		}
		return &s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sessions of user %d: %w", userID, err)
	}
	return list, nil
}

// CreateConsoleSession implements admin.Store.
func (db *DB) CreateConsoleSession(ctx context.Context, s *admin.Session) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO console_sessions (secret_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		s.SecretHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create console session: %w", err)
	}
	return nil
}

// ConsoleSession implements admin.Store.
func (db *DB) ConsoleSession(ctx context.Context, secretHash string) (*admin.Session, error) {
	var s admin.Session
	err := db.pool.QueryRow(ctx,
		`SELECT secret_hash, user_id, created_at, last_seen_at, expires_at FROM console_sessions WHERE secret_hash = $1`, secretHash,
	).Scan(&s.SecretHash, &s.UserID, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, admin.ErrSessionNotFound
	} else if err != nil {
		return nil, fmt.Errorf("console session: %w", err)
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// TouchConsoleSession implements admin.Store.
func (db *DB) TouchConsoleSession(ctx context.Context, secretHash string, now time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE console_sessions SET last_seen_at = $1 WHERE secret_hash = $2`, now, secretHash); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// DeleteConsoleSession implements admin.Store.
func (db *DB) DeleteConsoleSession(ctx context.Context, secretHash string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE secret_hash = $1`, secretHash); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteUserConsoleSessions implements admin.Store.
func (db *DB) DeleteUserConsoleSessions(ctx context.Context, userID int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete console sessions of user %d: %w", userID, err)
	}
	return nil
}

// AppendAudit implements admin.Store.
func (db *DB) AppendAudit(ctx context.Context, e *admin.Entry) error {
	err := db.pool.QueryRow(ctx,
		`INSERT INTO audit_log (at, actor_id, actor_username, action, target_type, target_id, detail, request_id)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		e.At, e.ActorID, e.ActorUsername, e.Action, e.TargetType, e.TargetID, e.Detail, e.RequestID).Scan(&e.ID)
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
	rows, err := db.pool.Query(ctx,
		`SELECT id, at, actor_id, actor_username, action, target_type, target_id, detail, request_id
		 FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*admin.Entry, error) {
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

// exactBelow is the size under which CountRows counts a table's rows;
// above it, counting (a scan of a million items takes a quarter of a
// second) gives way to the planner's statistics.
const exactBelow = 100_000

// CountRows implements admin.Store: pg_class.reltuples, kept by ANALYZE and
// autovacuum, for large tables; count(*) for the others.
func (db *DB) CountRows(ctx context.Context) (admin.Counts, error) {
	var c admin.Counts
	err := db.pool.QueryRow(ctx,
		`SELECT (SELECT reltuples::bigint FROM pg_class WHERE oid = 'users'::regclass),
		        (SELECT reltuples::bigint FROM pg_class WHERE oid = 'items'::regclass)`).Scan(&c.Users, &c.Items)
	if err != nil {
		return c, fmt.Errorf("count rows: %w", err)
	}
	for _, n := range []struct {
		table string
		v     *int64
	}{{"users", &c.Users}, {"items", &c.Items}} {
		if *n.v >= exactBelow {
			c.Estimated = true
			continue
		}
		// reltuples is -1 before the first ANALYZE.
		if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM `+n.table).Scan(n.v); err != nil {
			return c, fmt.Errorf("count %s: %w", n.table, err)
		}
	}
	return c, nil
}
