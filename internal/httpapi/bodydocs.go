package httpapi

import (
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// documentBodyErrors documents, on every operation of api that takes a
// request body, the answers it can give before its handler runs: a
// malformed or incomplete body (400), one that arrives too slowly (408),
// one over MAX_BODY_BYTES (413), one of a content type the operation does
// not read (415). They share the schema of the operation's own 422.
func documentBodyErrors(api huma.API) {
	codes := []int{http.StatusBadRequest, http.StatusRequestTimeout, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType}
	for _, item := range api.OpenAPI().Paths {
		for _, op := range []*huma.Operation{item.Post, item.Put, item.Patch} {
			if op == nil || op.RequestBody == nil {
				continue
			}
			problem := op.Responses[strconv.Itoa(http.StatusUnprocessableEntity)]
			if problem == nil {
				continue
			}
			for _, code := range codes {
				if key := strconv.Itoa(code); op.Responses[key] == nil {
					op.Responses[key] = &huma.Response{Description: http.StatusText(code), Content: problem.Content}
				}
			}
		}
	}
}
