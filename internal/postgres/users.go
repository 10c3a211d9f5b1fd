package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"myapi/internal/users"
)

const userColumns = `id, email, username, hashed_password, is_active, is_superuser, created_at, updated_at`

func scanUser(row pgx.Row) (*users.User, error) {
	var u users.User
	err := row.Scan(&u.ID, &u.Email, &u.Username, &u.PasswordHash, &u.IsActive, &u.IsSuperuser, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, users.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// userConflict turns a unique-constraint failure into the users error.
func userConflict(err error) error {
	switch name, _ := uniqueViolation(err); name {
	case "users_email_key":
		return users.ErrEmailTaken
	case "users_username_key":
		return users.ErrUsernameTaken
	}
	return err
}

// CreateUser implements users.Store.
func (db *DB) CreateUser(ctx context.Context, u *users.User, hooks ...users.TxHook) error {
	if len(hooks) == 0 {
		return insertUser(ctx, db.pool, u)
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	saved := *u
	if err := insertUser(ctx, tx, u); err != nil {
		return err
	}
	for _, hook := range hooks {
		if err := hook(ctx, tx); err != nil {
			*u = saved
			return fmt.Errorf("create user: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		*u = saved
		return fmt.Errorf("create user: commit: %w", err)
	}
	return nil
}

func insertUser(ctx context.Context, q interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}, u *users.User) error {
	err := q.QueryRow(ctx,
		`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser)
		 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, created_at, updated_at`,
		u.Email, users.Key(u.Email), u.Username, users.Key(u.Username), u.PasswordHash, u.IsActive, u.IsSuperuser,
	).Scan(&u.ID, &u.CreatedAt, &u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create user: %w", userConflict(err))
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return nil
}

// UserByID implements users.Store.
func (db *DB) UserByID(ctx context.Context, id int64) (*users.User, error) {
	return scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByUsername implements users.Store.
func (db *DB) UserByUsername(ctx context.Context, username string) (*users.User, error) {
	return scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = $1`, users.Key(username)))
}

// UserByEmail implements users.Store.
func (db *DB) UserByEmail(ctx context.Context, email string) (*users.User, error) {
	return scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = $1`, users.Key(email)))
}

// ListUsers implements users.Store.
func (db *DB) ListUsers(ctx context.Context, skip, limit int64) ([]*users.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT $1 OFFSET $2`, limit, skip)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*users.User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

// UpdateUser implements users.Store.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd users.Update) (*users.User, error) {
	var email, emailKey, username, usernameKey *string
	if upd.Email != nil {
		k := users.Key(*upd.Email)
		email, emailKey = upd.Email, &k
	}
	if upd.Username != nil {
		k := users.Key(*upd.Username)
		username, usernameKey = upd.Username, &k
	}
	u, err := scanUser(db.pool.QueryRow(ctx,
		`UPDATE users SET
		   email = coalesce($1, email), email_key = coalesce($2, email_key),
		   username = coalesce($3, username), username_key = coalesce($4, username_key),
		   hashed_password = coalesce($5, hashed_password),
		   is_active = coalesce($6, is_active), is_superuser = coalesce($7, is_superuser),
		   updated_at = now()
		 WHERE id = $8 RETURNING `+userColumns,
		email, emailKey, username, usernameKey, upd.PasswordHash, upd.IsActive, upd.IsSuperuser, id))
	if err != nil && !errors.Is(err, users.ErrNotFound) {
		return nil, fmt.Errorf("update user %d: %w", id, userConflict(err))
	}
	return u, err
}

// DeleteUser implements users.Store.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return users.ErrNotFound
	}
	return nil
}
