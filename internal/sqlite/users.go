package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"myapi/internal/users"
)

const userColumns = `id, email, username, hashed_password, is_active, is_superuser, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (*users.User, error) {
	var u users.User
	err := row.Scan(&u.ID, &u.Email, &u.Username, &u.PasswordHash, &u.IsActive, &u.IsSuperuser, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, users.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// userConflict turns a unique-constraint failure into the users error.
func userConflict(err error) error {
	if col, ok := uniqueViolation(err); ok {
		if strings.HasSuffix(col, "email_key") {
			return users.ErrEmailTaken
		}
		return users.ErrUsernameTaken
	}
	return err
}

// CreateUser implements users.Store.
func (db *DB) CreateUser(ctx context.Context, u *users.User, hooks ...users.TxHook) error {
	if len(hooks) == 0 {
		return db.insertUser(ctx, db.write, u)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	saved := *u
	if err := db.insertUser(ctx, tx, u); err != nil {
		return err
	}
	for _, hook := range hooks {
		if err := hook(ctx, tx); err != nil {
			*u = saved
			return fmt.Errorf("create user: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		*u = saved
		return fmt.Errorf("create user: commit: %w", err)
	}
	return nil
}

func (db *DB) insertUser(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, u *users.User) error {
	now := db.now()
	err := q.QueryRowContext(ctx,
		`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, users.Key(u.Email), u.Username, users.Key(u.Username), u.PasswordHash, u.IsActive, u.IsSuperuser, now, now,
	).Scan(&u.ID)
	if err != nil {
		return fmt.Errorf("create user: %w", userConflict(err))
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// UserByID implements users.Store.
func (db *DB) UserByID(ctx context.Context, id int64) (*users.User, error) {
	return scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByUsername implements users.Store.
func (db *DB) UserByUsername(ctx context.Context, username string) (*users.User, error) {
	return scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = ?`, users.Key(username)))
}

// UserByEmail implements users.Store.
func (db *DB) UserByEmail(ctx context.Context, email string) (*users.User, error) {
	return scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, users.Key(email)))
}

// ListUsers implements users.Store.
func (db *DB) ListUsers(ctx context.Context, skip, limit int64) ([]*users.User, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT ? OFFSET ?`, limit, skip)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	list := []*users.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		list = append(list, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

// UpdateUser implements users.Store. The single writer connection runs one
// transaction at a time, so the last-superuser check needs no lock.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd users.Update, hooks ...users.UpdateHook) (*users.User, error) {
	var email, emailKey, username, usernameKey any
	if upd.Email != nil {
		email, emailKey = *upd.Email, users.Key(*upd.Email)
	}
	if upd.Username != nil {
		username, usernameKey = *upd.Username, users.Key(*upd.Username)
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	before, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, users.ErrNotFound) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	now := db.now()
	after, err := scanUser(tx.QueryRowContext(ctx,
		`UPDATE users SET
		   email = coalesce(?, email), email_key = coalesce(?, email_key),
		   username = coalesce(?, username), username_key = coalesce(?, username_key),
		   hashed_password = coalesce(?, hashed_password),
		   is_active = coalesce(?, is_active), is_superuser = coalesce(?, is_superuser),
		   updated_at = ?
		 WHERE id = ? RETURNING `+userColumns,
		email, emailKey, username, usernameKey, upd.PasswordHash, upd.IsActive, upd.IsSuperuser, now, id))
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, userConflict(err))
	}
	if before.ActiveSuperuser() && !after.ActiveSuperuser() {
		if err := lastSuperuserCheck(ctx, tx); err != nil {
			return nil, err
		}
	}
	if users.EmailChanged(before, after) {
		if _, err := tx.ExecContext(ctx,
			`UPDATE password_reset_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, now, id); err != nil {
			return nil, fmt.Errorf("update user %d: use up reset tokens: %w", id, err)
		}
	}
	for _, hook := range hooks {
		if err := hook(ctx, tx, before, after); err != nil {
			return nil, fmt.Errorf("update user %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update user %d: commit: %w", id, err)
	}
	return after, nil
}

// lastSuperuserCheck refuses, with users.ErrLastSuperuser, a transaction
// after which no active superuser is left.
func lastSuperuserCheck(ctx context.Context, tx *sql.Tx) error {
	var left bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE is_superuser AND is_active)`).Scan(&left); err != nil {
		return fmt.Errorf("count superusers: %w", err)
	}
	if !left {
		return users.ErrLastSuperuser
	}
	return nil
}

// ReplacePasswordHash implements users.Store.
func (db *DB) ReplacePasswordHash(ctx context.Context, id int64, oldHash, newHash string) (bool, error) {
	res, err := db.write.ExecContext(ctx,
		`UPDATE users SET hashed_password = ?, updated_at = ? WHERE id = ? AND hashed_password = ?`, newHash, db.now(), id, oldHash)
	if err != nil {
		return false, fmt.Errorf("replace password hash of user %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeleteUser implements users.Store.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var wasSuperuser bool
	err = tx.QueryRowContext(ctx, `DELETE FROM users WHERE id = ? RETURNING is_superuser AND is_active`, id).Scan(&wasSuperuser)
	if errors.Is(err, sql.ErrNoRows) {
		return users.ErrNotFound
	} else if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if wasSuperuser {
		if err := lastSuperuserCheck(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user %d: commit: %w", id, err)
	}
	return nil
}
