package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/storage"
)

func testItemsCRUD(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	owner := newUser(t, s, "owner")
	cases := []struct {
		name  string
		title string
		desc  *string
		price float64
	}{
		{"plain", "Widget", ptr("A useful widget"), 19.99},
		{"no description", "Gadget", nil, 0.01},
		{"empty description", "Gizmo", ptr(""), 1e9},
		{"long title", strings.Repeat("T", 200), nil, 123456.789},
	}
	var created []*items.Item
	for _, c := range cases {
		it := &items.Item{Title: c.title, Description: c.desc, Price: c.price, OwnerID: owner.ID}
		if err := s.CreateItem(ctx, it); err != nil {
			t.Fatalf("%s: CreateItem: %v", c.name, err)
		}
		if it.ID <= 0 || it.CreatedAt.IsZero() || it.UpdatedAt.IsZero() {
			t.Errorf("%s: CreateItem left %s, created %v", c.name, fmtItem(it), it.CreatedAt)
		}
		got, err := s.ItemByID(ctx, it.ID)
		if err != nil {
			t.Fatalf("%s: ItemByID: %v", c.name, err)
		}
		sameItem(t, got, it)
		created = append(created, it)
	}

	it := created[0]
	updates := []struct {
		name  string
		upd   items.Update
		check func(*items.Item) bool
	}{
		{"nothing", items.Update{}, func(g *items.Item) bool {
			return g.Title == "Widget" && g.Price == 19.99 && sameStringPtr(g.Description, ptr("A useful widget"))
		}},
		{"title", items.Update{Title: patch.Value("Widget 2")}, func(g *items.Item) bool {
			return g.Title == "Widget 2" && g.Price == 19.99 && sameStringPtr(g.Description, ptr("A useful widget"))
		}},
		{"price", items.Update{Price: patch.Value(5.5)}, func(g *items.Item) bool {
			return g.Title == "Widget 2" && g.Price == 5.5
		}},
		{"all", items.Update{Title: patch.Value("W3"), Price: patch.Value(7.25), Description: patch.NullableValue("d3")}, func(g *items.Item) bool {
			return g.Title == "W3" && g.Price == 7.25 && sameStringPtr(g.Description, ptr("d3"))
		}},
	}
	for _, u := range updates {
		got, err := s.UpdateItem(ctx, it.ID, u.upd)
		if err != nil {
			t.Fatalf("%s: UpdateItem: %v", u.name, err)
		}
		if !u.check(got) || got.OwnerID != owner.ID || got.ID != it.ID {
			t.Errorf("%s: UpdateItem = %s", u.name, fmtItem(got))
		}
		if !got.CreatedAt.Equal(it.CreatedAt) || got.UpdatedAt.Before(it.UpdatedAt) {
			t.Errorf("%s: timestamps %v / %v after %v / %v", u.name, got.CreatedAt, got.UpdatedAt, it.CreatedAt, it.UpdatedAt)
		}
		stored, err := s.ItemByID(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameItem(t, stored, got)
	}

	if err := s.DeleteItem(ctx, it.ID); err != nil {
		t.Fatalf("DeleteItem: %v", err)
	}
	if _, err := s.ItemByID(ctx, it.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("ItemByID(deleted) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteItem(ctx, it.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("DeleteItem twice = %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateItem(ctx, it.ID, items.Update{Title: patch.Value("x")}); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("UpdateItem(deleted) = %v, want ErrNotFound", err)
	}
	for _, id := range []int64{0, -1, math.MinInt64, math.MaxInt64} {
		if _, err := s.ItemByID(ctx, id); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("ItemByID(%d) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.UpdateItem(ctx, id, items.Update{Title: patch.Value("x")}); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("UpdateItem(%d) = %v, want ErrNotFound", id, err)
		}
		if err := s.DeleteItem(ctx, id); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("DeleteItem(%d) = %v, want ErrNotFound", id, err)
		}
	}
	// The owner is untouched by item deletion.
	if _, err := s.UserByID(ctx, owner.ID); err != nil {
		t.Errorf("owner after DeleteItem: %v", err)
	}
}

func testItemsList(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	a, b := newUser(t, s, "a"), newUser(t, s, "b")
	var ids []int64
	for i := range 7 {
		owner := a.ID
		if i%2 == 1 {
			owner = b.ID
		}
		ids = append(ids, newItem(t, s, owner, fmt.Sprintf("item %d", i)).ID)
	}
	cases := []struct {
		skip, limit int64
		want        []int64
	}{
		{0, 10, ids},
		{0, 3, ids[:3]},
		{3, 3, ids[3:6]},
		{6, 3, ids[6:]},
		{7, 3, nil},
		{100, 100, nil},
		{1 << 62, 10, nil},
		{math.MaxInt64, 1, nil},
	}
	for _, c := range cases {
		got, err := s.ListItems(ctx, c.skip, c.limit)
		if err != nil {
			t.Errorf("ListItems(skip=%d, limit=%d): %v", c.skip, c.limit, err)
			continue
		}
		if got == nil {
			t.Errorf("ListItems(skip=%d, limit=%d) = nil, want an empty, non-nil slice (JSON [])", c.skip, c.limit)
		}
		if g := itemIDs(got); !slices.Equal(g, c.want) && (len(g) != 0 || len(c.want) != 0) {
			t.Errorf("ListItems(skip=%d, limit=%d) ids = %v, want %v", c.skip, c.limit, g, c.want)
		}
	}
	// Updating an item does not move it in the order.
	if _, err := s.UpdateItem(ctx, ids[0], items.Update{Title: patch.Value("zzz")}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListItems(ctx, 0, 100)
	if err != nil || !slices.Equal(itemIDs(got), ids) {
		t.Errorf("ListItems after update = %v, %v; want %v", itemIDs(got), err, ids)
	}
	if err == nil && len(got) == len(ids) && (got[1].OwnerID != b.ID || got[1].Title != "item 1" || got[1].Price != 9.99) {
		t.Errorf("ListItems row = %s, want item 1 of user %d", fmtItem(got[1]), b.ID)
	}
}

func testItemsDescription(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	owner := newUser(t, s, "owner")
	it := newItem(t, s, owner.ID, "thing")
	steps := []struct {
		name string
		upd  items.Update
		want *string
	}{
		{"created without", items.Update{}, nil},
		{"title only keeps nil", items.Update{Title: patch.Value("thing 2")}, nil},
		{"set", items.Update{Description: patch.NullableValue("described")}, ptr("described")},
		{"price only keeps it", items.Update{Price: patch.Value(3.5)}, ptr("described")},
		{"absent keeps it", items.Update{Description: patch.Nullable[string]{}}, ptr("described")},
		{"set to empty string", items.Update{Description: patch.NullableValue("")}, ptr("")},
		{"set again", items.Update{Description: patch.NullableValue("again")}, ptr("again")},
		{"cleared", items.Update{Description: patch.Null[string]()}, nil},
		{"stays cleared", items.Update{Title: patch.Value("thing 3")}, nil},
		{"cleared when clear", items.Update{Description: patch.Null[string]()}, nil},
		{"set after cleared", items.Update{Description: patch.NullableValue("back")}, ptr("back")},
	}
	for _, st := range steps {
		got, err := s.UpdateItem(ctx, it.ID, st.upd)
		if err != nil {
			t.Fatalf("%s: UpdateItem: %v", st.name, err)
		}
		if !sameStringPtr(got.Description, st.want) {
			t.Errorf("%s: UpdateItem description = %s", st.name, fmtItem(got))
		}
		stored, err := s.ItemByID(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameStringPtr(stored.Description, st.want) {
			t.Errorf("%s: stored description = %s", st.name, fmtItem(stored))
		}
	}
}

func testItemsVerbatim(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	owner := newUser(t, s, "owner")
	for _, v := range verbatim {
		it := &items.Item{Title: v.s, Description: ptr(v.s + "\n" + v.s), Price: 1.5, OwnerID: owner.ID}
		if err := s.CreateItem(ctx, it); err != nil {
			t.Errorf("%s: CreateItem: %v", v.name, err)
			continue
		}
		got, err := s.ItemByID(ctx, it.ID)
		if err != nil {
			t.Errorf("%s: ItemByID: %v", v.name, err)
			continue
		}
		sameItem(t, got, it)
		upd, err := s.UpdateItem(ctx, it.ID, items.Update{Title: patch.Value(v.s + v.s), Description: patch.NullableValue(v.s)})
		if err != nil || upd.Title != v.s+v.s || upd.Description == nil || *upd.Description != v.s {
			t.Errorf("%s: UpdateItem = %v, %v", v.name, upd, err)
		}
	}
	list, err := s.ListItems(ctx, 0, 100)
	if err != nil || len(list) != len(verbatim) {
		t.Errorf("ListItems = %d items, %v; want %d", len(list), err, len(verbatim))
	}
}

func testItemsConstraints(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	owner := newUser(t, s, "owner")
	bad := []struct {
		name string
		it   items.Item
	}{
		{"unknown owner", items.Item{Title: "x", Price: 1, OwnerID: math.MaxInt64}},
		{"owner 0", items.Item{Title: "x", Price: 1, OwnerID: 0}},
		{"zero price", items.Item{Title: "x", Price: 0, OwnerID: owner.ID}},
		{"negative price", items.Item{Title: "x", Price: -1, OwnerID: owner.ID}},
	}
	for _, b := range bad {
		it := b.it
		if err := s.CreateItem(ctx, &it); err == nil {
			t.Errorf("CreateItem with %s succeeded (id %d), want an error", b.name, it.ID)
		}
	}
	if _, err := s.UpdateItem(ctx, newItem(t, s, owner.ID, "ok").ID, items.Update{Price: patch.Value(0.0)}); err == nil || errors.Is(err, items.ErrNotFound) {
		t.Errorf("UpdateItem to price 0 = %v, want a constraint error", err)
	}
	list, err := s.ListItems(ctx, 0, 100)
	if err != nil || len(list) != 1 || list[0].Price != 9.99 {
		t.Errorf("after refused writes ListItems = %v, %v; want the one valid item", itemIDs(list), err)
	}
}

func testItemsIDsNotReused(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	owner := newUser(t, s, "owner")
	newItem(t, s, owner.ID, "first")
	last := newItem(t, s, owner.ID, "last")
	if err := s.DeleteItem(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	next := newItem(t, s, owner.ID, "next")
	if next.ID <= last.ID {
		t.Errorf("item created after deleting item %d got id %d: ids are reused", last.ID, next.ID)
	}
}

// ------------------------------------------------------------- timestamps
