package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/input"
)

// checkInput refuses, before huma parses a request, what huma's schema
// validation cannot see and the database cannot store, with a 422 naming
// the place: NUL or invalid UTF-8 in a query or path parameter, and in a
// JSON body a key given twice, NUL, or half a surrogate pair
// (input.CheckJSON). Every other character is accepted, control characters
// included, as the seed accepts them.
func checkInput(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		problem := checkParams(ctx, op)
		if problem == nil {
			if body := jsonBody(ctx, op); body != nil {
				problem = input.CheckJSON(body)
			}
		}
		if problem != nil {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "validation failed", problemDetails(*problem)...)
			return
		}
		next(ctx)
	}
}

// checkParams checks the query and path parameters op declares: a query
// parameter given twice is refused (huma reads the first, the seed the
// last), and so is an empty value where a number is expected (huma would
// take it for absent and use the default; the seed refuses it).
func checkParams(ctx huma.Context, op *huma.Operation) *input.Problem {
	var query url.Values
	if u := ctx.URL(); u.RawQuery != "" {
		query = u.Query()
	}
	for _, p := range op.Parameters {
		var values []string
		switch p.In {
		case "path":
			values = []string{ctx.Param(p.Name)}
		case "query":
			values = query[p.Name]
		default:
			continue
		}
		loc := p.In + "." + p.Name
		switch {
		case len(values) == 0:
			continue
		case len(values) > 1:
			return &input.Problem{Location: loc, Message: input.MsgDuplicate}
		}
		if msg := input.TextProblem(values[0]); msg != "" {
			return &input.Problem{Location: loc, Message: msg}
		}
		if values[0] == "" && p.Schema != nil && (p.Schema.Type == "integer" || p.Schema.Type == "number") {
			return &input.Problem{Location: loc, Message: "expected " + p.Schema.Type + ", got an empty value"}
		}
	}
	return nil
}

// jsonBody returns the body of a request that huma will decode as JSON,
// or nil.
func jsonBody(ctx huma.Context, op *huma.Operation) []byte {
	if op.RequestBody == nil || op.RequestBody.Content["application/json"] == nil {
		return nil
	}
	// huma takes a body without a Content-Type for JSON.
	if ct := ctx.Header("Content-Type"); ct != "" && !isJSONContentType(ct) {
		return nil
	}
	b, ok := ctx.BodyReader().(*bufferedBody)
	if !ok {
		return nil
	}
	return b.data
}

// isJSONContentType tells the content types that huma decodes as JSON, the
// way huma picks a format: "application/json", or any "…+json", with or
// without parameters.
func isJSONContentType(ct string) bool {
	start := strings.IndexByte(ct, '+') + 1
	end := strings.IndexByte(ct, ';')
	if end < 0 {
		end = len(ct)
	}
	if end < start {
		return false
	}
	key := ct[start:end]
	return key == "application/json" || key == "json"
}
