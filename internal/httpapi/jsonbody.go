package httpapi

import (
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/input"
)

// strictJSON is the format request bodies are decoded with: huma's default
// uses encoding/json, which matches keys ignoring case and keeps the last
// of two equal keys, while huma validates the exact keys of a generic
// parse first: {"title":"Lamp","TITLE":""} was validated with one title
// and stored with the other. input.DecodeJSON decodes what is validated.
// Responses are still encoded by huma's encoder, byte for byte as before.
func strictJSON() huma.Format {
	return huma.Format{Marshal: huma.DefaultJSONFormat.Marshal, Unmarshal: input.DecodeJSON}
}

// strictCasing sets huma's validator to match keys exactly, as strictJSON
// does: by default it takes a key that differs only in case ("TITLE") for a
// missing property and validates its value, which the decoder then ignores,
// so {"TITLE":"x"} would pass as a title and store none. The setting is a
// variable of the huma package, set once, before the first API serves.
var strictCasing sync.Once

func matchKeysExactly() {
	strictCasing.Do(func() { huma.ValidateStrictCasing = true })
}

// problemDetails are problems as huma's error details.
func problemDetails(problems ...input.Problem) []error {
	details := make([]error, len(problems))
	for i, p := range problems {
		details[i] = &huma.ErrorDetail{Location: p.Location, Message: p.Message}
	}
	return details
}
