package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/sqlite"
	"myapi/internal/storetest"
	"myapi/internal/testdb"
	"myapi/internal/users"
)

// TestStoreContract runs the storage contract suite against SQLite, which
// needs nothing installed and so always runs.
func TestStoreContract(t *testing.T) {
	t.Parallel()
	for _, e := range testdb.Engines(t) {
		if e.Name == "sqlite" {
			storetest.Run(t, e.Open)
			return
		}
	}
	t.Fatal("testdb offers no sqlite engine")
}

// TestMigrationKeepsDataAndStopsIDReuse upgrades a database made by the
// first migration, whose ids SQLite could hand out again, and checks that
// the rebuild keeps every row, keeps foreign keys enforced and cascading,
// and never reuses an id from then on.
func TestMigrationKeepsDataAndStopsIDReuse(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "old.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	p, err := db.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("UpTo(1): %v", err)
	}

	// Rows written under the old schema.
	alice := &users.User{Email: "alice@example.com", Username: "Alice", PasswordHash: "h", IsActive: true}
	bob := &users.User{Email: "bob@example.com", Username: "bob", PasswordHash: "h", IsActive: true, IsSuperuser: true}
	for _, u := range []*users.User{alice, bob} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	desc := "with description"
	it := &items.Item{Title: "thing", Description: &desc, Price: 2.5, OwnerID: alice.ID}
	if err := db.CreateItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, &auth.Session{ID: "s1", UserID: alice.ID, TokenHash: "th", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("Up: %v", err)
	}

	gotAlice, err := db.UserByUsername(ctx, "alice")
	if err != nil || gotAlice.ID != alice.ID || gotAlice.Username != "Alice" || !gotAlice.CreatedAt.Equal(alice.CreatedAt) {
		t.Errorf("alice after migration = %+v, %v", gotAlice, err)
	}
	gotBob, err := db.UserByID(ctx, bob.ID)
	if err != nil || !gotBob.IsSuperuser || gotBob.Email != "bob@example.com" {
		t.Errorf("bob after migration = %+v, %v", gotBob, err)
	}
	gotItem, err := db.ItemByID(ctx, it.ID)
	if err != nil || gotItem.OwnerID != alice.ID || gotItem.Description == nil || *gotItem.Description != desc || gotItem.Price != 2.5 {
		t.Errorf("item after migration = %+v, %v", gotItem, err)
	}
	if _, err := db.SessionByID(ctx, "s1"); err != nil {
		t.Errorf("session after migration: %v", err)
	}
	// Uniqueness still holds.
	if err := db.CreateUser(ctx, &users.User{Email: "ALICE@example.com", Username: "x", PasswordHash: "h"}); !errors.Is(err, users.ErrEmailTaken) {
		t.Errorf("duplicate email after migration = %v, want ErrEmailTaken", err)
	}
	// Foreign keys are enforced again.
	if err := db.CreateItem(ctx, &items.Item{Title: "orphan", Price: 1, OwnerID: 999}); err == nil {
		t.Errorf("item with an unknown owner accepted after migration: foreign keys are off")
	}
	// Deleting the newest user frees no id, and cascades.
	if err := db.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	carol := &users.User{Email: "carol@example.com", Username: "carol", PasswordHash: "h", IsActive: true}
	if err := db.CreateUser(ctx, carol); err != nil {
		t.Fatal(err)
	}
	if carol.ID <= bob.ID {
		t.Errorf("new user got id %d after deleting %d: ids reused", carol.ID, bob.ID)
	}
	if err := db.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ItemByID(ctx, it.ID); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("item of deleted user after migration = %v, want ErrNotFound (cascade)", err)
	}
	if _, err := db.SessionByID(ctx, "s1"); !errors.Is(err, auth.ErrSessionNotFound) {
		t.Errorf("session of deleted user after migration = %v, want ErrSessionNotFound (cascade)", err)
	}
}
