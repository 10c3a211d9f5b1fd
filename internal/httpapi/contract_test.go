package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"myapi/internal/auth"
	"myapi/internal/httpapi"
	"myapi/internal/logging"
	"myapi/internal/storage"
)

// The contract check: every request a test sends through newEnv's server
// is checked against the OpenAPI document the server publishes, by a real
// validator (pb33f/libopenapi-validator, OpenAPI 3.1). A response must have
// a status the operation lists explicitly (not only "default"), the
// declared content type and a body valid against the schema; a request the
// server accepted (2xx) must be valid too, since a 2xx for a request the
// document calls invalid means the two disagree. Requests outside the
// document (docs pages, /metrics, unknown paths) are not checked.

// contract is the published document and its validator, built once.
type contract struct {
	doc       *v3.Document
	validator validator.Validator
	opts      *config.ValidationOptions
	err       error
}

var (
	contractOnce sync.Once
	theContract  contract
)

// publishedContract builds the validator from /openapi.json as a server
// with docs on serves it. The document does not depend on the engine, so
// a throwaway SQLite file is enough.
func publishedContract() (*contract, error) {
	contractOnce.Do(func() { theContract = loadContract() })
	return &theContract, theContract.err
}

func loadContract() contract {
	dir, err := os.MkdirTemp("", "myapi-contract-")
	if err != nil {
		return contract{err: err}
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := storage.Open(ctx, "sqlite:///"+filepath.Join(dir, "doc.db"), storage.Options{})
	if err != nil {
		return contract{err: err}
	}
	defer db.Close()
	hasher, err := auth.NewHasher(4, 0)
	if err != nil {
		return contract{err: err}
	}
	svc := auth.NewService(db, db, hasher, auth.NewTokens([]byte(testSecret), time.Minute, time.Hour))
	h, err := httpapi.New(httpapi.Config{AppName: "My API", Version: "test", Environment: "development", DocsEnabled: true, MaxBodyBytes: 1 << 20},
		httpapi.Deps{Log: logging.New(io.Discard, true, 0), Auth: svc, Store: db})
	if err != nil {
		return contract{err: err}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		return contract{err: fmt.Errorf("GET /openapi.json: status %d", rec.Code)}
	}
	doc, err := libopenapi.NewDocument(rec.Body.Bytes())
	if err != nil {
		return contract{err: fmt.Errorf("parse /openapi.json: %w", err)}
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return contract{err: fmt.Errorf("build /openapi.json: %w", err)}
	}
	v := validator.NewValidatorFromV3Model(&model.Model)
	return contract{doc: &model.Model, validator: v, opts: config.NewValidationOptions()}
}

// checkContract wraps h so that every exchange is checked against the
// published document; violations fail t.
func checkContract(t testing.TB, h http.Handler) http.Handler {
	c, err := publishedContract()
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody bytes.Buffer
		if r.Body != nil {
			r.Body = readCloser{io.TeeReader(r.Body, &reqBody), r.Body}
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		for _, problem := range c.check(r, reqBody.Bytes(), rec) {
			t.Errorf("contract: %s %s → %d: %s", r.Method, r.URL.RequestURI(), rec.status, problem)
		}
	})
}

// check returns what in one exchange disagrees with the document.
func (c *contract) check(r *http.Request, reqBody []byte, rec *recorder) []string {
	// 499: the client hung up and reads nothing. 405: the router found no
	// such method for the path, so no operation answered (the validator
	// may still match "/items/" to /items/{item_id} with an empty id).
	if rec.status == 499 || rec.status == http.StatusMethodNotAllowed {
		return nil
	}
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	req.RequestURI = ""
	// A body without a Content-Type, or of an application/*+json type, is
	// read as JSON, by the seed's FastAPI as by huma; the document can only
	// say application/json, so it is checked as that.
	if ct := req.Header.Get("Content-Type"); len(reqBody) > 0 && (ct == "" || readAsJSON(ct)) {
		req.Header.Set("Content-Type", "application/json")
	}
	pathItem, errs, _ := paths.FindPath(req, c.doc, c.opts)
	if pathItem == nil || len(errs) > 0 {
		return nil // not an operation of the document
	}
	op := pathItem.GetOperations().GetOrZero(strings.ToLower(r.Method))
	if op == nil {
		return nil // 405: no such operation
	}
	var problems []string
	code := strconv.Itoa(rec.status)
	if op.Responses == nil || op.Responses.Codes == nil ||
		(op.Responses.Codes.GetOrZero(code) == nil && op.Responses.Codes.GetOrZero(code[:1]+"XX") == nil) {
		problems = append(problems, "status "+code+" is not documented for this operation")
	}
	res := &http.Response{
		StatusCode: rec.status,
		Header:     rec.Header().Clone(),
		Body:       io.NopCloser(bytes.NewReader(rec.body.Bytes())),
		Request:    req,
	}
	if ok, verrs := c.validator.ValidateHttpResponse(req, res); !ok {
		for _, e := range verrs {
			problems = append(problems, "response: "+describe(e.Message, e.Reason, e.SchemaValidationErrors))
		}
	}
	if rec.status >= 200 && rec.status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if ok, verrs := c.validator.ValidateHttpRequestSync(req); !ok {
			for _, e := range verrs {
				problems = append(problems, "accepted request: "+describe(e.Message, e.Reason, e.SchemaValidationErrors))
			}
		}
	}
	return problems
}

// readAsJSON tells an application/*+json media type.
func readAsJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// describe joins a validation error's message, reason and schema errors.
func describe[T any](msg, reason string, schemaErrs []T) string {
	s := msg
	if reason != "" && reason != msg {
		s += ": " + reason
	}
	for _, se := range schemaErrs {
		s += fmt.Sprintf("; %+v", se)
	}
	return s
}

// recorder passes a response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader && status >= 200 {
		r.status, r.wroteHeader = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wroteHeader = true
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming responses through.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the original writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// readCloser reads through one reader and closes another.
type readCloser struct {
	io.Reader
	io.Closer
}

// The check itself fails on drift: an undocumented status, a body that
// breaks its schema, a wrong content type, and a 2xx for an invalid request.
func TestContractCheckCatchesDrift(t *testing.T) {
	c, err := publishedContract()
	if err != nil {
		t.Fatal(err)
	}
	item := `{"id":1,"title":"Lamp","description":null,"price":2.5,"owner_id":1}`
	tests := []struct {
		name, method, path, reqBody string
		status                      int
		ctype, body                 string
		wantProblem                 bool
	}{
		{"valid item", "GET", "/items/1", "", 200, "application/json", item, false},
		{"undocumented status", "GET", "/items/1", "", http.StatusTeapot, "application/problem+json", `{"title":"x","status":418,"detail":"x"}`, true},
		{"body breaks the schema", "GET", "/items/1", "", 200, "application/json", `{"id":"one","title":"Lamp","price":2.5,"owner_id":1}`, true},
		{"undeclared content type", "GET", "/items/1", "", 200, "text/plain", "Lamp", true},
		{"2xx for an invalid request", "POST", "/auth/register", `{"email":"a@example.com","username":"ab","password":"x"}`, 201, "application/json",
			`{"id":1,"email":"a@example.com","username":"ab","is_active":true,"is_superuser":false,"created_at":"2026-01-01T00:00:00Z"}`, true},
		{"4xx for an invalid request", "POST", "/auth/register", `{"email":"a@example.com","username":"ab","password":"x"}`, 422, "application/problem+json",
			`{"title":"Unprocessable Entity","status":422,"detail":"validation failed"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.reqBody))
			if tt.reqBody != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			rec := &recorder{ResponseWriter: httptest.NewRecorder(), status: tt.status}
			rec.Header().Set("Content-Type", tt.ctype)
			rec.body.WriteString(tt.body)
			problems := c.check(r, []byte(tt.reqBody), rec)
			if got := len(problems) > 0; got != tt.wantProblem {
				t.Errorf("problems %q, want some: %v", problems, tt.wantProblem)
			}
		})
	}
}
