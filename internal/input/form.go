package input

import (
	"maps"
	"net/url"
	"slices"
)

// ParseForm decodes an application/x-www-form-urlencoded body as
// url.ParseQuery does (err is its error for a malformed body), and reports
// what would make it ambiguous or unstorable, field by field in name
// order: a field given twice (url.Values.Get takes the first, the seed's
// Starlette the last), NUL, or invalid UTF-8. The form holds every field
// without a problem.
func ParseForm(body []byte) (form map[string]string, problems []Problem, err error) {
	values, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, nil, err
	}
	form = make(map[string]string, len(values))
	for _, key := range slices.Sorted(maps.Keys(values)) {
		vs := values[key]
		msg := TextProblem(key)
		switch {
		case msg != "":
		case len(vs) > 1:
			msg = MsgDuplicate
		default:
			msg = TextProblem(vs[0])
		}
		if msg != "" {
			problems = append(problems, Problem{Location: "body." + key, Message: msg})
			continue
		}
		form[key] = vs[0]
	}
	return form, problems, nil
}
