package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"myapi/internal/redisconn/redistest"
	"myapi/internal/testdb"
)

// Two instances sharing one database and one Redis (a private redis-server
// this test starts): a write through A is read fresh through B, a user's
// deletion takes their cached items with it, and a rate limit counts the
// requests to both.
func TestInstancesShareRedis(t *testing.T) {
	redisSrv := redistest.StartServer(t)
	engine := testdb.Engines(t)[0]
	env := baseSettings(engine.URL(t)).with(
		"REDIS_URL", redisSrv.URL(),
		"SECRET_KEY", "shared-secret-for-both-instances-0123456789",
		"RATE_LIMIT_PER_MINUTE", "1000",
		"LOGIN_RATE_LIMIT_PER_MINUTE", "4",
		"FIRST_SUPERUSER_EMAIL", "root@example.com",
		"FIRST_SUPERUSER_USERNAME", "root",
		"FIRST_SUPERUSER_PASSWORD", "root-password",
	)
	a := start(t, env)
	b := start(t, env)
	admin := login(t, a.URL, "root", "root-password")

	status, body := call(t, http.MethodPost, a.URL+"/auth/register", "application/json", "",
		strings.NewReader(`{"email":"owner@example.com","username":"owner","password":"owner-password"}`))
	if status != http.StatusCreated {
		t.Fatalf("register: %d %s", status, body)
	}
	owner := decode[struct {
		ID int64 `json:"id"`
	}](t, body)
	token := login(t, b.URL, "owner", "owner-password")

	status, body = call(t, http.MethodPost, a.URL+"/items", "application/json", token, strings.NewReader(`{"title":"lamp","price":3}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	item := decode[struct {
		ID int64 `json:"id"`
	}](t, body)
	itemURL := fmt.Sprintf("/items/%d", item.ID)

	get := func(in *instance, path string) (int, string, string) {
		t.Helper()
		res, err := client.Get(in.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("X-Cache"), string(b)
	}
	// Fill B's view of the shared cache, then change the item through A.
	get(b, itemURL)
	if _, xcache, _ := get(b, itemURL); xcache != "HIT" {
		t.Errorf("second read through B: X-Cache %q, want HIT", xcache)
	}
	status, body = call(t, http.MethodPut, a.URL+itemURL, "application/json", token, strings.NewReader(`{"title":"brass lamp"}`))
	if status != http.StatusOK {
		t.Fatalf("update: %d %s", status, body)
	}
	if _, _, got := get(b, itemURL); !strings.Contains(got, "brass") {
		t.Errorf("B read %s after A's update", got)
	}

	// Deleting the owner through A removes the item everywhere at once.
	get(b, itemURL)
	if status, body := call(t, http.MethodDelete, fmt.Sprintf("%s/users/%d", a.URL, owner.ID), "", admin, nil); status != http.StatusNoContent {
		t.Fatalf("delete user: %d %s", status, body)
	}
	if status, _, _ := get(b, itemURL); status != http.StatusNotFound {
		t.Errorf("B still serves the deleted user's item: %d", status)
	}

	// The login limit (4 a minute per IP) counts attempts to both: this
	// client has made 3 so far (root's login and the registration on A,
	// owner's login on B). Counted per instance, A would allow 2 more and B
	// 3 more; counted together, one more and then 429s on both.
	var statuses []int
	for i := range 6 {
		in := a
		if i%2 == 1 {
			in = b
		}
		s, _ := call(t, http.MethodPost, in.URL+"/auth/login", "application/x-www-form-urlencoded", "", strings.NewReader("username=nobody&password=wrong-password"))
		statuses = append(statuses, s)
	}
	if fmt.Sprint(statuses) != "[401 429 429 429 429 429]" {
		t.Errorf("login attempts alternating A, B: %v, want one 401 then 429s", statuses)
	}
}
