package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"myapi/internal/items"
)

const itemColumns = `id, title, description, price, owner_id, created_at, updated_at`

func scanItem(row interface{ Scan(...any) error }) (*items.Item, error) {
	var it items.Item
	err := row.Scan(&it.ID, &it.Title, &it.Description, &it.Price, &it.OwnerID, &it.CreatedAt, &it.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, items.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &it, nil
}

// CreateItem implements items.Store.
func (db *DB) CreateItem(ctx context.Context, it *items.Item) error {
	now := db.now()
	err := db.write.QueryRowContext(ctx,
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
func (db *DB) ItemByID(ctx context.Context, id int64) (*items.Item, error) {
	return scanItem(db.read.QueryRowContext(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`, id))
}

// ListItems implements items.Store.
func (db *DB) ListItems(ctx context.Context, skip, limit int64) ([]*items.Item, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+itemColumns+` FROM items ORDER BY id LIMIT ? OFFSET ?`, limit, skip)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	defer rows.Close()
	list := []*items.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, fmt.Errorf("list items: %w", err)
		}
		list = append(list, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return list, nil
}

// UpdateItem implements items.Store.
func (db *DB) UpdateItem(ctx context.Context, id int64, upd items.Update) (*items.Item, error) {
	it, err := scanItem(db.write.QueryRowContext(ctx,
		`UPDATE items SET
		   title = coalesce(?, title),
		   price = coalesce(?, price),
		   description = CASE WHEN ? THEN ? ELSE description END,
		   updated_at = ?
		 WHERE id = ? RETURNING `+itemColumns,
		upd.Title, upd.Price, upd.SetDescription, upd.Description, db.now(), id))
	if err != nil && !errors.Is(err, items.ErrNotFound) {
		return nil, fmt.Errorf("update item %d: %w", id, err)
	}
	return it, err
}

// DeleteItem implements items.Store.
func (db *DB) DeleteItem(ctx context.Context, id int64) error {
	res, err := db.write.ExecContext(ctx, `DELETE FROM items WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete item %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return items.ErrNotFound
	}
	return nil
}
