package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// jsonBody is a request with a raw JSON body, for bodies a Go map cannot
// express (repeated keys, escapes).
func jsonBody(method, path, token, body string) request {
	return request{Method: method, Path: path, Token: token, Body: body, ContentType: "application/json"}
}

// A key that differs only in case is an unknown field, ignored; it cannot
// replace the validated value.
func TestCaseVariantKeysAreIgnored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, id := e.user(t, "alice")
		admin, _ := e.superuser(t, "root")

		item := e.expect(t, http.StatusCreated, jsonBody("POST", "/items", token, `{"title":"Desk lamp","price":49.5,"TITLE":""}`)).JSON(t)
		if item["title"] != "Desk lamp" {
			t.Errorf("POST /items stored title %q", item["title"])
		}
		item = e.expect(t, http.StatusCreated, jsonBody("POST", "/items", token, `{"title":"Desk lamp","price":49.5,"PRICE":-1}`)).JSON(t)
		if item["price"] != 49.5 {
			t.Errorf("POST /items stored price %v", item["price"])
		}
		// Only the case variant: the title is missing, not "Desk lamp".
		if d := e.expect(t, http.StatusUnprocessableEntity, jsonBody("POST", "/items", token, `{"TITLE":"Desk lamp","price":49.5}`)).Detail(t); !strings.Contains(d, "title") {
			t.Errorf("detail %q does not name the missing title", d)
		}
		itemPath := "/items/" + itoa(int64(item["id"].(float64)))
		long := strings.Repeat("d", 10001)
		for _, body := range []string{
			`{"title":"Desk lamp","TITLE":""}`,
			`{"description":"Brass","DESCRIPTION":"` + long + `","Description":"` + long + `"}`,
			`{"price":5,"Price":0}`,
		} {
			e.expect(t, http.StatusOK, jsonBody("PUT", itemPath, token, body))
		}
		got := e.expect(t, http.StatusOK, request{Method: "GET", Path: itemPath}).JSON(t)
		if got["title"] != "Desk lamp" || got["description"] != "Brass" || got["price"] != float64(5) {
			t.Errorf("after the updates: %v", got)
		}

		u := e.expect(t, http.StatusCreated, jsonBody("POST", "/auth/register", "", `{"email":"bob@example.com","EMAIL":"not-an-email","username":"bob","USERNAME":"b","password":"correct horse","PASSWORD":"x"}`)).JSON(t)
		if u["email"] != "bob@example.com" || u["username"] != "bob" {
			t.Errorf("registered %v", u)
		}
		e.expect(t, http.StatusUnauthorized, loginRequest("b", "x"))
		e.expect(t, http.StatusUnauthorized, loginRequest("bob", "x"))
		e.expect(t, http.StatusOK, loginRequest("bob", "correct horse"))

		me := e.expect(t, http.StatusOK, jsonBody("PUT", "/users/me", token, `{"username":"alice","Username":"q","EMAIL":"bad"}`)).JSON(t)
		if me["username"] != "alice" || me["email"] != "alice@example.com" {
			t.Errorf("PUT /users/me: %v", me)
		}
		patched := e.expect(t, http.StatusOK, jsonBody("PATCH", "/users/"+itoa(id), admin, `{"username":"alicia","USERNAME":"q","Is_Active":false}`)).JSON(t)
		if patched["username"] != "alicia" || patched["is_active"] != true {
			t.Errorf("PATCH /users/{id}: %v", patched)
		}
	})
}

// The same key twice is refused with a 422 naming it, on every JSON body
// and the login form: which of the two counts would otherwise depend on
// the parser (the seed's takes the last).
func TestDuplicateKeysAreRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, id := e.user(t, "carol")
		admin, _ := e.superuser(t, "root")
		item := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": "Lamp", "price": 2}}).JSON(t)
		itemPath := "/items/" + itoa(int64(item["id"].(float64)))

		cases := []struct {
			name string
			req  request
			loc  string
		}{
			{"create item", jsonBody("POST", "/items", token, `{"title":"Desk lamp","price":49.5,"title":""}`), "body.title"},
			{"same value twice", jsonBody("POST", "/items", token, `{"title":"a","price":1,"price":1}`), "body.price"},
			{"escaped spelling", jsonBody("POST", "/items", token, `{"title":"a","price":1,"\u0074itle":"b"}`), "body.title"},
			{"unknown key", jsonBody("POST", "/items", token, `{"title":"a","price":1,"x":1,"x":2}`), "body.x"},
			{"nested", jsonBody("POST", "/items", token, `{"title":"a","price":1,"tags":[{"k":1},{"k":1,"k":2}]}`), "body.tags[1].k"},
			{"update item", jsonBody("PUT", itemPath, token, `{"price":5,"price":0}`), "body.price"},
			{"register", jsonBody("POST", "/auth/register", "", `{"email":"d@example.com","username":"dave","password":"password123","password":"x"}`), "body.password"},
			{"update me", jsonBody("PUT", "/users/me", token, `{"username":"carla","username":"q"}`), "body.username"},
			{"update user", jsonBody("PATCH", "/users/"+itoa(id), admin, `{"is_active":true,"is_active":false}`), "body.is_active"},
			{"refresh", jsonBody("POST", "/auth/refresh", "", `{"refresh_token":"a","refresh_token":"b"}`), "body.refresh_token"},
			{"login form", request{Method: "POST", Path: "/auth/login", Body: "username=nobody&username=carol&password=password123", ContentType: "application/x-www-form-urlencoded"}, "body.username"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := e.expect(t, http.StatusUnprocessableEntity, tc.req).Detail(t)
				if !strings.Contains(d, tc.loc+": is given more than once") {
					t.Errorf("detail %q does not name %s as given twice", d, tc.loc)
				}
			})
		}
		got := e.expect(t, http.StatusOK, request{Method: "GET", Path: itemPath}).JSON(t)
		if got["price"] != float64(2) {
			t.Errorf("a refused update was written: %v", got)
		}
		if list := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items"}).List(t); len(list) != 1 {
			t.Errorf("refused items were stored: %v", list)
		}
		me := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/users/me", Token: token}).JSON(t)
		if me["username"] != "carol" || me["is_active"] != true {
			t.Errorf("a refused user update was written: %v", me)
		}
	})
}

// The login form: NUL is a 422 on both engines (PostgreSQL answered 500),
// an empty grant_type counts as absent (as the seed takes it), any other
// value than "password" is a 422.
func TestLoginFormText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		e.register(t, "erin")
		form := func(body string) request {
			return request{Method: "POST", Path: "/auth/login", Body: body, ContentType: "application/x-www-form-urlencoded"}
		}
		for _, tc := range []struct {
			body   string
			status int
			detail string
		}{
			{"username=a%00b&password=whatever1", 422, `body.username: must not contain the NUL character`},
			{"username=erin&password=pass%00word123", 422, `body.password: must not contain the NUL character`},
			{"username=erin&password=password123&scope=%00", 422, `body.scope: must not contain the NUL character`},
			{"username=a%FFb&password=whatever1", 422, "body.username: must be valid UTF-8"},
			{"username=a%C3&password=whatever1", 422, "body.username: must be valid UTF-8"},
			{"username=erin&password=password123&grant_type=client_credentials", 422, "body.grant_type"},
			{"username=erin&password=password123&grant_type=%00", 422, "body.grant_type: must not contain the NUL character"},
			{"username=erin&password=%zz", 422, "malformed form body"},
			{"username=a%7Fb%01%1B&password=whatever1", 401, "Incorrect username or password"},
			{"grant_type=&username=erin&password=password123", 200, ""},
			{"grant_type=password&username=erin&password=password123", 200, ""},
		} {
			res := e.expect(t, tc.status, form(tc.body))
			if tc.detail != "" && !strings.Contains(res.Detail(t), tc.detail) {
				t.Errorf("%s: detail %q does not mention %q", tc.body, res.Detail(t), tc.detail)
			}
		}
	})
}

// NUL and invalid UTF-8 in a query or path parameter, a query parameter
// given twice, an empty number: a 422 naming it.
func TestParametersText(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			method, path, detail string
		}{
			{"POST", "/auth/refresh?refresh_token=" + url.QueryEscape("a\x00b"), "query.refresh_token: must not contain the NUL character"},
			{"POST", "/auth/logout?refresh_token=%FF", "query.refresh_token: must be valid UTF-8"},
			{"GET", "/items?limit=1%00", "query.limit: must not contain the NUL character"},
			{"GET", "/items/1%00", "path.item_id: must not contain the NUL character"},
			{"GET", "/items/%FF", "path.item_id: must be valid UTF-8"},
			// Given twice, the seed reads the last and huma the first.
			{"GET", "/items?limit=1&limit=1000", "query.limit: is given more than once"},
			{"POST", "/auth/refresh?refresh_token=a&refresh_token=b", "query.refresh_token: is given more than once"},
			// Empty is not absent: the seed refuses it too.
			{"GET", "/items?skip=", "query.skip: expected integer, got an empty value"},
			{"GET", "/items?skip=0&limit=", "query.limit: expected integer, got an empty value"},
		} {
			if d := e.expect(t, http.StatusUnprocessableEntity, request{Method: tc.method, Path: tc.path}).Detail(t); !strings.Contains(d, tc.detail) {
				t.Errorf("%s %s: detail %q does not mention %q", tc.method, tc.path, d, tc.detail)
			}
		}
		// A plain query still works, and the refresh token is read from it.
		e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items?skip=0&limit=5"})
		e.expect(t, http.StatusUnauthorized, request{Method: "POST", Path: "/auth/refresh?refresh_token=not.a.token"})
	})
}
