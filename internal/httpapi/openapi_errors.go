package httpapi

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
)

// documentTransportErrors adds to every operation the error responses that
// the server's shared layers give, so that the document lists every status
// a client can meet: 400 (malformed or incomplete body), 408 (a body that
// arrives too slowly), 413 (body over MAX_BODY_BYTES) and 415 (wrong
// Content-Type) where there is a request body, 429 where a rate limit
// applies, and 503 (the database is unreachable) wherever a 500 is
// documented. Each reuses the operation's own error schema.
func documentTransportErrors(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			var codes []int
			if op.RequestBody != nil {
				codes = append(codes, http.StatusBadRequest, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
			}
			if d, _ := declarationOf(op); d.class != access.None {
				codes = append(codes, http.StatusTooManyRequests)
			}
			if op.Responses["500"] != nil {
				codes = append(codes, http.StatusServiceUnavailable)
			}
			addErrorResponses(op, codes)
		}
	}
}

// documentConflicts adds 409 to every operation that writes: a write that
// collides with a concurrent one (a row it relies on is gone) is refused by
// the database, and answered 409 (server.fail).
func documentConflicts(api huma.API) {
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil {
				addErrorResponses(op, []int{http.StatusConflict})
			}
		}
	}
}

// addErrorResponses documents each of codes that op does not list yet,
// with the content of one of its documented errors.
func addErrorResponses(op *huma.Operation, codes []int) {
	var template *huma.Response
	for code, r := range op.Responses {
		if code >= "400" && code != "default" && r.Content != nil {
			template = r
			break
		}
	}
	if template == nil {
		return
	}
	for _, code := range codes {
		key := strconv.Itoa(code)
		if _, ok := op.Responses[key]; ok {
			continue
		}
		op.Responses[key] = &huma.Response{Description: http.StatusText(code), Content: template.Content}
	}
}
