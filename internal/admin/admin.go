// Package admin holds what the admin console keeps besides users and
// items: its sign-in sessions and the audit log of the changes made
// through it, with the storage contract every database engine implements.
package admin

import (
	"context"
	"errors"
	"time"
)

// ErrSessionNotFound is returned for a session secret nobody holds.
var ErrSessionNotFound = errors.New("console session not found")

// Session is one sign-in to the console. The secret itself is only in the
// browser's cookie; the server knows its SHA-256.
type Session struct {
	SecretHash string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the end of the absolute lifetime.
	ExpiresAt time.Time
}

// Entry is one change made through the console.
type Entry struct {
	ID            int64
	At            time.Time
	ActorID       int64
	ActorUsername string
	// Action names the change, e.g. "user.deactivate" or "item.delete".
	Action     string
	TargetType string
	TargetID   int64
	Detail     string
	RequestID  string
}

// Counts are the sizes of the main tables.
type Counts struct {
	Users int64
	Items int64
	// Estimated is set when a count is the database's statistics rather
	// than a count of rows (large PostgreSQL tables, see CountRows).
	Estimated bool
}

// Store persists console sessions and the audit log. Times come back in
// UTC.
type Store interface {
	// CreateConsoleSession stores s.
	CreateConsoleSession(ctx context.Context, s *Session) error
	// ConsoleSession returns the session of a secret's hash, or
	// ErrSessionNotFound.
	ConsoleSession(ctx context.Context, secretHash string) (*Session, error)
	// TouchConsoleSession sets the session's LastSeenAt to now.
	TouchConsoleSession(ctx context.Context, secretHash string, now time.Time) error
	// DeleteConsoleSession ends one session; ending one that is gone is
	// not an error.
	DeleteConsoleSession(ctx context.Context, secretHash string) error
	// DeleteUserConsoleSessions ends every console session of a user.
	DeleteUserConsoleSessions(ctx context.Context, userID int64) error
	// AppendAudit stores e and fills in its ID.
	AppendAudit(ctx context.Context, e *Entry) error
	// ListAudit returns up to limit entries older than beforeID (0: the
	// newest), newest first.
	ListAudit(ctx context.Context, beforeID int64, limit int) ([]*Entry, error)
	// CountRows counts users and items. An engine may answer with its
	// statistics for a table too large to count quickly, saying so in
	// Counts.Estimated; tables under a hundred thousand rows are counted.
	CountRows(ctx context.Context) (Counts, error)
}
