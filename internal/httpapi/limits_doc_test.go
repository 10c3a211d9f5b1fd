package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"myapi/internal/items"
	"myapi/internal/storage"
	"myapi/internal/testdb"
)

// TestDocumentedLimits: what the document says about bodies is what the
// server does: every operation with a body documents 400, 408, 413, 415
// and 422; description may be null on create (as the seed allows) and is
// then stored as null; grant_type's enum includes the empty value the seed
// accepts.
func TestDocumentedLimits(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true})
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *json.RawMessage           `json:"requestBody"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Type any   `json:"type"`
					Enum []any `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"}).Body, &doc); err != nil {
		t.Fatal(err)
	}
	withBody := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if op.RequestBody == nil {
				continue
			}
			withBody++
			for _, code := range []string{"400", "408", "413", "415", "422"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
		}
	}
	if withBody < 8 {
		t.Errorf("only %d operations with a body", withBody)
	}
	if typ := doc.Components.Schemas["ItemCreate"].Properties["description"].Type; !strings.Contains(toJSON(typ), `"null"`) {
		t.Errorf("ItemCreate.description is not nullable: %v", typ)
	}
	if enum := toJSON(doc.Components.Schemas["LoginForm"].Properties["grant_type"].Enum); enum != `["password",""]` {
		t.Errorf("grant_type enum = %s", enum)
	}

	token, _ := e.user(t, "nora")
	it := e.expect(t, http.StatusCreated, jsonBody("POST", "/items", token, `{"title":"Lamp","price":1,"description":null}`)).JSON(t)
	if v, ok := it["description"]; !ok || v != nil {
		t.Errorf("created with description null: %v", it)
	}
	got := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/items/" + itoa(int64(it["id"].(float64)))}).JSON(t)
	if got["description"] != nil {
		t.Errorf("read back: %v", got)
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// tamperedItems changes an item before the real store writes it: a way to
// make the real database refuse a write the API would never send.
type tamperedItems struct {
	storage.Resources
	tamper func(*items.Item)
}

func (s tamperedItems) CreateItem(ctx context.Context, it *items.Item) error {
	s.tamper(it)
	return s.Resources.CreateItem(ctx, it)
}

// TestDatabaseRefusals: a constraint the database enforces and the API
// did not check is a 4xx with a detail, never a 500, on both engines.
func TestDatabaseRefusals(t *testing.T) {
	for _, engine := range testdb.Engines(t) {
		for _, tc := range []struct {
			name   string
			tamper func(*items.Item)
			status int
			detail string
		}{
			{"CHECK", func(it *items.Item) { it.Price = -1 }, http.StatusUnprocessableEntity, "A value of this request cannot be stored"},
			{"FOREIGN KEY", func(it *items.Item) { it.OwnerID += 1 << 40 }, http.StatusConflict, "The request conflicts with the stored data"},
		} {
			t.Run(engine.Name+" "+tc.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, engine, envOptions{wrapStore: func(s storage.Resources) storage.Resources { return tamperedItems{s, tc.tamper} }})
				token, _ := e.user(t, "tim")
				res := e.expect(t, tc.status, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": "Lamp", "price": 1}})
				if d := res.Detail(t); d != tc.detail && !strings.HasPrefix(d, tc.detail) {
					t.Errorf("detail %q", d)
				}
				if !strings.Contains(e.Logs.String(), `"level":"WARN","msg":"database refused`) {
					t.Errorf("the refusal was not logged as a warning:\n%s", e.Logs.String())
				}
			})
		}
	}
}
