package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"myapi/internal/testdb"
)

// The login form is documented field by field, so that Swagger UI's "Try it
// out" offers a username and a password.
func TestOpenAPIDescribesLoginForm(t *testing.T) {
	e := newEnv(t, testdb.Engines(t)[0], envOptions{docs: true})
	res := e.expect(t, http.StatusOK, request{Method: "GET", Path: "/openapi.json"})
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema map[string]any `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatal(err)
	}
	form, ok := doc.Paths["/auth/login"]["post"].RequestBody.Content["application/x-www-form-urlencoded"]
	if !ok {
		t.Fatalf("login has no form body: %+v", doc.Paths["/auth/login"])
	}
	if ref, _ := form.Schema["$ref"].(string); ref != "#/components/schemas/LoginForm" {
		t.Fatalf("login form schema = %v", form.Schema)
	}
	props := doc.Components.Schemas["LoginForm"].Properties
	for _, field := range []string{"username", "password"} {
		if _, ok := props[field]; !ok {
			t.Errorf("LoginForm lacks %s: %v", field, props)
		}
	}
}
