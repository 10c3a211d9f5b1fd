package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"myapi/internal/items"
	"myapi/internal/testdb"
	"myapi/internal/users"
)

// hostileCall is one request of the hostile-input test.
type hostileCall struct {
	name        string
	method      string
	path        string
	token       string
	contentType string
	body        string
	hasBody     bool
	// schema is the request body's schema: a 2xx answer must carry each
	// of its properties that the body sets, as sent.
	schema *docSchema
}

// fixture is what one operation's calls act on, made fresh for each
// operation so that one operation's writes (a deleted item, a deactivated
// user) do not decide another's answers.
type fixture struct {
	admin, user       string // access tokens: a superuser's, a plain user's
	userID, otherID   int64  // the plain user, and a user nobody logs in as
	itemID            int64
	refresh, password string // the plain user's
	username          string
}

// TestHostileInput walks every operation of the OpenAPI document the server
// serves and sends it hostile variants of a valid request: boundary values,
// wrong types, case-variant and duplicate keys, NUL and control characters,
// invalid UTF-8, nesting, oversize and truncated bodies, wrong content types,
// forged tokens, odd parameters. Whatever the answer, it is not a 5xx, an
// error carries a detail, and every 2xx write reads back as sent.
func TestHostileInput(t *testing.T) {
	const maxBody = 64 << 10
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{docs: true, jobs: true, maxBodyBytes: maxBody})
			doc := readDoc(t, e)
			calls, ops := 0, 0
			byClass := map[string]int{}
			for _, path := range slices.Sorted(maps.Keys(doc.Paths)) {
				for _, method := range slices.Sorted(maps.Keys(doc.Paths[path])) {
					op := doc.Paths[path][method]
					ops++
					fx := newFixture(t, e, ops)
					for _, c := range hostileCalls(doc, strings.ToUpper(method), path, op, fx, ops, maxBody) {
						calls++
						byClass[fmt.Sprintf("%dxx", checkHostile(t, e, fx, c)/100)]++
					}
					for _, c := range brokenBodies(strings.ToUpper(method), path, op, fx) {
						calls++
						if res := e.raw(t, c, true); res.Status >= 500 || res.Status < 400 {
							t.Errorf("%s %s with a truncated body: %d %s", method, path, res.Status, res.Body)
						} else {
							res.Detail(t)
						}
					}
				}
			}
			if ops < 18 {
				t.Errorf("the document has only %d operations", ops)
			}
			t.Logf("%d hostile requests to %d operations; answers by class: %v", calls, ops, byClass)
			if byClass["2xx"] < 100 || byClass["4xx"] < 1000 {
				t.Errorf("too few successes or refusals to have tested much: %v", byClass)
			}
		})
	}
}

func newFixture(t *testing.T, e *env, n int) *fixture {
	t.Helper()
	ctx := context.Background()
	name := func(role string) string { return fmt.Sprintf("%s%d", role, n) }
	admin, err := e.Auth.CreateSuperuser(ctx, name("admin")+"@example.com", name("admin"), "password123")
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{username: name("user"), password: "password123"}
	u, err := e.Auth.Register(ctx, fx.username+"@example.com", fx.username, fx.password)
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.Auth.Register(ctx, name("other")+"@example.com", name("other"), "password123")
	if err != nil {
		t.Fatal(err)
	}
	_, adminPair, err := e.Auth.Login(ctx, admin.Username, "password123")
	if err != nil {
		t.Fatal(err)
	}
	_, userPair, err := e.Auth.Login(ctx, u.Username, fx.password)
	if err != nil {
		t.Fatal(err)
	}
	it := &items.Item{Title: "Lamp", Price: 2, OwnerID: u.ID}
	if err := e.DB.CreateItem(ctx, it); err != nil {
		t.Fatal(err)
	}
	fx.admin, fx.user, fx.refresh = adminPair.AccessToken, userPair.AccessToken, userPair.RefreshToken
	fx.userID, fx.otherID, fx.itemID = u.ID, other.ID, it.ID
	return fx
}

// hostileCalls are the variants of a valid call of op.
func hostileCalls(doc *walkDoc, method, path string, op *docOp, fx *fixture, seq, maxBody int) []hostileCall {
	base := hostileCall{name: "valid", method: method, path: fillPath(path, fx)}
	if len(op.Security) > 0 {
		base.token = fx.admin
	}
	var schema *docSchema
	if op.RequestBody != nil {
		base.hasBody = true
		if c, ok := op.RequestBody.Content["application/json"]; ok {
			schema = doc.resolve(c.Schema)
			base.contentType, base.schema = "application/json", schema
		} else {
			base.contentType = "application/x-www-form-urlencoded"
		}
	}
	n := seq * 100_000
	next := func() int { n++; return n }
	validBody := func() []member {
		var ms []member
		for _, k := range sortedKeys(schema) {
			v := validValue(k, doc.resolve(schema.Properties[k]), next())
			if k == "refresh_token" {
				v = fx.refresh
			}
			ms = append(ms, member{quote(k), rawJSON(v)})
		}
		return ms
	}
	with := func(name string, edit func(c *hostileCall)) hostileCall {
		c := base
		c.name = name
		if schema != nil {
			c.body = object(validBody())
		} else if base.hasBody {
			c.body = url.Values{"username": {fx.username}, "password": {fx.password}}.Encode()
		}
		edit(&c)
		return c
	}
	calls := []hostileCall{with("valid", func(*hostileCall) {})}

	if schema != nil {
		for _, k := range sortedKeys(schema) {
			prop := doc.resolve(schema.Properties[k])
			for i, v := range hostileValues(prop) {
				calls = append(calls, with(fmt.Sprintf("%s value %d %.40q", k, i, v), func(c *hostileCall) {
					ms := validBody()
					for j := range ms {
						if ms[j].key == quote(k) {
							ms[j].value = v
						}
					}
					c.body = object(ms)
				}))
			}
			keyTricks := map[string]func([]member) []member{
				"case variant": func(ms []member) []member { return append(ms, member{quote(flipCase(k)), `""`}) },
				"case only":    func(ms []member) []member { return replaceKey(ms, k, quote(strings.ToUpper(k))) },
				"duplicate":    func(ms []member) []member { return append(ms, member{quote(k), rawJSON(validValue(k, prop, next()))}) },
				"escaped twice": func(ms []member) []member {
					return append(ms, member{`"\u` + fmt.Sprintf("%04x", k[0]) + k[1:] + `"`, "null"})
				},
				"missing":    func(ms []member) []member { return replaceKey(ms, k, "") },
				"NUL in key": func(ms []member) []member { return append(ms, member{quote(k + "\x00"), "1"}) },
			}
			for _, trick := range slices.Sorted(maps.Keys(keyTricks)) {
				calls = append(calls, with(k+" "+trick, func(c *hostileCall) { c.body = object(keyTricks[trick](validBody())) }))
			}
		}
		valid := object(validBody())
		for i, b := range append(wholeBodies(valid), valid+strings.Repeat(" ", maxBody-len(valid)), valid+strings.Repeat(" ", maxBody+1-len(valid))) {
			calls = append(calls, with(fmt.Sprintf("whole body %d", i), func(c *hostileCall) { c.body = b }))
		}
	} else if base.hasBody {
		calls = append(calls, loginForms(fx, with)...)
	}
	if base.hasBody {
		for _, ct := range []string{"", "text/plain", "application/xml", "application/json; charset=utf-8", "application/merge-patch+json",
			"APPLICATION/JSON", "application/json;", "multipart/form-data; boundary=zz", "application/x-www-form-urlencoded", "application/octet-stream", "*/*", "a+b/c+json"} {
			calls = append(calls, with("content type "+quote(ct), func(c *hostileCall) { c.contentType = ct }))
		}
	}
	if len(op.Security) > 0 {
		for name, token := range forgedTokens(fx) {
			calls = append(calls, with("token "+name, func(c *hostileCall) { c.token = token }))
		}
	}
	for _, p := range op.Parameters {
		for _, v := range []string{"0", "-1", "1", "9223372036854775807", "9223372036854775808", "99999999999999999999", "abc", "%00", "%FF",
			"1%00", "%C3", "1.5", "1e2", "+1", "%201", "1%2F2", "", strings.Repeat("9", 1000), "%E2%80%AE", fx.refresh} {
			calls = append(calls, with(fmt.Sprintf("%s %s=%.30q", p.In, p.Name, v), func(c *hostileCall) {
				switch p.In {
				case "path":
					c.path = strings.Replace(fillPathExcept(path, fx, p.Name), "{"+p.Name+"}", v, 1)
				case "query":
					c.path += "?" + p.Name + "=" + v + "&" + p.Name + "=1"
				}
			}))
		}
	}
	return calls
}

func replaceKey(ms []member, key, to string) []member {
	var out []member
	for _, m := range ms {
		if m.key == quote(key) {
			if to == "" {
				continue
			}
			m.key = to
		}
		out = append(out, m)
	}
	return out
}

// fillPath puts the fixture's ids into a path template.
func fillPath(path string, fx *fixture) string { return fillPathExcept(path, fx, "") }

func fillPathExcept(path string, fx *fixture, except string) string {
	for name, id := range map[string]int64{"item_id": fx.itemID, "user_id": fx.otherID} {
		if name != except {
			path = strings.ReplaceAll(path, "{"+name+"}", strconv.FormatInt(id, 10))
		}
	}
	return path
}

// brokenBodies are raw requests whose body ends before its Content-Length.
func brokenBodies(method, path string, op *docOp, fx *fixture) []string {
	if op.RequestBody == nil {
		return nil
	}
	token := ""
	if len(op.Security) > 0 {
		token = fx.admin
	}
	var out []string
	for ct := range op.RequestBody.Content {
		out = append(out, rawRequest(method, fillPath(path, fx), token, ct, "Content-Length: 50")+`{"a":`)
	}
	return out
}

// checkHostile sends c, checks the answer and returns its status.
func checkHostile(t *testing.T, e *env, fx *fixture, c hostileCall) int {
	t.Helper()
	req := request{Method: c.method, Path: c.path, Token: c.token, Body: c.body, ContentType: c.contentType}
	res := e.do(t, req)
	where := fmt.Sprintf("%s %s [%s]", c.method, c.path, c.name)
	switch {
	case res.Status >= 500:
		t.Errorf("%s: %d %s", where, res.Status, res.Body)
		return res.Status
	case res.Status >= 400:
		var body struct {
			Detail *string `json:"detail"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || body.Detail == nil || *body.Detail == "" {
			t.Errorf("%s: %d without a detail: %s", where, res.Status, res.Body)
		}
		return res.Status
	}
	if c.schema != nil && c.method != http.MethodGet {
		checkReadBack(t, e, fx, c, res, where)
	}
	return res.Status
}

// checkReadBack: a 2xx write answers the values sent, and reading the
// resource back gives the same answer.
func checkReadBack(t *testing.T, e *env, fx *fixture, c hostileCall, res response, where string) {
	t.Helper()
	var sent map[string]any
	if err := jsonv2.Unmarshal([]byte(c.body), &sent); err != nil {
		t.Errorf("%s: %d for a body that is not a JSON object without repeated keys: %v", where, res.Status, err)
		return
	}
	var got map[string]any
	if json.Unmarshal(res.Body, &got) != nil {
		return // 204
	}
	id, ok := got["id"].(float64)
	if !ok {
		return // not a stored resource: a token pair, a message
	}
	for k, v := range sent {
		rv, ok := got[k]
		if _, inSchema := c.schema.Properties[k]; !ok || !inSchema {
			continue
		}
		if k == "email" {
			v = users.NormalizeEmail(v.(string))
		}
		if !reflect.DeepEqual(rv, v) {
			t.Errorf("%s: sent %s=%#v, the answer has %#v", where, k, v, rv)
		}
	}
	var readPath string
	switch {
	case strings.HasPrefix(c.path, "/items"):
		readPath = "/items/" + strconv.FormatInt(int64(id), 10)
	case strings.HasPrefix(c.path, "/users"), strings.HasPrefix(c.path, "/auth/register"):
		readPath = "/users/" + strconv.FormatInt(int64(id), 10)
	default:
		return
	}
	read := e.do(t, request{Method: "GET", Path: readPath, Token: fx.admin})
	var stored map[string]any
	if read.Status != http.StatusOK || json.Unmarshal(read.Body, &stored) != nil || !reflect.DeepEqual(stored, got) {
		t.Errorf("%s: answered %s, reads back %d %s", where, res.Body, read.Status, read.Body)
	}
}
