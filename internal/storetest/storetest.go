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
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/storage"
	"myapi/internal/users"
)

// Opener returns a fresh, empty, migrated store that lives until t ends.
type Opener func(t testing.TB) storage.Store

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

func testUsersCreateAndGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := &users.User{Email: "Alice@Example.com", Username: "Alice", PasswordHash: "$2a$04$abc", IsActive: false, IsSuperuser: true}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.ID <= 0 {
		t.Fatalf("CreateUser set ID %d, want > 0", u.ID)
	}
	if u.CreatedAt.IsZero() || u.UpdatedAt.IsZero() {
		t.Fatalf("CreateUser left timestamps zero: %v / %v", u.CreatedAt, u.UpdatedAt)
	}
	lookups := []struct {
		name string
		get  func() (*users.User, error)
	}{
		{"by id", func() (*users.User, error) { return s.UserByID(ctx, u.ID) }},
		{"by username", func() (*users.User, error) { return s.UserByUsername(ctx, "Alice") }},
		{"by username lower", func() (*users.User, error) { return s.UserByUsername(ctx, "alice") }},
		{"by username upper", func() (*users.User, error) { return s.UserByUsername(ctx, "ALICE") }},
		{"by email", func() (*users.User, error) { return s.UserByEmail(ctx, "Alice@Example.com") }},
		{"by email other case", func() (*users.User, error) { return s.UserByEmail(ctx, "aLiCe@example.COM") }},
	}
	for _, l := range lookups {
		got, err := l.get()
		if err != nil {
			t.Errorf("%s: %v", l.name, err)
			continue
		}
		// The case the user chose is kept; only lookups ignore it.
		sameUser(t, got, u)
	}
	second := newUser(t, s, "bob")
	if second.ID <= u.ID {
		t.Errorf("second user id %d, want > %d", second.ID, u.ID)
	}
}

func testUsersNotFound(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "alice")
	for _, id := range []int64{0, -1, math.MinInt64, math.MaxInt64, math.MaxInt64 - 1, u.ID + 1} {
		if _, err := s.UserByID(ctx, id); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("UserByID(%d) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.UpdateUser(ctx, id, users.Update{Username: ptr("zed")}); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("UpdateUser(%d) = %v, want ErrNotFound", id, err)
		}
		if err := s.DeleteUser(ctx, id); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("DeleteUser(%d) = %v, want ErrNotFound", id, err)
		}
	}
	for _, name := range []string{"nobody", "", "%", "_____", "alic", "alice2", "' OR '1'='1"} {
		if _, err := s.UserByUsername(ctx, name); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("UserByUsername(%q) = %v, want ErrNotFound", name, err)
		}
		if _, err := s.UserByEmail(ctx, name); !errors.Is(err, users.ErrNotFound) {
			t.Errorf("UserByEmail(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

func testUsersList(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	var ids []int64
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		ids = append(ids, newUser(t, s, name).ID)
	}
	cases := []struct {
		skip, limit int64
		want        []int64
	}{
		{0, 10, ids},
		{0, 100, ids},
		{0, 1, ids[:1]},
		{0, 2, ids[:2]},
		{2, 2, ids[2:4]},
		{4, 10, ids[4:]},
		{5, 10, nil},
		{6, 1, nil},
		{1 << 31, 10, nil},
		{1 << 62, 10, nil},
		{math.MaxInt64, 100, nil},
	}
	for _, c := range cases {
		got, err := s.ListUsers(ctx, c.skip, c.limit)
		if err != nil {
			t.Errorf("ListUsers(skip=%d, limit=%d): %v", c.skip, c.limit, err)
			continue
		}
		if got == nil {
			t.Errorf("ListUsers(skip=%d, limit=%d) = nil, want an empty, non-nil slice (JSON [])", c.skip, c.limit)
		}
		if g := userIDs(got); !slices.Equal(g, c.want) && (len(g) != 0 || len(c.want) != 0) {
			t.Errorf("ListUsers(skip=%d, limit=%d) ids = %v, want %v", c.skip, c.limit, g, c.want)
		}
	}
	all, _ := s.ListUsers(ctx, 0, 100)
	if len(all) == 5 {
		if all[2].Username != "u3" || all[2].Email != "u3@example.com" || all[2].PasswordHash == "" {
			t.Errorf("ListUsers row = %+v, want the full user u3", *all[2])
		}
	}
}

func testUsersUpdate(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	orig := newUser(t, s, "alice")
	cases := []struct {
		name  string
		upd   users.Update
		check func(u *users.User) bool
	}{
		{"nothing", users.Update{}, func(u *users.User) bool {
			return u.Email == orig.Email && u.Username == orig.Username && u.IsActive && !u.IsSuperuser
		}},
		{"email", users.Update{Email: ptr("New.Alice@example.org")}, func(u *users.User) bool {
			return u.Email == "New.Alice@example.org" && u.Username == "alice"
		}},
		{"username", users.Update{Username: ptr("Alicia")}, func(u *users.User) bool {
			return u.Username == "Alicia" && u.Email == "New.Alice@example.org"
		}},
		{"own username in another case", users.Update{Username: ptr("ALICIA")}, func(u *users.User) bool {
			return u.Username == "ALICIA"
		}},
		{"own email in another case", users.Update{Email: ptr("new.alice@EXAMPLE.org")}, func(u *users.User) bool {
			return u.Email == "new.alice@EXAMPLE.org"
		}},
		{"password", users.Update{PasswordHash: ptr("$2a$04$new")}, func(u *users.User) bool {
			return u.PasswordHash == "$2a$04$new" && u.Username == "ALICIA"
		}},
		{"deactivate", users.Update{IsActive: ptr(false)}, func(u *users.User) bool {
			return !u.IsActive && !u.IsSuperuser
		}},
		{"promote", users.Update{IsSuperuser: ptr(true)}, func(u *users.User) bool {
			return !u.IsActive && u.IsSuperuser
		}},
		{"everything", users.Update{
			Email: ptr("a@b.co"), Username: ptr("al"), PasswordHash: ptr("h"), IsActive: ptr(true), IsSuperuser: ptr(false),
		}, func(u *users.User) bool {
			return u.Email == "a@b.co" && u.Username == "al" && u.PasswordHash == "h" && u.IsActive && !u.IsSuperuser
		}},
	}
	prev := orig
	for _, c := range cases {
		got, err := s.UpdateUser(ctx, orig.ID, c.upd)
		if err != nil {
			t.Fatalf("%s: UpdateUser: %v", c.name, err)
		}
		if got.ID != orig.ID || !c.check(got) {
			t.Errorf("%s: UpdateUser returned %+v", c.name, *got)
		}
		if !got.CreatedAt.Equal(orig.CreatedAt) {
			t.Errorf("%s: CreatedAt changed from %v to %v", c.name, orig.CreatedAt, got.CreatedAt)
		}
		if got.UpdatedAt.Before(prev.UpdatedAt) {
			t.Errorf("%s: UpdatedAt went back from %v to %v", c.name, prev.UpdatedAt, got.UpdatedAt)
		}
		stored, err := s.UserByID(ctx, orig.ID)
		if err != nil {
			t.Fatalf("%s: UserByID: %v", c.name, err)
		}
		sameUser(t, stored, got)
		prev = got
	}
	// Lookups follow the new name and email; the old ones are free again.
	if _, err := s.UserByUsername(ctx, "AL"); err != nil {
		t.Errorf("UserByUsername(new name): %v", err)
	}
	if _, err := s.UserByUsername(ctx, "alice"); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("UserByUsername(old name) = %v, want ErrNotFound", err)
	}
	newUser(t, s, "alice") // the old username and email can be taken again
}

func testUsersUnique(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	alice := &users.User{Email: "Alice@Example.com", Username: "Alice", PasswordHash: "h", IsActive: true}
	if err := s.CreateUser(ctx, alice); err != nil {
		t.Fatal(err)
	}
	creates := []struct {
		name            string
		email, username string
		want            error
	}{
		{"same email", "Alice@Example.com", "other1", users.ErrEmailTaken},
		{"email lower case", "alice@example.com", "other2", users.ErrEmailTaken},
		{"email upper case", "ALICE@EXAMPLE.COM", "other3", users.ErrEmailTaken},
		{"same username", "x1@example.com", "Alice", users.ErrUsernameTaken},
		{"username lower case", "x2@example.com", "alice", users.ErrUsernameTaken},
		{"username upper case", "x3@example.com", "ALICE", users.ErrUsernameTaken},
		{"username with spaces", "x4@example.com", " alice ", users.ErrUsernameTaken},
	}
	for _, c := range creates {
		u := &users.User{Email: c.email, Username: c.username, PasswordHash: "h", IsActive: true}
		if err := s.CreateUser(ctx, u); !errors.Is(err, c.want) {
			t.Errorf("CreateUser %s (%q, %q) = %v, want %v", c.name, c.email, c.username, err, c.want)
		}
	}
	// Both taken: either error is right, but it must be one of them.
	u := &users.User{Email: "ALICE@example.com", Username: "aLiCe", PasswordHash: "h", IsActive: true}
	if err := s.CreateUser(ctx, u); !errors.Is(err, users.ErrEmailTaken) && !errors.Is(err, users.ErrUsernameTaken) {
		t.Errorf("CreateUser with both taken = %v, want ErrEmailTaken or ErrUsernameTaken", err)
	}

	bob := newUser(t, s, "bob")
	updates := []struct {
		name string
		upd  users.Update
		want error
	}{
		{"email taken", users.Update{Email: ptr("alice@EXAMPLE.com")}, users.ErrEmailTaken},
		{"username taken", users.Update{Username: ptr("aLICE")}, users.ErrUsernameTaken},
		{"username taken, other fields too", users.Update{Username: ptr("alice"), IsSuperuser: ptr(true)}, users.ErrUsernameTaken},
	}
	for _, c := range updates {
		if _, err := s.UpdateUser(ctx, bob.ID, c.upd); !errors.Is(err, c.want) {
			t.Errorf("UpdateUser %s = %v, want %v", c.name, err, c.want)
		}
	}
	// A refused update changes nothing.
	got, err := s.UserByID(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, got, bob)
	all, err := s.ListUsers(ctx, 0, 100)
	if err != nil || len(all) != 2 {
		t.Errorf("after refused writes ListUsers = %d users, %v; want 2", len(all), err)
	}
}

func testUsersConcurrentCreate(t *testing.T, s storage.Store) {
	const n = 20
	cases := []struct {
		name string
		user func(i int) *users.User
		want error
	}{
		{"same username", func(i int) *users.User {
			names := []string{"racer", "Racer", "RACER"}
			return &users.User{Email: fmt.Sprintf("racer%d@example.com", i), Username: names[i%len(names)], PasswordHash: "h", IsActive: true}
		}, users.ErrUsernameTaken},
		{"same email", func(i int) *users.User {
			emails := []string{"race@example.com", "Race@Example.com"}
			return &users.User{Email: emails[i%len(emails)], Username: fmt.Sprintf("emailracer%d", i), PasswordHash: "h", IsActive: true}
		}, users.ErrEmailTaken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxFor(t)
			start := make(chan struct{})
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = s.CreateUser(ctx, c.user(i))
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, c.want):
				default:
					t.Errorf("CreateUser #%d = %v, want nil or %v", i, err, c.want)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent CreateUser calls succeeded, want exactly 1", ok, n)
			}
		})
	}
}

func testUsersVerbatim(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	created := map[string]*users.User{}
	for i, v := range verbatim {
		u := &users.User{
			Email:        fmt.Sprintf("%s.%d@example.com", v.s, i),
			Username:     v.s,
			PasswordHash: v.s,
			IsActive:     true,
		}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Errorf("%s: CreateUser(%q): %v", v.name, v.s, err)
			continue
		}
		created[v.name] = u
	}
	for _, v := range verbatim {
		want := created[v.name]
		if want == nil {
			continue
		}
		byID, err := s.UserByID(ctx, want.ID)
		if err != nil {
			t.Errorf("%s: UserByID: %v", v.name, err)
			continue
		}
		if byID.Username != v.s || byID.PasswordHash != v.s || byID.Email != want.Email {
			t.Errorf("%s: read back username %q, hash %q, email %q; want %q", v.name, byID.Username, byID.PasswordHash, byID.Email, v.s)
		}
		// Lookups match exactly: "%" and "_" are no wildcards.
		byName, err := s.UserByUsername(ctx, v.s)
		if err != nil || byName.ID != want.ID {
			t.Errorf("%s: UserByUsername(%q) = %v, %v; want user %d", v.name, v.s, byName, err, want.ID)
		}
		byEmail, err := s.UserByEmail(ctx, want.Email)
		if err != nil || byEmail.ID != want.ID {
			t.Errorf("%s: UserByEmail(%q) = %v, %v; want user %d", v.name, want.Email, byEmail, err, want.ID)
		}
	}
	// Updating to such values is verbatim too.
	if u := created["korean"]; u != nil {
		got, err := s.UpdateUser(ctx, u.ID, users.Update{Username: ptr("'; DELETE FROM users; --한")})
		if err != nil || got.Username != "'; DELETE FROM users; --한" {
			t.Errorf("UpdateUser to metacharacters = %v, %v", got, err)
		}
	}
	all, err := s.ListUsers(ctx, 0, 100)
	if err != nil || len(all) != len(created) {
		t.Errorf("ListUsers after metacharacters = %d users, %v; want %d (no table dropped, no row lost)", len(all), err, len(created))
	}
}

func testUsersIDsNotReused(t *testing.T, s storage.Store) {
	// A deleted user's id must never go to a new account: access tokens
	// carry the id, and one issued to the deleted user would otherwise log
	// in as the newcomer until it expires.
	ctx := ctxFor(t)
	newUser(t, s, "first")
	last := newUser(t, s, "last")
	if err := s.DeleteUser(ctx, last.ID); err != nil {
		t.Fatal(err)
	}
	next := newUser(t, s, "next")
	if next.ID <= last.ID {
		t.Errorf("user created after deleting user %d got id %d: ids are reused", last.ID, next.ID)
	}
}

func testUsersDeleteCascades(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	exp := time.Now().Add(time.Hour)
	victim := newUser(t, s, "victim")
	other := newUser(t, s, "other")
	vItems := []*items.Item{newItem(t, s, victim.ID, "v1"), newItem(t, s, victim.ID, "v2")}
	oItem := newItem(t, s, other.ID, "o1")
	newSession(t, s, "victim-s1", victim.ID, "h1", exp)
	newSession(t, s, "victim-s2", victim.ID, "h2", exp)
	newSession(t, s, "other-s1", other.ID, "h3", exp)

	if err := s.DeleteUser(ctx, victim.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.UserByID(ctx, victim.ID); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("UserByID(deleted) = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByUsername(ctx, "victim"); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("UserByUsername(deleted) = %v, want ErrNotFound", err)
	}
	for _, it := range vItems {
		if _, err := s.ItemByID(ctx, it.ID); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("item %d of the deleted user: %v, want ErrNotFound", it.ID, err)
		}
	}
	for _, id := range []string{"victim-s1", "victim-s2"} {
		if _, err := s.SessionByID(ctx, id); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("session %s of the deleted user: %v, want ErrSessionNotFound", id, err)
		}
	}
	if ok, err := s.RotateSession(ctx, "victim-s1", "h1", "h1b", exp, time.Now()); ok || err != nil {
		t.Errorf("RotateSession of a deleted user's session = %v, %v; want false, nil", ok, err)
	}
	// The other user keeps everything.
	if _, err := s.UserByID(ctx, other.ID); err != nil {
		t.Errorf("other user: %v", err)
	}
	if _, err := s.ItemByID(ctx, oItem.ID); err != nil {
		t.Errorf("other user's item: %v", err)
	}
	if _, err := s.SessionByID(ctx, "other-s1"); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	list, err := s.ListItems(ctx, 0, 100)
	if err != nil || !slices.Equal(itemIDs(list), []int64{oItem.ID}) {
		t.Errorf("ListItems after delete = %v, %v; want [%d]", itemIDs(list), err, oItem.ID)
	}
	if err := s.DeleteUser(ctx, victim.ID); !errors.Is(err, users.ErrNotFound) {
		t.Errorf("second DeleteUser = %v, want ErrNotFound", err)
	}
}

// ------------------------------------------------------------------ items

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
		{"title", items.Update{Title: ptr("Widget 2")}, func(g *items.Item) bool {
			return g.Title == "Widget 2" && g.Price == 19.99 && sameStringPtr(g.Description, ptr("A useful widget"))
		}},
		{"price", items.Update{Price: ptr(5.5)}, func(g *items.Item) bool {
			return g.Title == "Widget 2" && g.Price == 5.5
		}},
		{"all", items.Update{Title: ptr("W3"), Price: ptr(7.25), Description: ptr("d3"), SetDescription: true}, func(g *items.Item) bool {
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
	if _, err := s.UpdateItem(ctx, it.ID, items.Update{Title: ptr("x")}); !errors.Is(err, items.ErrNotFound) {
		t.Errorf("UpdateItem(deleted) = %v, want ErrNotFound", err)
	}
	for _, id := range []int64{0, -1, math.MinInt64, math.MaxInt64} {
		if _, err := s.ItemByID(ctx, id); !errors.Is(err, items.ErrNotFound) {
			t.Errorf("ItemByID(%d) = %v, want ErrNotFound", id, err)
		}
		if _, err := s.UpdateItem(ctx, id, items.Update{Title: ptr("x")}); !errors.Is(err, items.ErrNotFound) {
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
	if _, err := s.UpdateItem(ctx, ids[0], items.Update{Title: ptr("zzz")}); err != nil {
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
		{"title only keeps nil", items.Update{Title: ptr("thing 2")}, nil},
		{"Description without SetDescription is ignored", items.Update{Description: ptr("ignored")}, nil},
		{"set", items.Update{SetDescription: true, Description: ptr("described")}, ptr("described")},
		{"price only keeps it", items.Update{Price: ptr(3.5)}, ptr("described")},
		{"SetDescription false keeps it", items.Update{SetDescription: false, Description: nil}, ptr("described")},
		{"set to empty string", items.Update{SetDescription: true, Description: ptr("")}, ptr("")},
		{"set again", items.Update{SetDescription: true, Description: ptr("again")}, ptr("again")},
		{"cleared", items.Update{SetDescription: true, Description: nil}, nil},
		{"stays cleared", items.Update{Title: ptr("thing 3")}, nil},
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
		upd, err := s.UpdateItem(ctx, it.ID, items.Update{Title: ptr(v.s + v.s), SetDescription: true, Description: ptr(v.s)})
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
	if _, err := s.UpdateItem(ctx, newItem(t, s, owner.ID, "ok").ID, items.Update{Price: ptr(0.0)}); err == nil || errors.Is(err, items.ErrNotFound) {
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
	uu, err := s.UpdateUser(ctx, created[0].ID, users.Update{Username: ptr("renamed")})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := s.UpdateItem(ctx, it.ID, items.Update{Title: ptr("renamed")})
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

func testSessionsCreateAndGet(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "alice")
	exp := time.Now().In(seoul).Add(7 * 24 * time.Hour)
	newSession(t, s, "sess-1", u.ID, "hash-1", exp)
	got, err := s.SessionByID(ctx, "sess-1")
	if err != nil {
		t.Fatalf("SessionByID: %v", err)
	}
	if got.ID != "sess-1" || got.UserID != u.ID || got.TokenHash != "hash-1" || got.RevokedAt != nil {
		t.Errorf("SessionByID = %+v", *got)
	}
	if d := got.ExpiresAt.Sub(exp); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, exp)
	}
	if got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt location = %q, want UTC", got.ExpiresAt.Location())
	}
	for _, id := range []string{"", "sess-2", "SESS-1", "'; DROP TABLE refresh_sessions; --", "%"} {
		if _, err := s.SessionByID(ctx, id); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("SessionByID(%q) = %v, want ErrSessionNotFound", id, err)
		}
	}
	if err := s.CreateSession(ctx, &auth.Session{ID: "sess-1", UserID: u.ID, TokenHash: "other", ExpiresAt: exp}); err == nil {
		t.Errorf("CreateSession with a duplicate id succeeded")
	}
	if err := s.CreateSession(ctx, &auth.Session{ID: "orphan", UserID: math.MaxInt64, TokenHash: "h", ExpiresAt: exp}); err == nil {
		t.Errorf("CreateSession for an unknown user succeeded")
	}
	if got, _ := s.SessionByID(ctx, "sess-1"); got == nil || got.TokenHash != "hash-1" {
		t.Errorf("a refused CreateSession changed the session: %+v", got)
	}
}

func testSessionsRotate(t *testing.T, s storage.Store) {
	u := newUser(t, s, "alice")
	base := time.Now().UTC().Truncate(time.Millisecond)
	exp := base.Add(time.Hour)
	newExp := base.Add(2 * time.Hour)
	cases := []struct {
		name    string
		prepare func(t *testing.T, ctx context.Context, id string) // run before the rotation
		id      string                                             // defaults to the session's id
		oldHash string
		now     time.Time
		want    bool
	}{
		{name: "current hash", oldHash: "old", now: base, want: true},
		{name: "current hash, now in another zone", oldHash: "old", now: base.In(seoul), want: true},
		{name: "just before expiry", oldHash: "old", now: exp.Add(-time.Second), want: true},
		{name: "just before expiry, another zone", oldHash: "old", now: exp.Add(-time.Second).In(seoul), want: true},
		{name: "at expiry", oldHash: "old", now: exp, want: false},
		{name: "after expiry", oldHash: "old", now: exp.Add(time.Second), want: false},
		{name: "after expiry, another zone", oldHash: "old", now: exp.Add(time.Second).In(seoul), want: false},
		{name: "long after expiry", oldHash: "old", now: exp.Add(365 * 24 * time.Hour), want: false},
		{name: "wrong hash", oldHash: "not-the-hash", now: base, want: false},
		{name: "hash in another case", oldHash: "OLD", now: base, want: false},
		{name: "unknown session", id: "no-such-session", oldHash: "old", now: base, want: false},
		{name: "revoked", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, id string) {
			if err := s.RevokeSession(ctx, id, base.Add(-time.Minute)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "revoked in the future", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, id string) {
			// revoked_at is a marker, not a deadline: revoked is revoked.
			if err := s.RevokeSession(ctx, id, base.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "all user sessions revoked", oldHash: "old", now: base, want: false, prepare: func(t *testing.T, ctx context.Context, _ string) {
			if err := s.RevokeUserSessions(ctx, u.ID, base); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := ctxFor(t)
			sid := fmt.Sprintf("rotate-%d", i)
			newSession(t, s, sid, u.ID, "old", exp)
			if c.prepare != nil {
				c.prepare(t, ctx, sid)
			}
			id := sid
			if c.id != "" {
				id = c.id
			}
			ok, err := s.RotateSession(ctx, id, c.oldHash, "new", newExp, c.now)
			if err != nil {
				t.Fatalf("RotateSession: %v", err)
			}
			if ok != c.want {
				t.Fatalf("RotateSession = %v, want %v", ok, c.want)
			}
			got, err := s.SessionByID(ctx, sid)
			if err != nil {
				t.Fatal(err)
			}
			wantHash, wantExp := "old", exp
			if c.want {
				wantHash, wantExp = "new", newExp
			}
			if got.TokenHash != wantHash || !got.ExpiresAt.Equal(wantExp) {
				t.Errorf("after RotateSession: hash %q, expires %v; want %q, %v", got.TokenHash, got.ExpiresAt, wantHash, wantExp)
			}
			if !c.want {
				return
			}
			// The old hash is spent; the new one rotates on.
			if ok, err := s.RotateSession(ctx, sid, "old", "newer", newExp, c.now); ok || err != nil {
				t.Errorf("RotateSession with the spent hash = %v, %v; want false", ok, err)
			}
			if ok, err := s.RotateSession(ctx, sid, "new", "newer", newExp, c.now); !ok || err != nil {
				t.Errorf("RotateSession with the new hash = %v, %v; want true", ok, err)
			}
		})
	}
}

func testSessionsConcurrentRotate(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "alice")
	now := time.Now()
	newSession(t, s, "contested", u.ID, "old", now.Add(time.Hour))
	const n = 20
	oks := make([]bool, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			oks[i], errs[i] = s.RotateSession(ctx, "contested", "old", fmt.Sprintf("new-%d", i), now.Add(2*time.Hour), now)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i := range n {
		if errs[i] != nil {
			t.Errorf("RotateSession #%d: %v", i, errs[i])
		}
		if oks[i] {
			if winner >= 0 {
				t.Errorf("RotateSession #%d and #%d both succeeded with the same old hash", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatalf("no concurrent RotateSession succeeded")
	}
	got, err := s.SessionByID(ctx, "contested")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("new-%d", winner); got.TokenHash != want {
		t.Errorf("token hash = %q, want the winner's %q", got.TokenHash, want)
	}
}

func testSessionsRevoke(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	alice, bob := newUser(t, s, "alice"), newUser(t, s, "bob")
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"a1", "a2", "a3"} {
		newSession(t, s, id, alice.ID, "h-"+id, exp)
	}
	newSession(t, s, "b1", bob.ID, "h-b1", exp)

	revokedAt := time.Now().In(seoul)
	if err := s.RevokeSession(ctx, "a1", revokedAt); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	got, err := s.SessionByID(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.RevokedAt == nil {
		t.Fatalf("RevokedAt is nil after RevokeSession")
	}
	if d := got.RevokedAt.Sub(revokedAt); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("RevokedAt = %v, want %v", got.RevokedAt, revokedAt)
	}
	if got.RevokedAt.Location() != time.UTC {
		t.Errorf("RevokedAt location = %q, want UTC", got.RevokedAt.Location())
	}
	// Revoking again keeps the first time; an unknown id is no error.
	if err := s.RevokeSession(ctx, "a1", revokedAt.Add(time.Hour)); err != nil {
		t.Errorf("second RevokeSession: %v", err)
	}
	if again, _ := s.SessionByID(ctx, "a1"); again == nil || again.RevokedAt == nil || !again.RevokedAt.Equal(*got.RevokedAt) {
		t.Errorf("second RevokeSession moved RevokedAt from %v to %+v", got.RevokedAt, again)
	}
	if err := s.RevokeSession(ctx, "no-such-session", revokedAt); err != nil {
		t.Errorf("RevokeSession(unknown) = %v, want nil", err)
	}
	if live, _ := s.SessionByID(ctx, "a2"); live == nil || live.RevokedAt != nil {
		t.Errorf("RevokeSession(a1) touched a2: %+v", live)
	}

	if err := s.RevokeUserSessions(ctx, alice.ID, time.Now()); err != nil {
		t.Fatalf("RevokeUserSessions: %v", err)
	}
	for _, id := range []string{"a1", "a2", "a3"} {
		sess, err := s.SessionByID(ctx, id)
		if err != nil || sess.RevokedAt == nil {
			t.Errorf("session %s after RevokeUserSessions = %+v, %v; want revoked", id, sess, err)
		}
		if ok, err := s.RotateSession(ctx, id, "h-"+id, "x", exp, time.Now()); ok || err != nil {
			t.Errorf("RotateSession(%s) after RevokeUserSessions = %v, %v; want false", id, ok, err)
		}
	}
	if a1, _ := s.SessionByID(ctx, "a1"); a1 == nil || a1.RevokedAt == nil || !a1.RevokedAt.Equal(*got.RevokedAt) {
		t.Errorf("RevokeUserSessions moved a1's earlier RevokedAt: %+v", a1)
	}
	b1, err := s.SessionByID(ctx, "b1")
	if err != nil || b1.RevokedAt != nil {
		t.Errorf("bob's session after RevokeUserSessions(alice) = %+v, %v; want live", b1, err)
	}
	if ok, err := s.RotateSession(ctx, "b1", "h-b1", "h-b1-2", exp, time.Now()); !ok || err != nil {
		t.Errorf("RotateSession(bob) = %v, %v; want true", ok, err)
	}
	if err := s.RevokeUserSessions(ctx, math.MaxInt64, time.Now()); err != nil {
		t.Errorf("RevokeUserSessions(unknown user) = %v, want nil", err)
	}
}

// ------------------------------------------------------------- migrations

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
