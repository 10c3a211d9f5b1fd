package httpapi_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"myapi/internal/ratelimit"
	"myapi/internal/testdb"
)

// declaredOp is an operation of the served document with what it declares.
type declaredOp struct {
	Method, Path, ID, Access, RateLimit, Description string
}

// declaredOps walks every operation of e's /openapi.json.
func declaredOps(t *testing.T, e *env) []declaredOp {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
			Description string `json:"description"`
			Access      string `json:"x-access"`
			RateLimit   string `json:"x-rate-limit"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []declaredOp
	for path, methods := range doc.Paths {
		for method, op := range methods {
			ops = append(ops, declaredOp{Method: strings.ToUpper(method), Path: path, ID: op.OperationID,
				Access: op.Access, RateLimit: op.RateLimit, Description: op.Description})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })
	return ops
}

// TestEveryOperationDeclaresAccessAndLimit: no operation of the document
// lacks an access rule or a rate class, and each says who may call it.
func TestEveryOperationDeclaresAccessAndLimit(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true})
	rules := map[string]string{
		"anyone": "anyone; no access token needed", "any-user": "any active user", "superuser": "superusers only",
		"owner-or-superuser": "the owner of the resource, or a superuser", "self-or-superuser": "the user themselves, or a superuser",
	}
	classes := map[string]bool{"general": true, "change": true, "login": true, "none": true}
	// Who may call what, reviewed here: a new operation fails until it is
	// added, and a changed rule until this table agrees.
	want := map[string]string{
		"root": "anyone none", "health": "anyone none", "health-live": "anyone none", "health-ready": "anyone none",
		"register": "anyone login", "login": "anyone login", "password-recovery": "anyone login", "reset-password": "anyone login",
		"refresh": "anyone general", "logout": "anyone general",
		"get-me": "any-user general", "update-me": "any-user change",
		"list-users": "superuser general", "get-user": "self-or-superuser general",
		"update-user": "superuser change", "delete-user": "superuser general",
		"create-item": "any-user general", "list-items": "anyone general", "get-item": "anyone general",
		"update-item": "owner-or-superuser change", "delete-item": "owner-or-superuser general",
		"admin-jobs": "superuser general",
	}
	ops := declaredOps(t, e)
	if len(ops) != len(want) {
		t.Errorf("%d operations in the document, %d in the table", len(ops), len(want))
	}
	for _, op := range ops {
		if got := op.Access + " " + op.RateLimit; got != want[op.ID] {
			t.Errorf("%s declares %q, want %q", op.ID, got, want[op.ID])
		}
		who, ok := rules[op.Access]
		if !ok || !classes[op.RateLimit] {
			t.Errorf("%s %s: x-access %q, x-rate-limit %q: want a declared rule and class", op.Method, op.Path, op.Access, op.RateLimit)
			continue
		}
		if !strings.HasSuffix(op.Description, "Who may call: "+who+".") {
			t.Errorf("%s %s: the description does not say who may call it: %q", op.Method, op.Path, op.Description)
		}
	}
}

// TestAccessRulesFromOutside checks every operation's declared rule over
// HTTP: anonymous gets 401 where a user is needed, a plain user 403 on
// superuser operations, and another user 403 on owner and self operations.
func TestAccessRulesFromOutside(t *testing.T) {
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			checkAccessRules(t, newEnv(t, engine, envOptions{docs: true, jobs: true}))
		})
	}
}

// caller is who sends a request in TestAccessRulesFromOutside, and the
// status they must get.
type caller struct {
	who   string
	token string
	want  int
}

func checkAccessRules(t *testing.T, e *env) {
	t.Helper()
	ownerToken, _ := e.user(t, "owner")
	otherToken, _ := e.user(t, "intruder")
	_, victimID := e.user(t, "victim")
	item := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: ownerToken,
		JSON: map[string]any{"title": "lamp", "price": 1}}).JSON(t)
	itemID := itoa(int64(item["id"].(float64)))
	path := func(p string) string {
		p = strings.ReplaceAll(p, "{item_id}", itemID)
		return strings.ReplaceAll(p, "{user_id}", itoa(victimID))
	}
	checked := map[string]int{}
	for _, op := range declaredOps(t, e) {
		req := request{Method: op.Method, Path: path(op.Path)}
		if op.Method == "PUT" || op.Method == "PATCH" || op.Method == "POST" {
			req.Body, req.ContentType = `{}`, "application/json"
		}
		anonymous := caller{"anonymous", "", http.StatusUnauthorized}
		var cases []caller
		switch op.Access {
		case "anyone":
			continue
		case "any-user":
			cases = []caller{anonymous}
		case "superuser":
			cases = []caller{anonymous, {"a plain user", otherToken, http.StatusForbidden}}
		case "owner-or-superuser", "self-or-superuser":
			cases = []caller{anonymous, {"another user", otherToken, http.StatusForbidden}}
		}
		for _, c := range cases {
			req.Token = c.token
			res := e.do(t, req)
			if res.Status != c.want {
				t.Errorf("%s %s as %s: %d %s, want %d", op.Method, op.Path, c.who, res.Status, res.Body, c.want)
			}
			checked[op.Access]++
		}
	}
	for _, rule := range []string{"any-user", "superuser", "owner-or-superuser", "self-or-superuser"} {
		if checked[rule] == 0 {
			t.Errorf("no operation checked under %s", rule)
		}
	}
	// The owner rule still admits the owner.
	e.expect(t, http.StatusOK, request{Method: "PUT", Path: "/items/" + itemID, Token: ownerToken, JSON: map[string]any{"title": "mine"}})
}

// TestRateClassesFromOutside: each operation is limited by its declared
// class: the login class at the login limit, general and change at the
// general limit, none not at all.
func TestRateClassesFromOutside(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true,
		limits: ratelimit.Config{PerMinute: 100, LoginPerMinute: 2}})
	wantLimit := map[string]string{"login": "2", "general": "100", "change": "100", "none": ""}
	for _, op := range declaredOps(t, e) {
		req := request{Method: op.Method, Path: strings.NewReplacer("{item_id}", "1", "{user_id}", "1").Replace(op.Path)}
		if op.Method != "GET" && op.Method != "DELETE" {
			req.Body, req.ContentType = `{}`, "application/json"
		}
		res := e.do(t, req)
		if got := res.Header.Get("RateLimit-Limit"); got != wantLimit[op.RateLimit] {
			t.Errorf("%s %s (%s): RateLimit-Limit %q, want %q", op.Method, op.Path, op.RateLimit, got, wantLimit[op.RateLimit])
		}
	}
	// Routes outside the document: docs and metrics are never limited,
	// paths nothing serves are limited like any API call.
	for path, want := range map[string]string{"/metrics": "", "/docs": "", "/redoc": "", "/openapi.json": "", "/no-such-path": "100"} {
		if got := e.do(t, request{Method: "GET", Path: path}).Header.Get("RateLimit-Limit"); got != want {
			t.Errorf("GET %s: RateLimit-Limit %q, want %q", path, got, want)
		}
	}
	// The login class is exhausted at the login limit (one request each
	// above has used a share of it already).
	got429 := false
	for range 3 {
		if e.do(t, loginRequest("nobody", "wrong password")).Status == http.StatusTooManyRequests {
			got429 = true
		}
	}
	if !got429 {
		t.Error("the login class was not exhausted at the login limit")
	}
}
