// Package items holds the item type and the storage contract that every
// database engine implements. Who may change an item is declared by its
// routes (access.OwnerOrSuperuser).
package items

import (
	"context"
	"errors"
	"time"

	"myapi/internal/patch"
)

// ErrNotFound is returned when no item has the requested id.
var ErrNotFound = errors.New("item not found")

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
