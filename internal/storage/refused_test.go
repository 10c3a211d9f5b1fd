package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"myapi/internal/items"
	"myapi/internal/sqldb"
	"myapi/internal/storage"
	"myapi/internal/testdb"
	"myapi/internal/users"
)

func TestRefusedKinds(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want storage.Refusal
	}{
		{"nil", nil, storage.NotRefused},
		{"plain bug", errors.New("nil map"), storage.NotRefused},
		{"bad value", fmt.Errorf("create item: %w", &sqldb.Error{Kind: sqldb.ErrBadValue, Err: errors.New("check")}), storage.BadValue},
		{"conflict", &sqldb.Error{Kind: sqldb.ErrConflict, Err: errors.New("fk")}, storage.Conflict},
		{"unavailable", &sqldb.Error{Kind: sqldb.ErrUnavailable, Err: errors.New("down")}, storage.NotRefused},
	} {
		if got := storage.Refused(c.err); got != c.want {
			t.Errorf("%s: Refused(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// Each engine's own errors for values it refuses are classified, from
// statements the real database ran.
func TestRefusedByTheDatabase(t *testing.T) {
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := engine.Open(t)
			owner := &users.User{Email: "o@example.com", Username: "owner", PasswordHash: "x", IsActive: true}
			if err := db.CreateUser(ctx, owner); err != nil {
				t.Fatal(err)
			}
			type refusal struct {
				name string
				item items.Item
				want storage.Refusal
			}
			cases := []refusal{
				{"CHECK price > 0", items.Item{Title: "t", Price: -1, OwnerID: owner.ID}, storage.BadValue},
				{"FOREIGN KEY owner", items.Item{Title: "t", Price: 1, OwnerID: owner.ID + 1000}, storage.Conflict},
			}
			if engine.Name == "postgres" { // text that only PostgreSQL refuses
				cases = append(cases,
					refusal{"NUL in text", items.Item{Title: "a\x00b", Price: 1, OwnerID: owner.ID}, storage.BadValue},
					refusal{"invalid UTF-8", items.Item{Title: "a\xffb", Price: 1, OwnerID: owner.ID}, storage.BadValue},
				)
			}
			for _, c := range cases {
				err := db.CreateItem(ctx, &c.item)
				if err == nil {
					t.Errorf("%s: the database stored it", c.name)
					continue
				}
				if got := storage.Refused(err); got != c.want {
					t.Errorf("%s: Refused(%v) = %v, want %v", c.name, err, got, c.want)
				}
				if storage.Unavailable(err) {
					t.Errorf("%s: %v also counts as unavailable", c.name, err)
				}
			}
		})
	}
}
