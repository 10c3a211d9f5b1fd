package httpapi

import (
	"maps"
	"net/url"
	"slices"

	"github.com/danielgtaylor/huma/v2"
)

// parseForm decodes an application/x-www-form-urlencoded body as
// url.ParseQuery does, and refuses with a 422 naming the field what would
// make it ambiguous or unstorable: a field given twice (which value counts
// would depend on the reader: url.Values.Get takes the first, Starlette the
// last), NUL, or invalid UTF-8. Every other character is accepted.
func parseForm(body []byte) (map[string]string, error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("malformed form body: " + err.Error())
	}
	form := make(map[string]string, len(values))
	var errs []error
	for _, key := range slices.Sorted(maps.Keys(values)) {
		vs := values[key]
		problem := textProblem(key)
		switch {
		case problem != "":
		case len(vs) > 1:
			problem = msgDuplicate
		default:
			problem = textProblem(vs[0])
		}
		if problem != "" {
			errs = append(errs, &huma.ErrorDetail{Location: "body." + key, Message: problem})
			continue
		}
		form[key] = vs[0]
	}
	if len(errs) > 0 {
		return nil, huma.Error422UnprocessableEntity("validation failed", errs...)
	}
	return form, nil
}
