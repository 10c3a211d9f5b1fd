// Package users holds the user account type, its rules and the storage
// contract that every database engine implements.
package users

import (
	"context"
	"errors"
	"strings"
	"time"

	"myapi/internal/errkind"
	"myapi/internal/patch"
	"myapi/internal/sqldb"
)

// Errors a Store returns; callers test them with errors.Is.
var (
	ErrNotFound      = errkind.New(errkind.NotFound, "User not found")
	ErrEmailTaken    = errors.New("email already registered")
	ErrUsernameTaken = errors.New("username already taken")
	// ErrLastSuperuser refuses a change that would leave no active
	// superuser: nobody could then administer the accounts.
	ErrLastSuperuser = errors.New("the last active superuser cannot be demoted, deactivated or deleted")
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

// Update names the fields to change; absent fields (the zero
// patch.Field) are left as they are.
type Update struct {
	Email        patch.Field[string]
	Username     patch.Field[string]
	PasswordHash patch.Field[string]
	IsActive     patch.Field[bool]
	IsSuperuser  patch.Field[bool]
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
	// UpdateUser applies upd and returns the stored result, in one
	// transaction that also:
	//   - uses up every unused password-reset token of the user when the
	//     email changes (its Key), since they were sent to the old address;
	//   - refuses with ErrLastSuperuser, changing nothing, to turn the last
	//     active superuser into anything else, even when two such changes
	//     run at once;
	//   - runs hooks, after the update, given the user before and after;
	//     the first hook error is returned, wrapped, and nothing changes.
	UpdateUser(ctx context.Context, id int64, upd Update, hooks ...UpdateHook) (*User, error)
	// ReplacePasswordHash sets the user's password hash to newHash if it
	// is still oldHash, and reports whether it did.
	ReplacePasswordHash(ctx context.Context, id int64, oldHash, newHash string) (bool, error)
	// DeleteUser removes the user, its items and its sessions. Deleting
	// the last active superuser is refused with ErrLastSuperuser, as in
	// UpdateUser.
	DeleteUser(ctx context.Context, id int64) error
}

// UpdateHook runs inside UpdateUser's transaction (tx as in TxHook), given
// the user as it was and as it is now.
type UpdateHook func(ctx context.Context, tx sqldb.Tx, before, after *User) error

// ActiveSuperuser reports whether u administers accounts now.
func (u *User) ActiveSuperuser() bool { return u.IsSuperuser && u.IsActive }

// EmailChanged reports whether after has another email than before, as
// far as uniqueness and lookup tell (Key): a change of case is not one.
func EmailChanged(before, after *User) bool { return Key(before.Email) != Key(after.Email) }

// TxHook runs inside a store's transaction, and writes through tx (the job
// queue enqueues its job there). Returning an error rolls the transaction
// back.
type TxHook func(ctx context.Context, tx sqldb.Tx) error

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

// Sort orders of a Query.
const (
	SortNewest   = "newest"
	SortOldest   = "oldest"
	SortUsername = "username"
)

// Query selects users for a list: all of them by default, newest first.
type Query struct {
	// Prefix, if set, keeps the users whose username or email starts with
	// it, ignoring case (Key).
	Prefix string
	// Active and Superuser, if set, keep the users with that flag.
	Active    *bool
	Superuser *bool
	// Sort is SortNewest (the default), SortOldest or SortUsername.
	Sort   string
	Offset int64
	Limit  int64
}

// Searcher finds users for the admin console's lists.
type Searcher interface {
	// SearchUsers returns the users q selects, in its order.
	SearchUsers(ctx context.Context, q Query) ([]*User, error)
}

// PrefixBounds are the lower and upper bounds of the keys that start with
// prefix, compared byte by byte: the range an index scan answers a prefix
// search with. The upper bound is the prefix followed by the highest code
// point.
func PrefixBounds(prefix string) (lo, hi string) {
	return prefix, prefix + "\U0010FFFF"
}

// ErrSelfChange refuses a superuser's change that would take its own
// rights away: demoting, deactivating or deleting itself.
var ErrSelfChange = errors.New("superusers cannot demote, deactivate or delete themselves")

// CheckAdminChange applies the rule every administrative change of a user
// obeys, through the API or the console: actor may not take away its own
// rights (ErrSelfChange). del is a deletion.
func CheckAdminChange(actor *User, targetID int64, upd Update, del bool) error {
	if actor.ID != targetID {
		return nil
	}
	if del || demotes(upd.IsSuperuser) || demotes(upd.IsActive) {
		return ErrSelfChange
	}
	return nil
}

// demotes reports whether f sets a flag to false.
func demotes(f patch.Field[bool]) bool {
	v, ok := f.Get()
	return ok && !v
}
