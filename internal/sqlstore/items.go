package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"myapi/internal/items"
	"myapi/internal/sqldb"
)

const itemColumns = `id, title, description, price, owner_id, created_at, updated_at`

func scanItem(row sqldb.Row) (*items.Item, error) {
	var it items.Item
	err := row.Scan(&it.ID, &it.Title, &it.Description, &it.Price, &it.OwnerID, &it.CreatedAt, &it.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, items.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return &it, nil
}

// CreateItem implements items.Store.
func (s *Store) CreateItem(ctx context.Context, it *items.Item) error {
	now := s.e.Now()
	err := s.e.Writer().QueryRow(ctx,
		`INSERT INTO items (title, description, price, owner_id, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		it.Title, it.Description, it.Price, it.OwnerID, now, now,
	).Scan(&it.ID)
	if err != nil {
		return fmt.Errorf("create item: %w", err)
	}
	it.CreatedAt, it.UpdatedAt = now, now
	return nil
}

// ItemByID implements items.Store.
func (s *Store) ItemByID(ctx context.Context, id int64) (*items.Item, error) {
	return scanItem(s.e.Reader().QueryRow(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`, id))
}

// ListItems implements items.Store.
func (s *Store) ListItems(ctx context.Context, skip, limit int64) ([]*items.Item, error) {
	rows, err := s.e.Reader().Query(ctx, `SELECT `+itemColumns+` FROM items ORDER BY id LIMIT ? OFFSET ?`, limit, skip)
	list, err := collect(rows, err, scanItem)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return list, nil
}

// UpdateItem implements items.Store.
func (s *Store) UpdateItem(ctx context.Context, id int64, upd items.Update) (*items.Item, error) {
	it, err := scanItem(s.e.Writer().QueryRow(ctx,
		`UPDATE items SET
		   title = coalesce(?, title),
		   price = coalesce(?, price),
		   description = CASE WHEN ? THEN ? ELSE description END,
		   updated_at = ?
		 WHERE id = ? RETURNING `+itemColumns,
		upd.Title.Ptr(), upd.Price.Ptr(), upd.Description.Set(), upd.Description.Ptr(), s.e.Now(), id))
	if err != nil && !errors.Is(err, items.ErrNotFound) {
		return nil, fmt.Errorf("update item %d: %w", id, err)
	}
	return it, err
}

// DeleteItem implements items.Store.
func (s *Store) DeleteItem(ctx context.Context, id int64) error {
	n, err := s.e.Writer().Exec(ctx, `DELETE FROM items WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete item %d: %w", id, err)
	}
	if n == 0 {
		return items.ErrNotFound
	}
	return nil
}
