package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMe(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, id := e.user(t, "frank")
		e.register(t, "grace")

		me := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token}).JSON(t)
		if me["id"] != float64(id) || me["username"] != "frank" || me["email"] != "frank@example.com" {
			t.Errorf("me = %v", me)
		}
		created, err := time.Parse(time.RFC3339Nano, me["created_at"].(string))
		if err != nil || time.Since(created) > time.Minute || !strings.HasSuffix(me["created_at"].(string), "Z") {
			t.Errorf("created_at %v is not a recent RFC 3339 UTC time: %v", me["created_at"], err)
		}
		for _, secret := range []string{"hashed_password", "password"} {
			if _, ok := me[secret]; ok {
				t.Errorf("%s in response", secret)
			}
		}

		cases := []struct {
			name   string
			body   any
			status int
			detail string
		}{
			{"username taken", map[string]any{"username": "grace"}, 400, "Username already taken"},
			{"username taken, other case", map[string]any{"username": "GRACE"}, 400, "Username already taken"},
			{"email taken", map[string]any{"email": "grace@example.com"}, 400, "Email already registered"},
			{"null username", map[string]any{"username": nil}, 422, "body.username"},
			{"null email", map[string]any{"email": nil}, 422, "body.email"},
			{"short username", map[string]any{"username": "a"}, 422, "body.username"},
			{"long username", map[string]any{"username": strings.Repeat("a", 51)}, 422, "body.username"},
			{"bad email", map[string]any{"email": "nope"}, 422, "body.email"},
			{"wrong type", map[string]any{"username": 5}, 422, "body.username"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := e.expect(t, tc.status, request{Method: "PUT", Path: "/users/me", Token: token, JSON: tc.body})
				if d := res.Detail(t); !strings.Contains(d, tc.detail) {
					t.Errorf("detail %q does not mention %q", d, tc.detail)
				}
			})
		}
		// Nothing of the failed updates was written.
		me = e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token}).JSON(t)
		if me["username"] != "frank" || me["email"] != "frank@example.com" {
			t.Errorf("a failed update was written: %v", me)
		}

		t.Run("rename keeps the token valid", func(t *testing.T) {
			u := e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/users/me", Token: token, JSON: map[string]any{"username": "frankie"}}).JSON(t)
			if u["username"] != "frankie" || u["email"] != "frank@example.com" {
				t.Errorf("after rename: %v", u)
			}
			// sub is the user id, so the old token still names this user.
			me := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token}).JSON(t)
			if me["username"] != "frankie" {
				t.Errorf("me after rename = %v", me)
			}
			e.expect(t, http.StatusOK, loginRequest("frankie", "password123"))
		})
		t.Run("privilege fields are ignored", func(t *testing.T) {
			u := e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/users/me", Token: token, JSON: map[string]any{"is_superuser": true, "is_active": false}}).JSON(t)
			if u["is_superuser"] != false || u["is_active"] != true {
				t.Errorf("privilege fields were honoured: %v", u)
			}
		})
		t.Run("unauthenticated", func(t *testing.T) {
			e.expect(t, http.StatusUnauthorized, request{Method: "PUT", Path: "/users/me", JSON: map[string]any{"username": "x"}})
		})
	})
}

func TestUsersAdministration(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		admin, adminID := e.superuser(t, "admin")
		token, id := e.user(t, "heidi")
		_, otherID := e.user(t, "ivan")

		t.Run("list is for superusers", func(t *testing.T) {
			if d := e.expect(t, http.StatusForbidden, request{Method: "GET", Path: "/users", Token: token}).Detail(t); d != "Not enough permissions" {
				t.Errorf("detail %q", d)
			}
			list := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/", Token: admin}).List(t)
			if len(list) != 3 || list[0]["id"] != float64(adminID) || list[1]["id"] != float64(id) {
				t.Errorf("list = %v", list)
			}
			page := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users?skip=1&limit=1", Token: admin}).List(t)
			if len(page) != 1 || page[0]["id"] != float64(id) {
				t.Errorf("page = %v", page)
			}
			for _, q := range []string{"limit=0", "limit=101", "skip=-1", "limit=abc", "skip=99999999999999999999"} {
				e.expect(t, http.StatusUnprocessableEntity, request{Method: "GET", Path: "/users?" + q, Token: admin})
			}
		})
		t.Run("a user reads itself, not others", func(t *testing.T) {
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/" + itoa(id), Token: token})
			e.expect(t, http.StatusForbidden, request{Method: "GET", Path: "/users/" + itoa(otherID), Token: token})
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/" + itoa(otherID), Token: admin})
			if d := e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/users/987654", Token: admin}).Detail(t); d != "User not found" {
				t.Errorf("detail %q", d)
			}
			e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/users/9223372036854775807", Token: admin})
			e.expect(t, http.StatusUnprocessableEntity, request{Method: "GET", Path: "/users/9223372036854775808", Token: admin})
		})
		t.Run("promote and demote", func(t *testing.T) {
			e.expect(t, http.StatusForbidden, request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: token, JSON: map[string]any{"is_superuser": true}})
			u := e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(id), Token: admin, JSON: map[string]any{"is_superuser": true}}).JSON(t)
			if u["is_superuser"] != true {
				t.Fatalf("not promoted: %v", u)
			}
			// Takes effect on the very next request with the same token.
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users", Token: token})
			e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(id), Token: admin, JSON: map[string]any{"is_superuser": false}})
			e.expect(t, http.StatusForbidden, request{Method: "GET", Path: "/users", Token: token})
		})
		t.Run("admin edits fields", func(t *testing.T) {
			u := e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: admin, JSON: map[string]any{"username": "ivan2", "email": "ivan2@example.com"}}).JSON(t)
			if u["username"] != "ivan2" || u["email"] != "ivan2@example.com" {
				t.Errorf("patched = %v", u)
			}
			e.expect(t, http.StatusBadRequest, request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: admin, JSON: map[string]any{"username": "heidi"}})
			e.expect(t, http.StatusUnprocessableEntity, request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: admin, JSON: map[string]any{"is_active": "yes"}})
			e.expect(t, http.StatusUnprocessableEntity, request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: admin, JSON: map[string]any{"is_active": nil}})
			e.expect(t, http.StatusNotFound, request{Method: "PATCH", Path: "/users/987654", Token: admin, JSON: map[string]any{"is_active": true}})
		})
		t.Run("a superuser cannot lock itself out", func(t *testing.T) {
			for _, body := range []map[string]any{{"is_superuser": false}, {"is_active": false}} {
				e.expect(t, http.StatusForbidden, request{Method: "PATCH", Path: "/users/" + itoa(adminID), Token: admin, JSON: body})
			}
			e.expect(t, http.StatusForbidden, request{Method: "DELETE", Path: "/users/" + itoa(adminID), Token: admin})
			e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users", Token: admin})
		})
		t.Run("delete removes the user and their items", func(t *testing.T) {
			victim, victimID := e.user(t, "judy")
			item := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: victim, JSON: map[string]any{"title": "lamp", "price": 3}}).JSON(t)
			e.expect(t, http.StatusForbidden, request{Method: "DELETE", Path: "/users/" + itoa(victimID), Token: token})
			e.expect(t, http.StatusNoContent, request{Method: "DELETE", Path: "/users/" + itoa(victimID), Token: admin})
			e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/users/" + itoa(victimID), Token: admin})
			e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/items/" + itoa(int64(item["id"].(float64)))})
			e.expect(t, http.StatusNotFound, request{Method: "DELETE", Path: "/users/" + itoa(victimID), Token: admin})
		})
	})
}
