package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// committedOpenAPI is the committed copy of the OpenAPI document, which
// clients/typescript is generated from.
var committedOpenAPI = filepath.Join("..", "..", "api", "openapi.json")

// updateOpenAPI names the variable that makes the test rewrite the copy.
const updateOpenAPI = "UPDATE_OPENAPI"

// TestOpenAPIDocumentIsCommitted: api/openapi.json is, byte for byte once
// indented, the document serve publishes with the default settings.
func TestOpenAPIDocumentIsCommitted(t *testing.T) {
	t.Parallel()
	in := start(t, baseSettings("sqlite:///"+filepath.Join(t.TempDir(), "doc.db")))
	status, body := call(t, http.MethodGet, in.URL+"/openapi.json", "", "", nil)
	if status != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", status, body)
	}
	var served bytes.Buffer
	if err := json.Indent(&served, body, "", "  "); err != nil {
		t.Fatalf("GET /openapi.json is not JSON: %v", err)
	}
	served.WriteByte('\n')

	if os.Getenv(updateOpenAPI) != "" {
		if err := os.WriteFile(committedOpenAPI, served.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", committedOpenAPI)
		return
	}
	committed, err := os.ReadFile(committedOpenAPI)
	if err != nil {
		t.Fatalf("%v: create it with %s", err, rewriteCommand)
	}
	if !bytes.Equal(committed, served.Bytes()) {
		line, text := firstDifference(string(committed), served.String())
		t.Fatalf("api/openapi.json is not the document the server serves (line %d: the server has %q)\n"+
			"Update it with %s, regenerate the client (%s) and commit both.",
			line, text, rewriteCommand, regenerateClient)
	}
}

const (
	rewriteCommand   = updateOpenAPI + "=1 go test ./cmd/myapi -run TestOpenAPIDocumentIsCommitted"
	regenerateClient = "cd tools/openapi && npm ci && npm run generate"
)

// firstDifference returns the 1-based number of the first line where
// committed and served differ, and that line of served.
func firstDifference(committed, served string) (int, string) {
	cl, sl := strings.Split(committed, "\n"), strings.Split(served, "\n")
	for i, line := range sl {
		if i >= len(cl) || cl[i] != line {
			return i + 1, strings.TrimSpace(line)
		}
	}
	return len(sl) + 1, "(end of document)"
}
