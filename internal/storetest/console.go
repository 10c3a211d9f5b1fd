package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"myapi/internal/admin"
	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/storage"
	"myapi/internal/users"
)

func testUsersSearch(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	alice := newUser(t, s, "Alice")
	alfred := newUser(t, s, "alfred")
	bob := newUser(t, s, "bob")
	// bob's email starts with "al" too.
	mail := "al.bob@example.org"
	if _, err := s.UpdateUser(ctx, bob.ID, users.Update{Email: patch.Value(mail)}); err != nil {
		t.Fatal(err)
	}
	carol := newSuperuser(t, s, "carol")
	if _, err := s.UpdateUser(ctx, alfred.ID, users.Update{IsActive: patch.Value(false)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    users.Query
		want []int64
	}{
		{"all, newest first", users.Query{}, []int64{carol.ID, bob.ID, alfred.ID, alice.ID}},
		{"oldest first", users.Query{Sort: users.SortOldest}, []int64{alice.ID, alfred.ID, bob.ID, carol.ID}},
		{"by username", users.Query{Sort: users.SortUsername}, []int64{alfred.ID, alice.ID, bob.ID, carol.ID}},
		{"prefix of username or email, any case", users.Query{Prefix: "AL", Sort: users.SortOldest}, []int64{alice.ID, alfred.ID, bob.ID}},
		{"longer prefix", users.Query{Prefix: "ali"}, []int64{alice.ID}},
		{"no match", users.Query{Prefix: "zz"}, nil},
		{"wildcards are literal", users.Query{Prefix: "%"}, nil},
		{"inactive", users.Query{Active: ptr(false)}, []int64{alfred.ID}},
		{"active superusers", users.Query{Active: ptr(true), Superuser: ptr(true)}, []int64{carol.ID}},
		{"prefix and filter", users.Query{Prefix: "al", Active: ptr(true), Sort: users.SortOldest}, []int64{alice.ID, bob.ID}},
		{"page 2", users.Query{Sort: users.SortOldest, Offset: 1, Limit: 2}, []int64{alfred.ID, bob.ID}},
		{"prefix, page 2", users.Query{Prefix: "al", Sort: users.SortOldest, Offset: 1, Limit: 1}, []int64{alfred.ID}},
		{"prefix by username, page 2", users.Query{Prefix: "al", Sort: users.SortUsername, Offset: 1, Limit: 2}, []int64{alice.ID, bob.ID}},
		{"prefix matching username and email once", users.Query{Prefix: "alice"}, []int64{alice.ID}},
	}
	for _, tc := range tests {
		if tc.q.Limit == 0 {
			tc.q.Limit = 50
		}
		got, err := s.SearchUsers(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: SearchUsers: %v", tc.name, err)
		}
		if ids := userIDs(got); !slices.Equal(ids, tc.want) && len(ids)+len(tc.want) > 0 {
			t.Errorf("%s: SearchUsers(%+v) = %v, want %v", tc.name, tc.q, ids, tc.want)
		}
	}
}

func testItemsSearch(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	a, b := newUser(t, s, "owner-a"), newUser(t, s, "owner-b")
	lamp := newItem(t, s, a.ID, "Lamp")
	lampshade := newItem(t, s, b.ID, "lampshade")
	table := newItem(t, s, a.ID, "Table lamp")
	tests := []struct {
		name string
		q    items.Query
		want []int64
	}{
		{"all, newest first", items.Query{}, []int64{table.ID, lampshade.ID, lamp.ID}},
		{"title prefix, any case", items.Query{TitlePrefix: "LAMP"}, []int64{lampshade.ID, lamp.ID}},
		{"prefix is not a substring", items.Query{TitlePrefix: "lamp "}, nil},
		{"owner", items.Query{OwnerID: a.ID}, []int64{table.ID, lamp.ID}},
		{"owner and prefix", items.Query{OwnerID: a.ID, TitlePrefix: "lamp"}, []int64{lamp.ID}},
		{"page", items.Query{Offset: 1, Limit: 1}, []int64{lampshade.ID}},
	}
	for _, tc := range tests {
		if tc.q.Limit == 0 {
			tc.q.Limit = 50
		}
		got, err := s.SearchItems(ctx, tc.q)
		if err != nil {
			t.Fatalf("%s: SearchItems: %v", tc.name, err)
		}
		if ids := itemIDs(got); !slices.Equal(ids, tc.want) && len(ids)+len(tc.want) > 0 {
			t.Errorf("%s: SearchItems(%+v) = %v, want %v", tc.name, tc.q, ids, tc.want)
		}
	}
}

func testUserSessions(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u, other := newUser(t, s, "sessions-owner"), newUser(t, s, "someone-else")
	now := time.Now().UTC()
	newSession(t, s, "live-later", u.ID, "h1", now.Add(2*time.Hour))
	newSession(t, s, "live-sooner", u.ID, "h2", now.Add(time.Hour))
	newSession(t, s, "expired", u.ID, "h3", now.Add(-time.Minute))
	newSession(t, s, "revoked", u.ID, "h4", now.Add(time.Hour))
	newSession(t, s, "not-theirs", other.ID, "h5", now.Add(time.Hour))
	if err := s.RevokeSession(ctx, "revoked", now); err != nil {
		t.Fatal(err)
	}
	list, err := s.UserSessions(ctx, u.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, sess := range list {
		ids = append(ids, sess.ID)
	}
	if want := []string{"live-later", "live-sooner"}; !slices.Equal(ids, want) {
		t.Errorf("UserSessions = %v, want %v", ids, want)
	}
}

func testConsoleSessions(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newSuperuser(t, s, "console-admin")
	now := time.Now().UTC().Truncate(time.Second)
	sess := &admin.Session{SecretHash: "hash-1", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(8 * time.Hour)}
	if err := s.CreateConsoleSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsoleSession(ctx, "hash-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != u.ID || !got.ExpiresAt.Equal(sess.ExpiresAt) || !got.LastSeenAt.Equal(now) || got.ExpiresAt.Location() != time.UTC {
		t.Errorf("ConsoleSession = %+v, want %+v in UTC", got, sess)
	}
	later := now.Add(time.Minute)
	if err := s.TouchConsoleSession(ctx, "hash-1", later); err != nil {
		t.Fatal(err)
	}
	if got, err = s.ConsoleSession(ctx, "hash-1"); err != nil || !got.LastSeenAt.Equal(later) {
		t.Errorf("after Touch: %+v, %v; want LastSeenAt %v", got, err, later)
	}
	if _, err := s.ConsoleSession(ctx, "no-such-hash"); !errors.Is(err, admin.ErrSessionNotFound) {
		t.Errorf("unknown hash: %v, want ErrSessionNotFound", err)
	}
	if err := s.DeleteConsoleSession(ctx, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsoleSession(ctx, "hash-1"); !errors.Is(err, admin.ErrSessionNotFound) {
		t.Errorf("after Delete: %v, want ErrSessionNotFound", err)
	}
	for i := range 2 {
		sess := &admin.Session{SecretHash: fmt.Sprint("many-", i), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateConsoleSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteUserConsoleSessions(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if _, err := s.ConsoleSession(ctx, fmt.Sprint("many-", i)); !errors.Is(err, admin.ErrSessionNotFound) {
			t.Errorf("after DeleteUserConsoleSessions: session %d: %v", i, err)
		}
	}
}

func testAuditLog(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	var ids []int64
	for i := range 3 {
		e := &admin.Entry{At: now, ActorID: 7, ActorUsername: "root", Action: fmt.Sprint("user.action", i),
			TargetType: "user", TargetID: int64(i), Detail: "d", RequestID: "req"}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	list, err := s.ListAudit(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[1] {
		t.Fatalf("ListAudit(0, 2) = %d entries, want the newest two (%v)", len(list), ids[1:])
	}
	e := list[0]
	if e.Action != "user.action2" || e.ActorUsername != "root" || e.TargetID != 2 || e.RequestID != "req" || !e.At.Equal(now) {
		t.Errorf("entry = %+v", e)
	}
	older, err := s.ListAudit(ctx, ids[1], 10)
	if err != nil || len(older) != 1 || older[0].ID != ids[0] {
		t.Errorf("ListAudit(before %d) = %v, %v; want entry %d", ids[1], older, err, ids[0])
	}
}

func testCountRows(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	u := newUser(t, s, "counted")
	newItem(t, s, u.ID, "one")
	newItem(t, s, u.ID, "two")
	c, err := s.CountRows(ctx)
	if err != nil || c != (admin.Counts{Users: 1, Items: 2}) {
		t.Errorf("CountRows = %+v, %v; want 1 user, 2 items", c, err)
	}
}
