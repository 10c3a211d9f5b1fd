// Package users holds the user account type, its rules and the storage
// contract that every database engine implements.
package users

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Errors a Store returns; callers test them with errors.Is.
var (
	ErrNotFound      = errors.New("user not found")
	ErrEmailTaken    = errors.New("email already registered")
	ErrUsernameTaken = errors.New("username already taken")
)

// User is an account. PasswordHash never leaves the server.
type User struct {
	ID           int64
	Email        string
	Username     string
	PasswordHash string
	IsActive     bool
	IsSuperuser  bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Update names the fields to change; nil fields are left as they are.
type Update struct {
	Email        *string
	Username     *string
	PasswordHash *string
	IsActive     *bool
	IsSuperuser  *bool
}

// Store persists users. Uniqueness of email and username (both
// case-insensitive, see Key) is enforced by the database, so concurrent
// writers get ErrEmailTaken or ErrUsernameTaken, never a generic error.
// Timestamps come back in UTC.
type Store interface {
	// CreateUser inserts u and fills in its ID and timestamps. IDs are never
	// reused, not even a deleted user's: tokens name users by id.
	//
	// Hooks, if any, run in the same transaction, after the insert (u.ID is
	// set): the user is stored only if every hook succeeds, and a hook's
	// writes are kept only if the user is. The first hook error is
	// returned, wrapped, and nothing is stored. (The job queue enqueues the
	// welcome email this way.)
	CreateUser(ctx context.Context, u *User, hooks ...TxHook) error
	// UserByID returns ErrNotFound when no user has that id.
	UserByID(ctx context.Context, id int64) (*User, error)
	// UserByUsername finds a user by username, ignoring case.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserByEmail finds a user by email, ignoring case.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns users ordered by id.
	ListUsers(ctx context.Context, skip, limit int64) ([]*User, error)
	// UpdateUser applies upd and returns the stored result.
	UpdateUser(ctx context.Context, id int64, upd Update) (*User, error)
	// DeleteUser removes the user, its items and its sessions.
	DeleteUser(ctx context.Context, id int64) error
}

// TxHook runs inside a store's transaction. tx is the engine's own
// transaction handle: a pgx.Tx on PostgreSQL, a *sql.Tx on SQLite; only code
// that knows the engine (the job queue) uses it. Returning an error rolls
// the transaction back.
type TxHook func(ctx context.Context, tx any) error

// Key is the form of an email or username used for uniqueness and lookup:
// "Alice" and "alice" are one account, so nobody can register a look-alike.
func Key(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeEmail lower-cases the domain part, as the seed's email validator
// does, and keeps the local part as the user typed it.
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	return email[:at+1] + strings.ToLower(email[at+1:])
}
