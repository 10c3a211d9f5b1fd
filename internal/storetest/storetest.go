// Package storetest is the one contract suite every storage engine passes:
// users, items, login sessions and migrations, run through the
// storage.Store interface only, so that SQLite and PostgreSQL behave alike.
//
// An engine's test calls Run with a function that returns a fresh, empty,
// migrated store (see internal/testdb).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/storage"
	"myapi/internal/users"
)

type contractTest struct {
	name string
	fn   func(t *testing.T, s storage.Store)
}

// Run runs the whole contract against stores from open. Every subtest gets
// a store of its own and runs in parallel with the others.
func Run(t *testing.T, open func(t testing.TB) storage.Store) {
	tests := []contractTest{
		{"Engine", testEngine},
		{"Users/CreateAndGet", testUsersCreateAndGet},
		{"Users/NotFound", testUsersNotFound},
		{"Users/List", testUsersList},
		{"Users/Update", testUsersUpdate},
		{"Users/UniqueCaseInsensitive", testUsersUnique},
		{"Users/UnknownUnique", testUsersUnknownUnique},
		{"Users/ConcurrentCreate", testUsersConcurrentCreate},
		{"Users/Verbatim", testUsersVerbatim},
		{"Users/IDsNotReused", testUsersIDsNotReused},
		{"Users/DeleteCascades", testUsersDeleteCascades},
		{"Items/CRUD", testItemsCRUD},
		{"Items/List", testItemsList},
		{"Items/Description", testItemsDescription},
		{"Items/Verbatim", testItemsVerbatim},
		{"Items/Constraints", testItemsConstraints},
		{"Items/IDsNotReused", testItemsIDsNotReused},
		{"Timestamps", testTimestamps},
		{"Sessions/CreateAndGet", testSessionsCreateAndGet},
		{"Sessions/Rotate", testSessionsRotate},
		{"Sessions/ConcurrentRotate", testSessionsConcurrentRotate},
		{"Sessions/Revoke", testSessionsRevoke},
		{"Migrations/DownUp", testMigrationsDownUp},
		{"Users/CreateHooks", testUsersCreateHooks},
		{"ResetTokens", testResetTokens},
		{"ResetTokens/Quiet", testResetTokensQuiet},
		{"ResetTokens/ConcurrentQuiet", testResetTokensConcurrentQuiet},
		{"Users/EmailChange", testUsersEmailChange},
		{"Users/UpdateHookError", testUsersUpdateHookError},
		{"Users/ReplacePasswordHash", testUsersReplacePasswordHash},
		{"Users/LastSuperuser", testUsersLastSuperuser},
		{"Users/ConcurrentLastSuperuser", testUsersConcurrentLastSuperuser},
		{"Users/Search", testUsersSearch},
		{"Items/Search", testItemsSearch},
		{"Sessions/OfUser", testUserSessions},
		{"Console/Sessions", testConsoleSessions},
		{"Console/AuditLog", testAuditLog},
		{"Console/CountRows", testCountRows},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// ---------------------------------------------------------------- helpers

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ptr[T any](v T) *T { return &v }

// newUser stores a user called name, with email name@example.com.
func newUser(t *testing.T, s storage.Store, name string) *users.User {
	t.Helper()
	u := &users.User{
		Email:        name + "@example.com",
		Username:     name,
		PasswordHash: "$2a$04$hash-of-" + name,
		IsActive:     true,
	}
	if err := s.CreateUser(ctxFor(t), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", name, err)
	}
	return u
}

func newItem(t *testing.T, s storage.Store, owner int64, title string) *items.Item {
	t.Helper()
	it := &items.Item{Title: title, Price: 9.99, OwnerID: owner}
	if err := s.CreateItem(ctxFor(t), it); err != nil {
		t.Fatalf("CreateItem(%q): %v", title, err)
	}
	return it
}

func newSession(t *testing.T, s storage.Store, id string, userID int64, hash string, exp time.Time) *auth.Session {
	t.Helper()
	sess := &auth.Session{ID: id, UserID: userID, TokenHash: hash, ExpiresAt: exp}
	if err := s.CreateSession(ctxFor(t), sess); err != nil {
		t.Fatalf("CreateSession(%q): %v", id, err)
	}
	return sess
}

func userIDs(list []*users.User) []int64 {
	ids := make([]int64, len(list))
	for i, u := range list {
		ids[i] = u.ID
	}
	return ids
}

func itemIDs(list []*items.Item) []int64 {
	ids := make([]int64, len(list))
	for i, it := range list {
		ids[i] = it.ID
	}
	return ids
}

// sameUser compares the stored fields of two users; timestamps by instant.
func sameUser(t *testing.T, got, want *users.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.Username != want.Username ||
		got.PasswordHash != want.PasswordHash || got.IsActive != want.IsActive || got.IsSuperuser != want.IsSuperuser {
		t.Errorf("user = %+v, want %+v", *got, *want)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("user %d timestamps = %v / %v, want %v / %v", got.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func sameItem(t *testing.T, got, want *items.Item) {
	t.Helper()
	if got.ID != want.ID || got.Title != want.Title || got.Price != want.Price || got.OwnerID != want.OwnerID ||
		!sameStringPtr(got.Description, want.Description) {
		t.Errorf("item = %s, want %s", fmtItem(got), fmtItem(want))
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("item %d timestamps = %v / %v, want %v / %v", got.ID, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func sameStringPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func fmtItem(it *items.Item) string {
	desc := "<nil>"
	if it.Description != nil {
		desc = fmt.Sprintf("%q", *it.Description)
	}
	return fmt.Sprintf("{ID:%d Title:%q Description:%s Price:%v OwnerID:%d}", it.ID, it.Title, desc, it.Price, it.OwnerID)
}

// checkUTC fails unless ts is in time.UTC and within slack of [from, to].
func checkUTC(t *testing.T, what string, ts, from, to time.Time) {
	t.Helper()
	if ts.Location() != time.UTC {
		t.Errorf("%s = %v: location %q, want UTC", what, ts, ts.Location())
	}
	const slack = 2 * time.Second // clock skew between Go and the server
	if ts.Before(from.Add(-slack)) || ts.After(to.Add(slack)) {
		t.Errorf("%s = %v, want between %v and %v", what, ts, from, to)
	}
}

// verbatim are strings that must be stored and read back unchanged.
var verbatim = []struct{ name, s string }{
	{"korean", "김철수_한글사용자"},
	{"emoji", "🦄👩‍👩‍👧‍👦✨"},
	{"sql-injection", "'; DROP TABLE users; --"},
	{"percent", "100%_off%"},
	{"underscore", "_"},
	{"backslashes", `C:\path\\to\\\x00\n`},
	{"quotes", `"double" 'single' ` + "`back`"},
	{"combining", "e\u0301 Å ﬁ"},
}

// ------------------------------------------------------------------ users

func testEngine(t *testing.T, s storage.Store) {
	if err := s.Ping(ctxFor(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if e := s.Engine(); e != "sqlite" && e != "postgres" {
		t.Errorf("Engine() = %q, want sqlite or postgres", e)
	}
}

func testTimestamps(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	before := time.Now()
	var created []*users.User
	for i := range 5 {
		created = append(created, newUser(t, s, fmt.Sprintf("ts%d", i)))
	}
	it := newItem(t, s, created[0].ID, "ts item")
	after := time.Now()

	subSecond := false
	for _, u := range created {
		for _, ts := range []time.Time{u.CreatedAt, u.UpdatedAt} {
			checkUTC(t, "created user timestamp", ts, before, after)
			if ts.Nanosecond() != 0 {
				subSecond = true
			}
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkUTC(t, "stored user created_at", got.CreatedAt, before, after)
		checkUTC(t, "stored user updated_at", got.UpdatedAt, before, after)
		if !got.CreatedAt.Equal(u.CreatedAt) {
			t.Errorf("stored created_at %v != returned %v: precision lost", got.CreatedAt, u.CreatedAt)
		}
	}
	if !subSecond {
		t.Errorf("no user timestamp has a fractional second: precision is truncated to seconds")
	}
	list, err := s.ListUsers(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range list {
		checkUTC(t, "listed user created_at", u.CreatedAt, before, after)
	}

	checkUTC(t, "created item created_at", it.CreatedAt, before, after)
	gotItem, err := s.ItemByID(ctx, it.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkUTC(t, "stored item created_at", gotItem.CreatedAt, before, after)
	checkUTC(t, "stored item updated_at", gotItem.UpdatedAt, before, after)
	listed, err := s.ListItems(ctx, 0, 10)
	if err != nil || len(listed) != 1 {
		t.Fatalf("ListItems = %d items, %v", len(listed), err)
	}
	checkUTC(t, "listed item created_at", listed[0].CreatedAt, before, after)

	time.Sleep(5 * time.Millisecond)
	updBefore := time.Now()
	uu, err := s.UpdateUser(ctx, created[0].ID, users.Update{Username: patch.Value("renamed")})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := s.UpdateItem(ctx, it.ID, items.Update{Title: patch.Value("renamed")})
	if err != nil {
		t.Fatal(err)
	}
	updAfter := time.Now()
	checkUTC(t, "updated user updated_at", uu.UpdatedAt, updBefore, updAfter)
	checkUTC(t, "updated user created_at", uu.CreatedAt, before, after)
	checkUTC(t, "updated item updated_at", ui.UpdatedAt, updBefore, updAfter)
	if !uu.UpdatedAt.After(uu.CreatedAt) || !ui.UpdatedAt.After(ui.CreatedAt) {
		t.Errorf("updated_at did not move past created_at: user %v/%v, item %v/%v", uu.CreatedAt, uu.UpdatedAt, ui.CreatedAt, ui.UpdatedAt)
	}
}

// --------------------------------------------------------------- sessions

// seoul is a zone other than UTC, to check that instants, not wall clocks,
// are compared.
var seoul = time.FixedZone("KST", 9*60*60)

func testMigrationsDownUp(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	p, err := s.Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		t.Fatal("no migrations")
	}
	latest := sources[len(sources)-1].Version
	checkVersion := func(want int64) {
		t.Helper()
		v, err := p.GetDBVersion(ctx)
		if err != nil || v != want {
			t.Fatalf("database version = %d, %v; want %d", v, err, want)
		}
	}
	checkVersion(latest)
	if pending, err := p.HasPending(ctx); err != nil || pending {
		t.Fatalf("fresh store HasPending = %v, %v; want false", pending, err)
	}

	// One step down and back up.
	if _, err := p.Down(ctx); err != nil {
		t.Fatalf("Down: %v", err)
	}
	checkVersion(sources[len(sources)-1].Version - 1)
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("Up after Down: %v", err)
	}
	checkVersion(latest)
	newUser(t, s, "after-one-down")

	// All the way down: the schema is gone, every Down ran.
	results, err := p.DownTo(ctx, 0)
	if err != nil {
		t.Fatalf("DownTo(0): %v", err)
	}
	if len(results) != len(sources) {
		t.Errorf("DownTo(0) rolled back %d migrations, want %d", len(results), len(sources))
	}
	checkVersion(0)
	if _, err := s.ListUsers(ctx, 0, 10); err == nil {
		t.Errorf("ListUsers succeeded with every migration rolled back")
	}

	// And all the way up again: a working, empty store.
	results, err = p.Up(ctx)
	if err != nil {
		t.Fatalf("Up from 0: %v", err)
	}
	if len(results) != len(sources) {
		t.Errorf("Up applied %d migrations, want %d", len(results), len(sources))
	}
	checkVersion(latest)
	statuses, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range statuses {
		if st.State != goose.StateApplied {
			t.Errorf("%s is %s after Up", st.Source.Path, st.State)
		}
	}
	list, err := s.ListUsers(ctx, 0, 10)
	if err != nil || len(list) != 0 {
		t.Errorf("ListUsers after down and up = %d users, %v; want an empty store", len(list), err)
	}
	u := newUser(t, s, "after-full-down")
	it := newItem(t, s, u.ID, "still works")
	newSession(t, s, "still-works", u.ID, "h", time.Now().Add(time.Hour))
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ItemByID(ctx, it.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("cascade after re-migration: item = %v, want ErrNotFound", err)
	}
	if _, err := s.SessionByID(ctx, "still-works"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("cascade after re-migration: session = %v, want ErrSessionNotFound", err)
	}
}
