package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"myapi/internal/sqldb"
	"myapi/internal/users"
)

const userColumns = `id, email, username, hashed_password, is_active, is_superuser, created_at, updated_at`

func scanUser(row sqldb.Row) (*users.User, error) {
	var u users.User
	err := row.Scan(&u.ID, &u.Email, &u.Username, &u.PasswordHash, &u.IsActive, &u.IsSuperuser, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, users.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// userConflict turns the violation of a users unique constraint into the
// users error; any other error, another violation included, is kept.
func userConflict(err error) error {
	switch name, _ := sqldb.UniqueViolation(err); name {
	case "users_email_key":
		return users.ErrEmailTaken
	case "users_username_key":
		return users.ErrUsernameTaken
	}
	return err
}

// CreateUser implements users.Store.
func (s *Store) CreateUser(ctx context.Context, u *users.User, hooks ...users.TxHook) error {
	var err error
	if len(hooks) == 0 {
		err = s.insertUser(ctx, s.e.Writer(), u)
	} else {
		saved := *u
		err = s.inTx(ctx, func(tx sqldb.Tx) error {
			if err := s.insertUser(ctx, tx, u); err != nil {
				return err
			}
			for _, hook := range hooks {
				if err := hook(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			*u = saved
		}
	}
	if err != nil {
		return fmt.Errorf("create user: %w", userConflict(err))
	}
	return nil
}

func (s *Store) insertUser(ctx context.Context, q sqldb.Querier, u *users.User) error {
	now := s.e.Now()
	err := q.QueryRow(ctx,
		`INSERT INTO users (email, email_key, username, username_key, hashed_password, is_active, is_superuser, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, users.Key(u.Email), u.Username, users.Key(u.Username), u.PasswordHash, u.IsActive, u.IsSuperuser, now, now,
	).Scan(&u.ID)
	if err != nil {
		return err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	return nil
}

// UserByID implements users.Store.
func (s *Store) UserByID(ctx context.Context, id int64) (*users.User, error) {
	return scanUser(s.e.Reader().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
}

// UserByUsername implements users.Store.
func (s *Store) UserByUsername(ctx context.Context, username string) (*users.User, error) {
	return scanUser(s.e.Reader().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = ?`, users.Key(username)))
}

// UserByEmail implements users.Store.
func (s *Store) UserByEmail(ctx context.Context, email string) (*users.User, error) {
	return scanUser(s.e.Reader().QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email_key = ?`, users.Key(email)))
}

// ListUsers implements users.Store.
func (s *Store) ListUsers(ctx context.Context, skip, limit int64) ([]*users.User, error) {
	rows, err := s.e.Reader().Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY id LIMIT ? OFFSET ?`, limit, skip)
	list, err := collect(rows, err, scanUser)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return list, nil
}

// UpdateUser implements users.Store.
func (s *Store) UpdateUser(ctx context.Context, id int64, upd users.Update, hooks ...users.UpdateHook) (*users.User, error) {
	var emailKey, usernameKey *string
	if email, ok := upd.Email.Get(); ok {
		k := users.Key(email)
		emailKey = &k
	}
	if username, ok := upd.Username.Get(); ok {
		k := users.Key(username)
		usernameKey = &k
	}
	var after *users.User
	err := s.inTx(ctx, func(tx sqldb.Tx) error {
		if upd.IsActive.Set() || upd.IsSuperuser.Set() {
			if err := s.e.LockSuperusers(ctx, tx); err != nil {
				return err
			}
		}
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`+s.e.Lock(LockUpdate), id))
		if err != nil {
			return err
		}
		now := s.e.Now()
		after, err = scanUser(tx.QueryRow(ctx,
			`UPDATE users SET
			   email = coalesce(?, email), email_key = coalesce(?, email_key),
			   username = coalesce(?, username), username_key = coalesce(?, username_key),
			   hashed_password = coalesce(?, hashed_password),
			   is_active = coalesce(?, is_active), is_superuser = coalesce(?, is_superuser),
			   updated_at = ?
			 WHERE id = ? RETURNING `+userColumns,
			upd.Email.Ptr(), emailKey, upd.Username.Ptr(), usernameKey, upd.PasswordHash.Ptr(), upd.IsActive.Ptr(), upd.IsSuperuser.Ptr(), now, id))
		if err != nil {
			return userConflict(err)
		}
		if before.ActiveSuperuser() && !after.ActiveSuperuser() {
			if err := lastSuperuserCheck(ctx, tx); err != nil {
				return err
			}
		}
		if users.EmailChanged(before, after) {
			if _, err := tx.Exec(ctx,
				`UPDATE password_reset_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL`, now, id); err != nil {
				return fmt.Errorf("use up reset tokens: %w", err)
			}
		}
		for _, hook := range hooks {
			if err := hook(ctx, tx, before, after); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, users.ErrNotFound) || errors.Is(err, users.ErrLastSuperuser) {
			return nil, err
		}
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	return after, nil
}

// lastSuperuserCheck refuses, with users.ErrLastSuperuser, a transaction
// after which no active superuser is left.
func lastSuperuserCheck(ctx context.Context, tx sqldb.Tx) error {
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
func (s *Store) ReplacePasswordHash(ctx context.Context, id int64, oldHash, newHash string) (bool, error) {
	n, err := s.e.Writer().Exec(ctx,
		`UPDATE users SET hashed_password = ?, updated_at = ? WHERE id = ? AND hashed_password = ?`, newHash, s.e.Now(), id, oldHash)
	if err != nil {
		return false, fmt.Errorf("replace password hash of user %d: %w", id, err)
	}
	return n == 1, nil
}

// DeleteUser implements users.Store.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	err := s.inTx(ctx, func(tx sqldb.Tx) error {
		if err := s.e.LockSuperusers(ctx, tx); err != nil {
			return err
		}
		var wasSuperuser bool
		err := tx.QueryRow(ctx, `DELETE FROM users WHERE id = ? RETURNING is_superuser AND is_active`, id).Scan(&wasSuperuser)
		if errors.Is(err, sql.ErrNoRows) {
			return users.ErrNotFound
		} else if err != nil {
			return err
		}
		if wasSuperuser {
			return lastSuperuserCheck(ctx, tx)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, users.ErrNotFound) || errors.Is(err, users.ErrLastSuperuser) {
			return err
		}
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}
