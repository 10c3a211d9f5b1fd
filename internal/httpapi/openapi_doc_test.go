package httpapi_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// openAPIDoc is the part of the document the client-facing checks read.
type openAPIDoc struct {
	Info struct {
		Description string         `json:"description"`
		Contact     map[string]any `json:"contact"`
		License     map[string]any `json:"license"`
	} `json:"info"`
	Servers []map[string]any `json:"servers"`
	Tags    []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths      map[string]map[string]openAPIOperation `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

type openAPIOperation struct {
	OperationID string            `json:"operationId"`
	Description string            `json:"description"`
	Tags        []string          `json:"tags"`
	Security    *[]map[string]any `json:"security"`
	Parameters  []openAPIParam    `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Content map[string]struct {
			Schema map[string]any `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

type openAPIParam struct {
	Name       string `json:"name"`
	In         string `json:"in"`
	Deprecated bool   `json:"deprecated"`
}

// servedDocument is /openapi.json as a test server with docs on serves it,
// raw and decoded.
func servedDocument(t *testing.T) ([]byte, openAPIDoc) {
	t.Helper()
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true})
	raw := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"}).Body
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return raw, doc
}

// forEachOperation calls fn with each operation's method and path.
func (d openAPIDoc) forEachOperation(fn func(name string, op openAPIOperation)) {
	for path, item := range d.Paths {
		for method, op := range item {
			fn(strings.ToUpper(method)+" "+path, op)
		}
	}
}

// The document is written for the clients generated from it: each check
// is one thing a generator turns into a worse type, or a linter refuses.
func TestOpenAPIDocumentForClients(t *testing.T) {
	raw, doc := servedDocument(t)
	tagged := map[string]bool{}
	for _, tag := range doc.Tags {
		tagged[tag.Name] = tag.Description != ""
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"info has a description, a contact and a licence; servers are listed", func(t *testing.T) {
			if doc.Info.Description == "" || doc.Info.Contact["name"] == nil || doc.Info.License["name"] == nil || len(doc.Servers) == 0 {
				t.Errorf("info %+v, servers %v", doc.Info, doc.Servers)
			}
		}},
		{"errors are a Problem with detail, title and status required", func(t *testing.T) {
			required, _ := doc.Components.Schemas["Problem"]["required"].([]any)
			for _, f := range []any{"detail", "title", "status"} {
				if !slices.Contains(required, f) {
					t.Errorf("Problem.required = %v, lacks %v", required, f)
				}
			}
			doc.forEachOperation(func(name string, op openAPIOperation) {
				for code, r := range op.Responses {
					if code < "400" {
						continue
					}
					ref, _ := r.Content["application/problem+json"].Schema["$ref"].(string)
					if ref != "#/components/schemas/Problem" {
						t.Errorf("%s %s: error schema %v", name, code, r.Content)
					}
				}
			})
		}},
		{"no array is nullable", func(t *testing.T) {
			if strings.Contains(string(raw), `["array","null"]`) {
				t.Error(`the document has a "type": ["array", "null"]`)
			}
		}},
		{"schema names say what they are", func(t *testing.T) {
			for name := range doc.Components.Schemas {
				if strings.HasSuffix(name, "Body") || strings.HasSuffix(name, "Model") || name == "Count" {
					t.Errorf("schema %s is named after Go, not after what it is", name)
				}
			}
		}},
		{"token_type is the enum bearer", func(t *testing.T) {
			tt, _ := doc.Components.Schemas["Token"]["properties"].(map[string]any)["token_type"].(map[string]any)
			if enum, _ := tt["enum"].([]any); len(enum) != 1 || enum[0] != "bearer" {
				t.Errorf("token_type = %v", tt)
			}
		}},
		{"the refresh_token query is deprecated", func(t *testing.T) {
			for _, path := range []string{"/auth/refresh", "/auth/logout"} {
				op := doc.Paths[path]["post"]
				i := slices.IndexFunc(op.Parameters, func(p openAPIParam) bool { return p.Name == "refresh_token" && p.In == "query" })
				if i < 0 || !op.Parameters[i].Deprecated {
					t.Errorf("POST %s: parameters %+v", path, op.Parameters)
				}
			}
		}},
		{"every operation is described, tagged with a described tag, and states its security", func(t *testing.T) {
			doc.forEachOperation(func(name string, op openAPIOperation) {
				if op.Description == "" {
					t.Errorf("%s has no description", name)
				}
				if len(op.Tags) == 0 || !tagged[op.Tags[0]] {
					t.Errorf("%s: tags %v are not described in the document's tags", name, op.Tags)
				}
				if op.Security == nil {
					t.Errorf("%s does not say whether it needs a token (security: [] when public)", name)
				}
			})
		}},
		{"request bodies are JSON or a form, without an index signature", func(t *testing.T) {
			doc.forEachOperation(func(name string, op openAPIOperation) {
				if op.RequestBody == nil {
					return
				}
				for ct, mt := range op.RequestBody.Content {
					if ct != "application/json" && ct != "application/x-www-form-urlencoded" {
						t.Errorf("%s accepts %s", name, ct)
					}
					ref, _ := mt.Schema["$ref"].(string)
					schema := doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
					if schema == nil {
						t.Errorf("%s: body schema %v is not a named schema", name, mt.Schema)
					} else if ap, ok := schema["additionalProperties"]; ok && ap != false {
						t.Errorf("%s: body schema %s has additionalProperties %v", name, ref, ap)
					}
				}
			})
		}},
		{"every operation with a JSON body documents 400, 413 and 415", func(t *testing.T) {
			doc.forEachOperation(func(name string, op openAPIOperation) {
				if op.RequestBody == nil || op.RequestBody.Content["application/json"].Schema == nil {
					return
				}
				for _, code := range []string{"400", "413", "415", "422"} {
					if _, ok := op.Responses[code]; !ok {
						t.Errorf("%s does not document %s", name, code)
					}
				}
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

// Request bodies are documented without an index signature, yet fields
// the server does not know stay accepted and ignored, as by the seed (the
// contract check validates each of these accepted requests too).
func TestUnknownFieldsAreIgnored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, _ := e.user(t, "olga")
		admin, _ := e.superuser(t, "root")
		_, otherID := e.user(t, "pavel")
		item := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token,
			JSON: map[string]any{"title": "Lamp", "price": 3, "colour": "red"}}).JSON(t)
		if _, ok := item["colour"]; ok {
			t.Errorf("an unknown field came back: %v", item)
		}
		_, refresh := e.login(t, "olga")
		tests := []struct {
			name string
			req  request
			want int
		}{
			{"register", request{Method: "POST", Path: "/auth/register", JSON: map[string]any{
				"email": "quinn@example.com", "username": "quinn", "password": "password123", "full_name": "Quinn"}}, http.StatusCreated},
			{"update an item", request{Method: "PUT", Path: "/items/" + itoa(int64(item["id"].(float64))), Token: token,
				JSON: map[string]any{"colour": "blue"}}, http.StatusOK},
			{"update oneself", request{Method: "PUT", Path: "/users/me", Token: token, JSON: map[string]any{"nickname": "o"}}, http.StatusOK},
			{"update a user", request{Method: "PATCH", Path: "/users/" + itoa(otherID), Token: admin,
				JSON: map[string]any{"role": "admin"}}, http.StatusOK},
			{"refresh", request{Method: "POST", Path: "/auth/refresh", JSON: map[string]any{
				"refresh_token": refresh, "grant_type": "refresh_token"}}, http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e.expect(t, tt.want, tt.req)
			})
		}
	})
}
