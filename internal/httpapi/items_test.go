package httpapi_test

import (
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"myapi/internal/httpapi"
	"myapi/internal/items"
)

func TestItemsCRUD(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		owner, ownerID := e.user(t, "kim")
		other, _ := e.user(t, "leo")
		admin, _ := e.superuser(t, "admin")

		created := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: owner, JSON: map[string]any{"title": "Lamp", "description": "brass", "price": 49.5}}).JSON(t)
		id := itoa(int64(created["id"].(float64)))
		if created["title"] != "Lamp" || created["description"] != "brass" || created["price"] != 49.5 || created["owner_id"] != float64(ownerID) {
			t.Errorf("created = %v", created)
		}
		got := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items/" + id}).JSON(t)
		if got["title"] != "Lamp" {
			t.Errorf("got = %v", got)
		}
		e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items/", Token: owner, JSON: map[string]any{"title": "No description", "price": 1}})

		t.Run("both list paths answer without a redirect", func(t *testing.T) {
			for _, p := range []string{"/items", "/items/"} {
				list := e.expect(t, http.StatusOK, request{Method: "GET", Path: p}).List(t)
				if len(list) != 2 || list[1]["description"] != nil {
					t.Errorf("%s = %v", p, list)
				}
			}
		})
		t.Run("partial update", func(t *testing.T) {
			u := e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + id, Token: owner, JSON: map[string]any{"price": 10}}).JSON(t)
			if u["price"] != float64(10) || u["title"] != "Lamp" || u["description"] != "brass" {
				t.Errorf("after price update = %v", u)
			}
			u = e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + id, Token: owner, JSON: map[string]any{"description": nil}}).JSON(t)
			if u["description"] != nil || u["title"] != "Lamp" {
				t.Errorf("after clearing description = %v", u)
			}
			u = e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + id, Token: owner, JSON: map[string]any{}}).JSON(t)
			if u["title"] != "Lamp" || u["price"] != float64(10) {
				t.Errorf("after empty update = %v", u)
			}
		})
		t.Run("bad updates write nothing", func(t *testing.T) {
			for _, body := range []map[string]any{
				{"title": nil}, {"price": nil}, {"title": ""}, {"title": strings.Repeat("t", 201)},
				{"price": 0}, {"price": -1}, {"price": "ten"}, {"title": "ok", "price": -5},
			} {
				e.expect(t, http.StatusUnprocessableEntity, request{Method: "PUT", Path: "/items/" + id, Token: owner, JSON: body})
			}
			e.expect(t, http.StatusBadRequest, request{Method: "PUT", Path: "/items/" + id, Token: owner, Body: `{"price": Infinity}`, ContentType: "application/json"})
			got := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items/" + id}).JSON(t)
			if got["title"] != "Lamp" || got["price"] != float64(10) {
				t.Errorf("a rejected update was written: %v", got)
			}
		})
		t.Run("only the owner or a superuser may change it", func(t *testing.T) {
			if d := e.expect(t, http.StatusForbidden, request{Method: "PUT", Path: "/items/" + id, Token: other, JSON: map[string]any{"title": "mine"}}).Detail(t); d != "Not enough permissions" {
				t.Errorf("detail %q", d)
			}
			e.expect(t, http.StatusForbidden, request{Method: "DELETE", Path: "/items/" + id, Token: other})
			e.expect(t, http.StatusUnauthorized, request{Method: "PUT", Path: "/items/" + id, JSON: map[string]any{"title": "anon"}})
			e.expect(t, http.StatusUnauthorized, request{Method: "DELETE", Path: "/items/" + id})
			e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + id, Token: admin, JSON: map[string]any{"title": "Moderated"}})
		})
		t.Run("delete", func(t *testing.T) {
			e.expect(t, http.StatusNoContent, request{Method: "DELETE", Path: "/items/" + id, Token: owner})
			if d := e.expect(t, http.StatusNotFound, request{Method: "GET", Path: "/items/" + id}).Detail(t); d != "Item not found" {
				t.Errorf("detail %q", d)
			}
			e.expect(t, http.StatusNotFound, request{Method: "DELETE", Path: "/items/" + id, Token: owner})
			e.expect(t, http.StatusNotFound, request{Method: "PUT", Path: "/items/" + id, Token: owner, JSON: map[string]any{"title": "x"}})
		})
	})
}

func TestItemsBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, _ := e.user(t, "mia")
		cases := []struct {
			name   string
			body   string
			status int
		}{
			{"malformed JSON", `{"title": "x", "price": `, 400},
			{"Infinity", `{"title": "x", "price": Infinity}`, 400},
			{"NaN", `{"title": "x", "price": NaN}`, 400},
			{"huge number", `{"title": "x", "price": 1e999}`, 400},
			{"zero price", `{"title": "x", "price": 0}`, 422},
			{"negative price", `{"title": "x", "price": -0.01}`, 422},
			{"price as string", `{"title": "x", "price": "1"}`, 422},
			{"missing price", `{"title": "x"}`, 422},
			{"empty title", `{"title": "", "price": 1}`, 422},
			{"long title", `{"title": "` + strings.Repeat("t", 201) + `", "price": 1}`, 422},
			{"null title", `{"title": null, "price": 1}`, 422},
			{"title as number", `{"title": 5, "price": 1}`, 422},
			{"NUL in title", `{"title": "a\u0000b", "price": 1}`, 422},
			{"not an object", `"just a string"`, 422},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				e.expect(t, tc.status, request{Method: "POST", Path: "/items", Token: token, Body: tc.body, ContentType: "application/json"})
			})
		}
		if list := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items"}).List(t); len(list) != 0 {
			t.Errorf("rejected items were stored: %v", list)
		}

		t.Run("unicode and SQL metacharacters are stored verbatim", func(t *testing.T) {
			for _, title := range []string{"한국어 제목 🎉", "'; DROP TABLE items; --", `100% _off_ \ "quoted"`, "Robert'); DELETE FROM users;--"} {
				desc := "줄\n바꿈\ttab " + title
				created := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": title, "description": desc, "price": 1.25}}).JSON(t)
				got := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items/" + itoa(int64(created["id"].(float64)))}).JSON(t)
				if got["title"] != title || got["description"] != desc {
					t.Errorf("stored %q/%q, read %q/%q", title, desc, got["title"], got["description"])
				}
			}
		})
		t.Run("paging", func(t *testing.T) {
			all := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items?limit=100"}).List(t)
			for i := 1; i < len(all); i++ {
				if all[i]["id"].(float64) <= all[i-1]["id"].(float64) {
					t.Errorf("list is not ordered by id: %v", all)
				}
			}
			if page := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items?skip=1&limit=2"}).List(t); len(page) != 2 || page[0]["id"] != all[1]["id"] {
				t.Errorf("page = %v", page)
			}
			if page := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items?skip=4611686018427387904"}).List(t); len(page) != 0 {
				t.Errorf("page past the end = %v", page)
			}
			if def := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items"}).List(t); len(def) != min(10, len(all)) {
				t.Errorf("default limit gave %d items", len(def))
			}
			for _, q := range []string{"limit=0", "limit=101", "limit=1000000", "limit=-1", "skip=-1", "limit=abc", "limit=99999999999999999999", "skip=1.5"} {
				res := e.expect(t, http.StatusUnprocessableEntity, request{Method: "GET", Path: "/items?" + q})
				if d := res.Detail(t); !strings.Contains(d, "query.") {
					t.Errorf("%s: detail %q does not name the parameter", q, d)
				}
			}
		})
		t.Run("ids out of range", func(t *testing.T) {
			for path, status := range map[string]int{
				"/items/0": 404, "/items/-1": 404, "/items/2147483648": 404, "/items/9223372036854775807": 404,
				"/items/9223372036854775808": 422, "/items/99999999999999999999": 422, "/items/abc": 422, "/items/1.5": 422,
			} {
				e.expect(t, status, request{Method: "GET", Path: path})
			}
		})
		t.Run("unauthenticated create", func(t *testing.T) {
			e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/items", JSON: map[string]any{"title": "x", "price": 1}})
		})
	})
}

// TestItemSchemaMatchesDomainLimits keeps the API's schema and the domain's
// rules (items.Validate, which the console uses) one set of limits: the
// schema's tags cannot name Go constants, so this test ties them.
func TestItemSchemaMatchesDomainLimits(t *testing.T) {
	want := map[string]map[string]string{
		"title":       {"minLength": "1", "maxLength": strconv.Itoa(items.MaxTitleLen)},
		"description": {"maxLength": strconv.Itoa(items.MaxDescriptionLen)},
		"price":       {"exclusiveMinimum": "0"},
	}
	for _, body := range []any{httpapi.ItemCreate{}, httpapi.ItemUpdate{}} {
		typ := reflect.TypeOf(body)
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			for tag, value := range want[name] {
				if got := f.Tag.Get(tag); got != value {
					t.Errorf("%s.%s: %s is %q, items' rule says %q", typ.Name(), name, tag, got, value)
				}
			}
		}
	}
}
