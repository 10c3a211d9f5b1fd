package storetest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/storage"
	"myapi/internal/users"
)

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
		if _, err := s.UpdateUser(ctx, id, users.Update{Username: patch.Value("zed")}); !errors.Is(err, users.ErrNotFound) {
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
		{"email", users.Update{Email: patch.Value("New.Alice@example.org")}, func(u *users.User) bool {
			return u.Email == "New.Alice@example.org" && u.Username == "alice"
		}},
		{"username", users.Update{Username: patch.Value("Alicia")}, func(u *users.User) bool {
			return u.Username == "Alicia" && u.Email == "New.Alice@example.org"
		}},
		{"own username in another case", users.Update{Username: patch.Value("ALICIA")}, func(u *users.User) bool {
			return u.Username == "ALICIA"
		}},
		{"own email in another case", users.Update{Email: patch.Value("new.alice@EXAMPLE.org")}, func(u *users.User) bool {
			return u.Email == "new.alice@EXAMPLE.org"
		}},
		{"password", users.Update{PasswordHash: patch.Value("$2a$04$new")}, func(u *users.User) bool {
			return u.PasswordHash == "$2a$04$new" && u.Username == "ALICIA"
		}},
		{"deactivate", users.Update{IsActive: patch.Value(false)}, func(u *users.User) bool {
			return !u.IsActive && !u.IsSuperuser
		}},
		{"promote", users.Update{IsSuperuser: patch.Value(true)}, func(u *users.User) bool {
			return !u.IsActive && u.IsSuperuser
		}},
		{"everything", users.Update{
			Email: patch.Value("a@b.co"), Username: patch.Value("al"), PasswordHash: patch.Value("h"), IsActive: patch.Value(true), IsSuperuser: patch.Value(false),
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
		{"email taken", users.Update{Email: patch.Value("alice@EXAMPLE.com")}, users.ErrEmailTaken},
		{"username taken", users.Update{Username: patch.Value("aLICE")}, users.ErrUsernameTaken},
		{"username taken, other fields too", users.Update{Username: patch.Value("alice"), IsSuperuser: patch.Value(true)}, users.ErrUsernameTaken},
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
		got, err := s.UpdateUser(ctx, u.ID, users.Update{Username: patch.Value("'; DELETE FROM users; --한")})
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
