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

// superusersLock is the transaction-level advisory lock that every change
// which may remove an active superuser takes first. Under READ COMMITTED
// two such changes would each still see the other's superuser and both
// commit, leaving none; taking the lock in turn, the second sees the
// first's result.
const superusersLock int64 = 0x6d79617069_5355 // "myapi" "SU"

// UpdateUser implements users.Store.
func (db *DB) UpdateUser(ctx context.Context, id int64, upd users.Update, hooks ...users.UpdateHook) (*users.User, error) {
	var email, emailKey, username, usernameKey *string
	if upd.Email != nil {
		k := users.Key(*upd.Email)
		email, emailKey = upd.Email, &k
	}
	if upd.Username != nil {
		k := users.Key(*upd.Username)
		username, usernameKey = upd.Username, &k
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if upd.IsActive != nil || upd.IsSuperuser != nil {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, superusersLock); err != nil {
			return nil, fmt.Errorf("update user %d: %w", id, err)
		}
	}
	before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, users.ErrNotFound) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	after, err := scanUser(tx.QueryRow(ctx,
		`UPDATE users SET
		   email = coalesce($1, email), email_key = coalesce($2, email_key),
		   username = coalesce($3, username), username_key = coalesce($4, username_key),
		   hashed_password = coalesce($5, hashed_password),
		   is_active = coalesce($6, is_active), is_superuser = coalesce($7, is_superuser),
		   updated_at = now()
		 WHERE id = $8 RETURNING `+userColumns,
		email, emailKey, username, usernameKey, upd.PasswordHash, upd.IsActive, upd.IsSuperuser, id))
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, userConflict(err))
	}
	if before.ActiveSuperuser() && !after.ActiveSuperuser() {
		if err := lastSuperuserCheck(ctx, tx); err != nil {
			return nil, err
		}
	}
	if users.EmailChanged(before, after) {
		if _, err := tx.Exec(ctx,
			`UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, id); err != nil {
			return nil, fmt.Errorf("update user %d: use up reset tokens: %w", id, err)
		}
	}
	for _, hook := range hooks {
		if err := hook(ctx, tx, before, after); err != nil {
			return nil, fmt.Errorf("update user %d: %w", id, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("update user %d: commit: %w", id, err)
	}
	return after, nil
}

// lastSuperuserCheck refuses, with users.ErrLastSuperuser, a transaction
// after which no active superuser is left.
func lastSuperuserCheck(ctx context.Context, tx pgx.Tx) error {
	var left bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE is_superuser AND is_active)`).Scan(&left); err != nil {
		return fmt.Errorf("count superusers: %w", err)
	}
	if !left {
		return users.ErrLastSuperuser
	}
	return nil
}

// ReplacePasswordHash implements users.Store.
func (db *DB) ReplacePasswordHash(ctx context.Context, id int64, oldHash, newHash string) (bool, error) {
	tag, err := db.pool.Exec(ctx,
		`UPDATE users SET hashed_password = $1, updated_at = now() WHERE id = $2 AND hashed_password = $3`, newHash, id, oldHash)
	if err != nil {
		return false, fmt.Errorf("replace password hash of user %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteUser implements users.Store.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, superusersLock); err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	var wasSuperuser bool
	err = tx.QueryRow(ctx, `DELETE FROM users WHERE id = $1 RETURNING is_superuser AND is_active`, id).Scan(&wasSuperuser)
	if errors.Is(err, pgx.ErrNoRows) {
		return users.ErrNotFound
	} else if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	if wasSuperuser {
		if err := lastSuperuserCheck(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("delete user %d: commit: %w", id, err)
	}
	return nil
}
