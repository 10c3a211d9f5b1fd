package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"myapi/internal/ratelimit"
	"myapi/internal/testdb"
)

// declaredOp is an operation of the served document with what it declares.
type declaredOp struct {
	Method, Path, ID, Access, RateLimit, Description string
}

// declaredOps walks every operation of e's /openapi.json, by operation id.
func declaredOps(t *testing.T, e *env) []declaredOp {
	t.Helper()
	var ops []declaredOp
	for _, op := range readDoc(t, e).ops() {
		ops = append(ops, declaredOp{Method: op.Method, Path: op.Path, ID: op.OperationID,
			Access: op.Access, RateLimit: op.RateLimit, Description: op.Description})
	}
	return ops
}

// TestEveryOperationDeclaresAccessAndLimit: no operation of the document
// lacks an access rule or a rate class, each says who may call it, and
// no write on an owned row is open to more than its owner (or
// superusers).
//
// Who may call what is not listed here: it is reviewed in the diff of the
// committed api/openapi.json (x-access, x-rate-limit), which
// TestOpenAPIDocumentIsCommitted (cmd/myapi) forces to be regenerated
// with every change. This test holds what no review should have to
// check by eye.
func TestEveryOperationDeclaresAccessAndLimit(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true})
	// Each rule's wordings; an owner rule naming two rows of its path
	// (access.Rule.And) has its own.
	rules := map[string][]string{
		"anyone": {"anyone; no access token needed"}, "any-user": {"any active user"}, "superuser": {"superusers only"},
		"owner-or-superuser": {"the owner of the resource, or a superuser", "the owner of every resource the path names, or a superuser"},
		"self-or-superuser":  {"the user themselves, or a superuser"},
	}
	classes := map[string]bool{"general": true, "change": true, "login": true, "none": true}
	for _, op := range declaredOps(t, e) {
		wordings, ok := rules[op.Access]
		if !ok || !classes[op.RateLimit] {
			t.Errorf("%s %s: x-access %q, x-rate-limit %q: want a declared rule and class", op.Method, op.Path, op.Access, op.RateLimit)
			continue
		}
		if !slices.ContainsFunc(wordings, func(who string) bool { return strings.HasSuffix(op.Description, "Who may call: "+who+".") }) {
			t.Errorf("%s %s: the description does not say who may call it: %q", op.Method, op.Path, op.Description)
		}
	}

	// A write on a path naming a row that has an owner (an owner_id, seen
	// on the row as its POST made it) must be kept to its owner.
	w := newWalker(t, e)
	owner := w.newUser(t, "owner")
	owned := 0
	for _, op := range w.doc.ops() {
		if !op.writes() || len(pathParams(op.Path)) == 0 {
			continue
		}
		rows := w.rows(owner)
		if _, err := rows.fill(t, op.Path); err != nil {
			t.Errorf("%s: %v", op, err)
			continue
		}
		for _, name := range pathParams(op.Path) {
			coll, ok := rows.used[name]
			if !ok {
				continue
			}
			if _, hasOwner := rows.made[coll]["owner_id"]; !hasOwner {
				continue
			}
			owned++
			if op.Access != "owner-or-superuser" && op.Access != "superuser" {
				t.Errorf("%s writes the row {%s} names, which has an owner_id, but declares x-access %q: want owner-or-superuser or superuser",
					op, name, op.Access)
			}
		}
	}
	if owned == 0 {
		t.Error("no write on an owned row found: the walk does not see the items")
	}
}

// TestAccessRulesFromOutside checks every operation's declared rule over
// HTTP: anonymous gets 401 where a user is needed, a plain user 403 on
// superuser operations, another user 403 on owner and self operations
// (also with their own row in one id and the owner's in another), and
// the owner is admitted.
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

// checkAccessRules walks e's document: every operation but the anyone
// ones is called with its path filled with fresh rows of the owner's and
// a synthesized body (docwalk_test.go), by each caller its rule must
// refuse, then by the owner (or the user themselves), who must be
// admitted.
func checkAccessRules(t *testing.T, e *env) {
	t.Helper()
	w := newWalker(t, e)
	owner, intruder := w.newUser(t, "owner"), w.newUser(t, "intruder")
	checked := map[string]int{}
	crossed := 0
	for _, op := range w.doc.ops() {
		if op.Access == "anyone" {
			continue // not called: nothing to refuse
		}
		// Fresh rows for each operation: the owner's own call may delete them.
		req, err := w.rows(owner).request(t, op)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		anonymous := caller{"anonymous", "", http.StatusUnauthorized}
		var cases []caller
		switch op.Access {
		case "any-user":
			cases = []caller{anonymous}
		case "superuser":
			cases = []caller{anonymous, {"a plain user", intruder.token, http.StatusForbidden}}
		case "owner-or-superuser", "self-or-superuser":
			cases = []caller{anonymous, {"another user", intruder.token, http.StatusForbidden}}
		default:
			t.Errorf("%s: unknown x-access %q", op, op.Access)
		}
		for _, c := range cases {
			req.Token = c.token
			res := e.do(t, req)
			if res.Status != c.want {
				t.Errorf("%s %s as %s: %d %s, want %d", op.Method, op.Path, c.who, res.Status, res.Body, c.want)
			}
			checked[op.Access]++
		}
		if op.Access == "owner-or-superuser" {
			calls, findings := crossIDs(t, w, op, owner, intruder)
			crossed += calls
			for _, f := range findings {
				t.Error(f)
			}
		}
		if op.Access == "any-user" {
			calls, findings := foreignBodyIDs(t, w, op, owner, intruder)
			crossed += calls
			for _, f := range findings {
				t.Error(f)
			}
		}
		if op.Access == "owner-or-superuser" || op.Access == "self-or-superuser" {
			// The rule still admits the owner (the rows' maker, and the
			// user a {user_id} names).
			req.Token = owner.token
			if res := e.do(t, req); res.Status/100 != 2 {
				t.Errorf("%s %s as the owner: %d %s, want 2xx", op.Method, req.Path, res.Status, bytes.TrimSpace(res.Body))
			}
		}
	}
	for _, rule := range []string{"any-user", "superuser", "owner-or-superuser", "self-or-superuser"} {
		if checked[rule] == 0 {
			t.Errorf("no operation checked under %s", rule)
		}
	}
	if crossed == 0 {
		t.Log("no owner-or-superuser operation takes two ids (two path parameters, or one and a *_id body property), " +
			"nor any any-user write an id of an owned row in its body: the someone-else's-row checks found nothing to call " +
			"(TestCrossIDArrangements exercises them)")
	}
}

// crossIDs checks that an owner-or-superuser operation taking several ids
// cannot reach the owner's row through one id while its rule looks at
// another: for each id in turn (the rule's parameter is not in the
// document, so every one gets its turn), that id points at a row of the
// intruder's and every other at the owner's, and the intruder calls op.
// Any 2xx is a finding (a refusal, 403/404/409/422, passes). It returns
// how many calls it made and the findings; a failure to build a call
// fails t.
func crossIDs(t *testing.T, w *walker, op *docOp, owner, intruder party) (calls int, findings []string) {
	t.Helper()
	names := w.doc.idNames(op)
	if len(names) < 2 {
		return 0, nil
	}
	mine := w.rows(intruder)
	for _, name := range names {
		id, err := mine.idFor(t, op.Path, name)
		if err != nil {
			t.Errorf("%s: %v", op, err)
			continue
		}
		rows := w.rows(owner)
		rows.override[name] = id
		req, err := rows.request(t, op)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		req.Token = intruder.token
		calls++
		if res := w.e.do(t, req); res.Status/100 == 2 {
			findings = append(findings, fmt.Sprintf("%s: %s %s as another user, with %s at their own row and the other ids at the owner's: %d %s, want it refused",
				op, req.Path, req.Body, name, res.Status, bytes.TrimSpace(res.Body)))
		}
	}
	return calls, findings
}

// foreignBodyIDs checks that an any-user write whose body names rows by
// *_id properties cannot use someone else's: with every such id at a row
// of the owner's that has an owner_id (an item put in another user's
// project), the intruder's call must not succeed. The access rule looks
// at no body, so only the handler can refuse it. It returns how many
// calls it made (0 or 1) and the findings.
func foreignBodyIDs(t *testing.T, w *walker, op *docOp, owner, intruder party) (calls int, findings []string) {
	t.Helper()
	rows := w.rows(owner)
	req, err := rows.request(t, op)
	if err != nil {
		t.Errorf("%v", err)
		return 0, nil
	}
	var owned []string
	for _, name := range w.doc.idNames(op) {
		if strings.Contains(op.Path, "{"+name+"}") {
			continue
		}
		if _, ok := rows.made[rows.used[name]]["owner_id"]; ok {
			owned = append(owned, name)
		}
	}
	if len(owned) == 0 {
		return 0, nil
	}
	req.Token = intruder.token
	if res := w.e.do(t, req); res.Status/100 == 2 {
		findings = append(findings, fmt.Sprintf("%s: %s %s as another user, naming the owner's rows by %s: %d %s, want it refused",
			op, req.Path, req.Body, strings.Join(owned, ", "), res.Status, bytes.TrimSpace(res.Body)))
	}
	return 1, findings
}

// TestCrossIDArrangements exercises crossIDs and foreignBodyIDs, which no
// operation of today's document reaches (none takes two ids, nor an id in
// its body). For crossIDs, a made-up operation
// PUT /items/{item_id} whose body claims a user_id. The server ignores
// that property, so the intruder with item_id at their own item and
// user_id at the owner succeeds (a finding: as if the handler acted on
// the owner's behalf), while item_id at the owner's item is refused.
func TestCrossIDArrangements(t *testing.T) {
	w := newWalker(t, newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true}))
	var op docOp
	if err := json.Unmarshal([]byte(`{"operationId": "made-up-move-item", "x-access": "owner-or-superuser",
		"requestBody": {"content": {"application/json": {"schema": {"properties": {"user_id": {"type": "integer"}}}}}}}`), &op); err != nil {
		t.Fatal(err)
	}
	op.Method, op.Path = http.MethodPut, "/items/{item_id}"
	owner, intruder := w.newUser(t, "owner"), w.newUser(t, "intruder")
	calls, findings := crossIDs(t, w, &op, owner, intruder)
	if calls != 2 || len(findings) != 1 || !strings.Contains(findings[0], "with item_id at their own row") {
		t.Errorf("%d calls, findings %q: want 2 calls and one finding, with item_id at the intruder's row", calls, findings)
	}

	// And foreignBodyIDs: a made-up POST /items whose body claims an
	// item_id (the server ignores it, so the intruder's call succeeds).
	var create docOp
	if err := json.Unmarshal([]byte(`{"operationId": "made-up-copy-item", "x-access": "any-user",
		"requestBody": {"content": {"application/json": {"schema": {"required": ["title", "price"], "properties": {
			"title": {"type": "string", "examples": ["copy"]}, "price": {"type": "number", "examples": [1]},
			"item_id": {"type": "integer"}}}}}}}`), &create); err != nil {
		t.Fatal(err)
	}
	create.Method, create.Path = http.MethodPost, "/items"
	calls, findings = foreignBodyIDs(t, w, &create, owner, intruder)
	if calls != 1 || len(findings) != 1 || !strings.Contains(findings[0], "naming the owner's rows by item_id") {
		t.Errorf("%d calls, findings %q: want 1 call and one finding, naming item_id", calls, findings)
	}
}

// TestRateClassesFromOutside: each operation is limited by its declared
// class: the login class at the login limit, general and change at the
// general limit, none not at all.
func TestRateClassesFromOutside(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true,
		limits: ratelimit.Config{PerMinute: 100, LoginPerMinute: 2}})
	wantLimit := map[string]string{"login": "2", "general": "100", "change": "100", "none": ""}
	for _, op := range declaredOps(t, e) {
		// Any parameter will do: the limiter answers before the handler.
		req := request{Method: op.Method, Path: pathParam.ReplaceAllString(op.Path, "1")}
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
