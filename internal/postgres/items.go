package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"myapi/internal/items"
)

const itemColumns = `id, title, description, price, owner_id, created_at, updated_at`

func scanItem(row pgx.Row) (*items.Item, error) {
	var it items.Item
	err := row.Scan(&it.ID, &it.Title, &it.Description, &it.Price, &it.OwnerID, &it.CreatedAt, &it.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, items.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return &it, nil
}

// CreateItem implements items.Store.
func (db *DB) CreateItem(ctx context.Context, it *items.Item) error {
	err := db.pool.QueryRow(ctx,
		`INSERT INTO items (title, description, price, owner_id) VALUES ($1, $2, $3, $4)
		 RETURNING id, created_at, updated_at`,
		it.Title, it.Description, it.Price, it.OwnerID,
	).Scan(&it.ID, &it.CreatedAt, &it.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create item: %w", err)
	}
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return nil
}

// ItemByID implements items.Store.
func (db *DB) ItemByID(ctx context.Context, id int64) (*items.Item, error) {
	return scanItem(db.pool.QueryRow(ctx, `SELECT `+itemColumns+` FROM items WHERE id = $1`, id))
}

// ListItems implements items.Store.
func (db *DB) ListItems(ctx context.Context, skip, limit int64) ([]*items.Item, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+itemColumns+` FROM items ORDER BY id LIMIT $1 OFFSET $2`, limit, skip)
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*items.Item, error) { return scanItem(r) })
	if err != nil {
		return nil, fmt.Errorf("list items: %w", err)
	}
	return list, nil
}

// UpdateItem implements items.Store.
func (db *DB) UpdateItem(ctx context.Context, id int64, upd items.Update) (*items.Item, error) {
	it, err := scanItem(db.pool.QueryRow(ctx,
		`UPDATE items SET
		   title = coalesce($1, title),
		   price = coalesce($2, price),
		   description = CASE WHEN $3 THEN $4 ELSE description END,
		   updated_at = now()
		 WHERE id = $5 RETURNING `+itemColumns,
		upd.Title, upd.Price, upd.SetDescription, upd.Description, id))
	if err != nil && !errors.Is(err, items.ErrNotFound) {
		return nil, fmt.Errorf("update item %d: %w", id, err)
	}
	return it, err
}

// DeleteItem implements items.Store.
func (db *DB) DeleteItem(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM items WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete item %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return items.ErrNotFound
	}
	return nil
}
