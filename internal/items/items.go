// Package items holds the item type and the storage contract that every
// database engine implements. Who may change an item is declared by its
// routes (access.OwnerOrSuperuser).
package items

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"myapi/internal/errkind"
	"myapi/internal/patch"
)

// ErrNotFound is returned when no item has the requested id.
var ErrNotFound = errkind.New(errkind.NotFound, "Item not found")

// Item is something a user owns and offers at a price.
type Item struct {
	ID          int64
	Title       string
	Description *string
	Price       float64
	OwnerID     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Update names the fields to change; absent ones stay as they are. A null
// Description clears it.
type Update struct {
	Title       patch.Field[string]
	Price       patch.Field[float64]
	Description patch.Nullable[string]
}

// Store persists items.
type Store interface {
	// CreateItem inserts it and fills in its ID and timestamps (UTC). IDs
	// are never reused.
	CreateItem(ctx context.Context, it *Item) error
	// ItemByID returns ErrNotFound when no item has that id.
	ItemByID(ctx context.Context, id int64) (*Item, error)
	// ListItems returns items ordered by id.
	ListItems(ctx context.Context, skip, limit int64) ([]*Item, error)
	// UpdateItem applies upd and returns the stored result.
	UpdateItem(ctx context.Context, id int64, upd Update) (*Item, error)
	// DeleteItem removes the item; ErrNotFound if it did not exist.
	DeleteItem(ctx context.Context, id int64) error
}

// Query selects items for the admin console's lists, newest first.
type Query struct {
	// TitlePrefix, if set, keeps the items whose title starts with it,
	// ignoring case.
	TitlePrefix string
	// OwnerID, if not 0, keeps that user's items.
	OwnerID int64
	Offset  int64
	Limit   int64
}

// Searcher finds items for the admin console's lists.
type Searcher interface {
	// SearchItems returns the items q selects, newest first.
	SearchItems(ctx context.Context, q Query) ([]*Item, error)
}

// Limits of an item's fields, as the API's schema states them.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 10000
)

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid item")

// Validate checks the fields upd sets against the rules of the API's
// schema: a title of 1 to MaxTitleLen characters, a description of at most
// MaxDescriptionLen, a positive finite price, and no NUL or invalid UTF-8
// in text.
func Validate(upd Update) error {
	if t := upd.Title.Ptr(); t != nil {
		if n := utf8.RuneCountInString(*t); n < 1 || n > MaxTitleLen {
			return fmt.Errorf("%w: title must be 1 to %d characters", ErrInvalid, MaxTitleLen)
		}
		if badText(*t) {
			return fmt.Errorf("%w: title must be valid text without NUL", ErrInvalid)
		}
	}
	if d := upd.Description.Ptr(); d != nil {
		if utf8.RuneCountInString(*d) > MaxDescriptionLen {
			return fmt.Errorf("%w: description must be at most %d characters", ErrInvalid, MaxDescriptionLen)
		}
		if badText(*d) {
			return fmt.Errorf("%w: description must be valid text without NUL", ErrInvalid)
		}
	}
	if p := upd.Price.Ptr(); p != nil && (!(*p > 0) || math.IsInf(*p, 1)) {
		return fmt.Errorf("%w: price must be a number greater than 0", ErrInvalid)
	}
	return nil
}

func badText(s string) bool { return !utf8.ValidString(s) || strings.ContainsRune(s, 0) }
