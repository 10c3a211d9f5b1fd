package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// Text the seed accepts, and that must come back byte for byte.
var seedText = []struct{ name, s string }{
	{"DEL", "a\x7fb"},
	{"C0 controls", "\x01\x02\x07\x08\x0b\x0c\x1b\x1f tab\tnewline\ncr\r"},
	{"C1 controls", "\u0080\u0085\u009f"},
	{"RTL and bidi marks", "\u200f\u202eabc\u202c\u2067x\u2069"},
	{"emoji", "😀 👩‍👩‍👧 🇰🇷"},
	{"combining", "e\u0301 a\u0308 한\u0300"},
	{"odd code points", "\ufeff\ufffd\uffff\U0010ffff\u2028\u2029"},
}

// TestTextRoundTrips: every text field takes any Unicode the seed takes,
// control characters included, and gives it back byte for byte.
func TestTextRoundTrips(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, _ := e.user(t, "tess")
		admin, _ := e.superuser(t, "root")
		for i, tc := range seedText {
			t.Run(tc.name, func(t *testing.T) {
				title, desc := "T "+tc.s, "D "+tc.s
				it := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": title, "description": desc, "price": 1}}).JSON(t)
				path := "/items/" + itoa(int64(it["id"].(float64)))
				got := e.expect(t, http.StatusOK, request{Method: "GET", Path: path}).JSON(t)
				if got["title"] != title || got["description"] != desc {
					t.Errorf("created %q/%q, read back %q/%q", title, desc, got["title"], got["description"])
				}
				title, desc = tc.s+" updated", tc.s+" updated"
				e.expect(t, http.StatusOK, request{Method: "PUT", Path: path, Token: token, JSON: map[string]any{"title": title, "description": desc}})
				got = e.expect(t, http.StatusOK, request{Method: "GET", Path: path}).JSON(t)
				if got["title"] != title || got["description"] != desc {
					t.Errorf("updated %q/%q, read back %q/%q", title, desc, got["title"], got["description"])
				}

				name, password := "u"+itoa(int64(i))+tc.s, "pw "+tc.s+" secret"
				u := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
					"email": "text" + itoa(int64(i)) + "@example.com", "username": name, "password": password,
				}}).JSON(t)
				if u["username"] != name {
					t.Errorf("registered %q, got %q", name, u["username"])
				}
				res := e.expect(t, http.StatusOK, loginRequest(name, password)).JSON(t)
				userToken := res["access_token"].(string)
				name += " me"
				if me := e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/users/me", Token: userToken, JSON: map[string]any{"username": name}}).JSON(t); me["username"] != name {
					t.Errorf("PUT /users/me %q, got %q", name, me["username"])
				}
				name += " admin"
				e.expect(t, http.StatusOK, request{Method: "PATCH", Path: "/users/" + itoa(int64(u["id"].(float64))), Token: admin, JSON: map[string]any{"username": name}})
				if me := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: userToken}).JSON(t); me["username"] != name {
					t.Errorf("PATCH username %q, read back %q", name, me["username"])
				}
			})
		}
	})
}

// TestUnstorableText: NUL (which PostgreSQL cannot store) and a UTF-16
// surrogate escape without its other half (which no UTF-8 string can hold)
// are a 422 naming the field, in every JSON body, on both engines; nothing
// is written.
func TestUnstorableText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, id := e.user(t, "una")
		admin, _ := e.superuser(t, "root")
		it := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": "Lamp", "price": 1}}).JSON(t)
		itemPath := "/items/" + itoa(int64(it["id"].(float64)))
		for _, bad := range []struct{ name, escape, message string }{
			{"NUL", `\u0000`, "must not contain the NUL character"},
			{"lone high surrogate", `\ud800`, `\ud800 is half of a UTF-16 surrogate pair`},
			{"lone high surrogate before a letter", `\ud83dA`, `\ud83d is half`},
			{"two high surrogates", `\ud83d\ud83d`, `\ud83d is half`},
			{"lone low surrogate", `\ude00`, `\ude00 is half`},
			{"swapped pair", `\ude00\ud83d`, `\ude00 is half`},
		} {
			t.Run(bad.name, func(t *testing.T) {
				for _, tc := range []struct {
					req request
					loc string
				}{
					{jsonBody("POST", "/items", token, `{"title":"a`+bad.escape+`","price":1}`), "body.title"},
					{jsonBody("POST", "/items", token, `{"title":"a","description":"x`+bad.escape+`","price":1}`), "body.description"},
					{jsonBody("PUT", itemPath, token, `{"description":"`+bad.escape+`"}`), "body.description"},
					{jsonBody("POST", "/auth/register", "", `{"email":"n@example.com","username":"nul`+bad.escape+`user","password":"password123"}`), "body.username"},
					{jsonBody("POST", "/auth/register", "", `{"email":"n@example.com","username":"nuluser","password":"pass`+bad.escape+`word"}`), "body.password"},
					{jsonBody("PUT", "/users/me", token, `{"username":"una`+bad.escape+`"}`), "body.username"},
					{jsonBody("PATCH", "/users/"+itoa(id), admin, `{"email":"x`+bad.escape+`@example.com"}`), "body.email"},
					{jsonBody("POST", "/auth/refresh", "", `{"refresh_token":"`+bad.escape+`"}`), "body.refresh_token"},
					{jsonBody("POST", "/items", token, `{"title":"a","price":1,"extra":{"list":["ok","`+bad.escape+`"]}}`), "body.extra.list[1]"},
					{jsonBody("POST", "/items", token, `{"title":"a","price":1,"ke`+bad.escape+`y":1}`), "body.ke"},
				} {
					d := e.expect(t, http.StatusUnprocessableEntity, tc.req).Detail(t)
					if !strings.Contains(d, tc.loc) || !strings.Contains(d, bad.message) {
						t.Errorf("%s %s: detail %q does not say %s: %s", tc.req.Method, tc.req.Path, d, tc.loc, bad.message)
					}
				}
			})
		}
		if list := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items"}).List(t); len(list) != 1 || list[0]["description"] != nil {
			t.Errorf("refused writes were stored: %v", list)
		}
		if me := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token}).JSON(t); me["username"] != "una" {
			t.Errorf("a refused rename was stored: %v", me)
		}
		// A whole pair, escaped, is one character.
		pair := e.expect(t, http.StatusCreated, jsonBody("POST", "/items", token, `{"title":"\ud83d\ude00","description":"\u007f\u0001","price":1}`)).JSON(t)
		if pair["title"] != "😀" || pair["description"] != "\x7f\x01" {
			t.Errorf("escapes decoded to %q/%q", pair["title"], pair["description"])
		}
		// Invalid UTF-8 is not JSON text: a 400 naming the place.
		res := e.expect(t, http.StatusBadRequest, jsonBody("POST", "/items", token, "{\"title\":\"a\xffb\",\"price\":1}"))
		if d := res.Detail(t); !strings.Contains(d, "invalid UTF-8") || !strings.Contains(d, "/title") {
			t.Errorf("detail %q", d)
		}
	})
}
