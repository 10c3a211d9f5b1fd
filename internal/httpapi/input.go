package httpapi

import (
	"net/http"
	"strings"
	"unicode/utf8"

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

// checkParams checks the query and path parameters op declares.
func checkParams(ctx huma.Context, op *huma.Operation) *input.Problem {
	// A raw query of ASCII without NUL or '%' cannot decode to NUL or
	// invalid UTF-8: the common case costs one scan of it.
	plainQuery := plainASCII(ctx.URL().RawQuery)
	for _, p := range op.Parameters {
		var v string
		switch {
		case p.In == "path":
			v = ctx.Param(p.Name)
		case p.In == "query" && !plainQuery:
			v = ctx.Query(p.Name)
		default:
			continue
		}
		if msg := input.TextProblem(v); msg != "" {
			return &input.Problem{Location: p.In + "." + p.Name, Message: msg}
		}
	}
	return nil
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '%' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
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
