package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// This file walks the served OpenAPI document generically, for the tests
// that must catch a new resource's mistakes without an edit of theirs
// (access_test.go, cachewalk_test.go): it reads the operations, fills
// their path parameters with rows it creates through the document's own
// POST operations, and synthesizes request bodies from the schemas.
// Nothing here names a resource of myapi, except the users: no POST
// /users exists, so a {user_id} (or a user_id property) is a user the
// walk registered.

// walkDoc is the part of a served OpenAPI document the walks read (and
// TestHostileInput, which generates its values from the same schemas).
type walkDoc struct {
	Paths      map[string]map[string]*docOp `json:"paths"`
	Components struct {
		Schemas map[string]*docSchema `json:"schemas"`
	} `json:"components"`
}

// docOp is one operation of the document.
type docOp struct {
	OperationID string `json:"operationId"`
	Description string `json:"description"`
	Parameters  []struct {
		Name   string     `json:"name"`
		In     string     `json:"in"`
		Schema *docSchema `json:"schema"`
	} `json:"parameters"`
	Security    []map[string][]string `json:"security"`
	Access      string                `json:"x-access"`
	RateLimit   string                `json:"x-rate-limit"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *docSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Headers map[string]json.RawMessage `json:"headers"`
	} `json:"responses"`
	// Method (upper case) and Path are the operation's place in paths.
	Method, Path string `json:"-"`
}

// docSchema is a JSON schema of the document, as far as body synthesis
// and the hostile values need it.
type docSchema struct {
	Ref              string                `json:"$ref"`
	Type             any                   `json:"type"` // a name, or a list of names ("string", "null")
	Format           string                `json:"format"`
	Properties       map[string]*docSchema `json:"properties"`
	Required         []string              `json:"required"`
	Example          any                   `json:"example"`
	Examples         []any                 `json:"examples"`
	Default          any                   `json:"default"`
	Enum             []any                 `json:"enum"`
	MinLength        *int                  `json:"minLength"`
	MaxLength        *int                  `json:"maxLength"`
	Minimum          *float64              `json:"minimum"`
	Maximum          *float64              `json:"maximum"`
	ExclusiveMinimum *float64              `json:"exclusiveMinimum"`
}

// readDoc reads e's /openapi.json (e must serve the docs).
func readDoc(t *testing.T, e *env) *walkDoc {
	t.Helper()
	var doc walkDoc
	if err := json.Unmarshal(e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	for path, methods := range doc.Paths {
		for method, op := range methods {
			op.Method, op.Path = strings.ToUpper(method), path
		}
	}
	return &doc
}

// ops lists the operations, by operation id.
func (d *walkDoc) ops() []*docOp {
	var ops []*docOp
	for _, methods := range d.Paths {
		for _, op := range methods {
			ops = append(ops, op)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].OperationID < ops[j].OperationID })
	return ops
}

// op is the operation method path, or nil.
func (d *walkDoc) op(method, path string) *docOp {
	return d.Paths[path][strings.ToLower(method)]
}

// resolve follows s's $ref into components.schemas.
func (d *walkDoc) resolve(s *docSchema) *docSchema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// writes reports whether op may change data (any method but GET).
func (op *docOp) writes() bool { return op.Method != http.MethodGet }

// cached reports whether op is a cached read: a GET whose 200 response
// declares X-Cache.
func (op *docOp) cached() bool {
	_, ok := op.Responses["200"].Headers["X-Cache"]
	return op.Method == http.MethodGet && ok
}

// String names op in failure messages.
func (op *docOp) String() string { return op.OperationID + " (" + op.Method + " " + op.Path + ")" }

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// pathParams lists the parameters of path, in order.
func pathParams(path string) []string {
	var names []string
	for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
		names = append(names, m[1])
	}
	return names
}

// bodySchema is op's request body: its media type and resolved schema
// (nil when op takes none). JSON is preferred when several are offered.
func (d *walkDoc) bodySchema(op *docOp) (string, *docSchema) {
	if op.RequestBody == nil {
		return "", nil
	}
	if c, ok := op.RequestBody.Content["application/json"]; ok {
		return "application/json", d.resolve(c.Schema)
	}
	for ctype, c := range op.RequestBody.Content {
		return ctype, d.resolve(c.Schema)
	}
	return "", nil
}

// idNames lists the ids op takes: its path parameters, then the *_id
// properties of its body.
func (d *walkDoc) idNames(op *docOp) []string {
	names := pathParams(op.Path)
	if _, s := d.bodySchema(op); s != nil {
		for _, name := range propNames(s.Properties) {
			if strings.HasSuffix(name, "_id") {
				names = append(names, name)
			}
		}
	}
	return names
}

// propNames lists the keys of m in order.
func propNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hasType reports whether s admits JSON type name.
func (s *docSchema) hasType(name string) bool {
	switch ty := s.Type.(type) {
	case string:
		return ty == name
	case []any:
		for _, v := range ty {
			if v == name {
				return true
			}
		}
	}
	return false
}

// synthesize is a valid value for s: its example, else its default, else
// its first enum value, else one meeting minLength, minimum or
// exclusiveMinimum. ok is false when s gives nothing to go on. changed
// asks for a value unlike the example where that is safe (a plain string
// gets a suffix within maxLength, a number grows by one): an update
// setting what the row was created with would change nothing, and prove
// nothing to the cache walk.
func (s *docSchema) synthesize(changed bool) (v any, ok bool) {
	v, ok = s.plainValue()
	if !changed || !ok || len(s.Enum) > 0 {
		return v, ok
	}
	switch x := v.(type) {
	case string:
		if s.Format != "" {
			return v, ok // an email or a date would not stay valid
		}
		x += "2"
		if s.MaxLength != nil && len(x) > *s.MaxLength {
			return v, ok
		}
		return x, true
	case float64:
		return x + 1, true
	}
	return v, ok
}

// plainValue is synthesize's value before any change.
func (s *docSchema) plainValue() (v any, ok bool) {
	switch {
	case s.Example != nil:
		return s.Example, true
	case len(s.Examples) > 0:
		return s.Examples[0], true
	case s.Default != nil:
		return s.Default, true
	case len(s.Enum) > 0:
		return s.Enum[0], true
	case s.hasType("string") && s.MinLength != nil:
		return strings.Repeat("x", max(*s.MinLength, 1)), true
	case (s.hasType("number") || s.hasType("integer")) && s.Minimum != nil:
		return *s.Minimum, true
	case (s.hasType("number") || s.hasType("integer")) && s.ExclusiveMinimum != nil:
		return *s.ExclusiveMinimum + 1, true
	}
	return nil, false
}

// party is a user a walk acts as.
type party struct {
	name, token, refresh string
	id                   int64
}

// walker makes what the operations of one server's document need.
type walker struct {
	e   *env
	doc *walkDoc
	seq int // names users uniquely
}

// newWalker reads e's document.
func newWalker(t *testing.T, e *env) *walker {
	t.Helper()
	return &walker{e: e, doc: readDoc(t, e)}
}

// newUser registers a user named after role.
func (w *walker) newUser(t *testing.T, role string) party {
	t.Helper()
	w.seq++
	name := fmt.Sprintf("%s%d", role, w.seq)
	id := int64(w.e.register(t, name)["id"].(float64))
	token, refresh := w.e.login(t, name)
	return party{name: name, token: token, refresh: refresh, id: id}
}

// newSuperuser creates a superuser named after role.
func (w *walker) newSuperuser(t *testing.T, role string) party {
	t.Helper()
	w.seq++
	name := fmt.Sprintf("%s%d", role, w.seq)
	_, id := w.e.superuser(t, name)
	token, refresh := w.e.login(t, name)
	return party{name: name, token: token, refresh: refresh, id: id}
}

// rowSet is the rows one call uses, made on first use by one party
// through the document's POST operations: one row per collection.
type rowSet struct {
	w  *walker
	by party // makes the rows, and is the user a {user_id} names
	// ids holds the id made for each collection (a path template such as
	// "/items"), made holds the row as its POST answered.
	ids  map[string]int64
	made map[string]map[string]any
	// override sets an id by parameter or property name, ahead of ids
	// (the intruder's row in the cross-id check).
	override map[string]int64
	// used records the collection each name took its id from.
	used map[string]string
	// making holds the collections whose row is being made (a body whose
	// *_id names its own collection would recurse forever).
	making map[string]bool
}

// rows starts a set of rows made by p.
func (w *walker) rows(p party) *rowSet {
	return &rowSet{w: w, by: p, ids: map[string]int64{}, made: map[string]map[string]any{},
		override: map[string]int64{}, used: map[string]string{}, making: map[string]bool{}}
}

// collectionFor is the collection whose rows name (a path parameter of
// path, or a *_id body property) takes: for {p} in /a/{p}, the path up
// to /{p} if the document can POST there, else the collection named by
// its last segment (/projects/{project_id}/items -> /items); for a
// property x_id, /xs. "" when no POST exists for it.
func (r *rowSet) collectionFor(path, name string) string {
	var candidates []string
	if i := strings.Index(path, "/{"+name+"}"); i > 0 {
		coll := path[:i]
		candidates = append(candidates, coll, coll[strings.LastIndex(coll, "/"):])
	} else {
		candidates = append(candidates, "/"+strings.TrimSuffix(name, "_id")+"s")
	}
	for _, c := range candidates {
		if r.w.doc.op(http.MethodPost, c) != nil {
			return c
		}
	}
	return ""
}

// idFor is the id name takes in a call of path: a user_id (or owner_id)
// is the party's own id; any other the id of a row of its collection.
func (r *rowSet) idFor(t *testing.T, path, name string) (int64, error) {
	t.Helper()
	if id, ok := r.override[name]; ok {
		return id, nil
	}
	if name == "user_id" || name == "owner_id" {
		return r.by.id, nil
	}
	coll := r.collectionFor(path, name)
	if coll == "" {
		return 0, fmt.Errorf("cannot fill %s of %s: the document has no POST to make its row", name, path)
	}
	r.used[name] = coll
	return r.row(t, coll)
}

// row is the id of the set's row of collection coll, made on first use.
func (r *rowSet) row(t *testing.T, coll string) (int64, error) {
	t.Helper()
	if id, ok := r.ids[coll]; ok {
		return id, nil
	}
	if r.making[coll] {
		return 0, fmt.Errorf("making a row of %s needs a row of %s first", coll, coll)
	}
	r.making[coll] = true
	defer delete(r.making, coll)
	post := r.w.doc.op(http.MethodPost, coll)
	req, err := r.request(t, post)
	if err != nil {
		return 0, err
	}
	res := r.w.e.do(t, req)
	if res.Status/100 != 2 {
		return 0, fmt.Errorf("making a row of %s: %s %s: %d %s", coll, req.Method, req.Path, res.Status, bytes.TrimSpace(res.Body))
	}
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		return 0, fmt.Errorf("making a row of %s: %w: %s", coll, err, bytes.TrimSpace(res.Body))
	}
	id, ok := m["id"].(float64)
	if !ok {
		return 0, fmt.Errorf("making a row of %s: no numeric id in %s", coll, bytes.TrimSpace(res.Body))
	}
	r.ids[coll], r.made[coll] = int64(id), m
	return int64(id), nil
}

// fill is path with every parameter filled (earlier ones first, since a
// nested collection's POST needs them).
func (r *rowSet) fill(t *testing.T, path string) (string, error) {
	t.Helper()
	filled := path
	for _, name := range pathParams(path) {
		id, err := r.idFor(t, path, name)
		if err != nil {
			return "", err
		}
		filled = strings.Replace(filled, "{"+name+"}", itoa(id), 1)
	}
	return filled, nil
}

// request is a call of op by the set's party: path filled, body
// synthesized.
func (r *rowSet) request(t *testing.T, op *docOp) (request, error) {
	t.Helper()
	path, err := r.fill(t, op.Path)
	if err != nil {
		return request{}, err
	}
	req := request{Method: op.Method, Path: path, Token: r.by.token}
	ctype, s := r.w.doc.bodySchema(op)
	if s == nil {
		return req, nil
	}
	body, err := r.body(t, op, ctype, s)
	if err != nil {
		return request{}, err
	}
	req.ContentType = ctype
	if ctype == "application/x-www-form-urlencoded" {
		form := url.Values{}
		for k, v := range body {
			form.Set(k, fmt.Sprint(v))
		}
		req.Body = form.Encode()
		return req, nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return request{}, err
	}
	req.Body = string(b)
	return req, nil
}

// body synthesizes a body of schema s: its required properties and its
// *_id properties. A body that requires nothing also sets its first
// property with something to go on, so that a write changes something
// (an empty update would prove nothing to the cache walk). A few values
// come from the party instead of the schema, since no example can hold
// them: a refresh token, and the credentials of a form (the login).
func (r *rowSet) body(t *testing.T, op *docOp, ctype string, s *docSchema) (map[string]any, error) {
	t.Helper()
	required := map[string]bool{}
	for _, name := range s.Required {
		required[name] = true
	}
	known := map[string]any{"refresh_token": r.by.refresh}
	if ctype == "application/x-www-form-urlencoded" {
		known["username"], known["password"] = r.by.name, "password123"
	}
	// An update (PUT, PATCH) sets values unlike those its row was made with.
	update := op.Method == http.MethodPut || op.Method == http.MethodPatch
	body := map[string]any{}
	for _, name := range propNames(s.Properties) {
		prop := r.w.doc.resolve(s.Properties[name])
		switch v, isKnown := known[name]; {
		case isKnown && (required[name] || strings.HasSuffix(name, "_id")):
			body[name] = v
		case strings.HasSuffix(name, "_id"):
			id, err := r.idFor(t, op.Path, name)
			if err != nil {
				return nil, fmt.Errorf("%s: body: %w", op, err)
			}
			body[name] = id
		case required[name]:
			v, ok := prop.synthesize(update)
			if !ok {
				return nil, fmt.Errorf("%s: required property %q has nothing to synthesize a value from: give it an `example` tag", op, name)
			}
			body[name] = v
		}
	}
	if len(s.Required) == 0 && len(body) == 0 {
		for _, name := range propNames(s.Properties) {
			if v, ok := r.w.doc.resolve(s.Properties[name]).synthesize(update); ok {
				body[name] = v
				break
			}
		}
	}
	return body, nil
}
