package httpapi

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// strictJSON is the format request bodies are decoded with. encoding/json
// matches object keys to struct fields ignoring case and keeps the last of
// two equal keys, while huma validates the exact keys of a generic parse
// first: {"title":"Lamp","TITLE":""} was validated with one title and
// stored with the other. This decoder matches keys exactly (as the seed's
// Pydantic does), refuses a key given twice, and refuses invalid UTF-8, so
// that what is validated is what is stored. Responses are still encoded by
// huma's encoder, byte for byte as before.
func strictJSON() huma.Format {
	return huma.Format{
		Marshal: huma.DefaultJSONFormat.Marshal,
		Unmarshal: func(data []byte, v any) error {
			return jsonv2.Unmarshal(data, v)
		},
	}
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

// Messages of the text rules, shared by JSON bodies, the login form and
// query parameters.
const (
	msgNUL       = `must not contain the NUL character (\u0000)`
	msgBadUTF8   = "must be valid UTF-8"
	msgDuplicate = "is given more than once"
)

// checkJSONText finds what in a JSON body is well-formed JSON but not
// acceptable text: a key given twice in one object, a NUL character (which
// PostgreSQL cannot store) or a UTF-16 surrogate escape without its other
// half (\ud800, which no UTF-8 string can hold), anywhere in the body, keys
// included. It returns nil for a body without such a problem, and also for
// a body that is not JSON at all: the decoder answers that with a 400.
func checkJSONText(body []byte) *huma.ErrorDetail {
	// Invalid UTF-8 is let through here only so that the escapes of such
	// a string can be looked at; strictJSON refuses it afterwards.
	dec := jsontext.NewDecoder(bytes.NewReader(body), jsontext.AllowInvalidUTF8(true))
	for {
		if dec.PeekKind() == '"' {
			raw, err := dec.ReadValue()
			if err != nil {
				return duplicateKey(dec, err)
			}
			if msg := checkEscapes(raw); msg != "" {
				return &huma.ErrorDetail{Location: jsonLocation(dec, dec.StackPointer()), Message: msg}
			}
			continue
		}
		if _, err := dec.ReadToken(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return duplicateKey(dec, err)
		}
	}
}

// duplicateKey turns the decoder's duplicate-name error into a detail;
// other errors are syntax errors, left to the decoder.
func duplicateKey(dec *jsontext.Decoder, err error) *huma.ErrorDetail {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return &huma.ErrorDetail{Location: jsonLocation(dec, se.JSONPointer), Message: msgDuplicate}
	}
	return nil
}

// checkEscapes looks at the escapes of a raw JSON string (quotes included)
// for \u0000 and unpaired surrogates.
func checkEscapes(raw []byte) string {
	if bytes.IndexByte(raw, '\\') < 0 {
		return ""
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character: '"', '\\', 'n', 'u', …
		if i >= len(raw) || raw[i] != 'u' {
			continue
		}
		r, ok := hex4(raw[i+1:])
		if !ok {
			return "" // not JSON; the decoder says so
		}
		i += 4
		switch {
		case r == 0:
			return msgNUL
		case utf16.IsSurrogate(r) && r < 0xdc00: // a high half: a low one must follow
			if lo, ok := lowSurrogate(raw[i+1:]); ok && utf16.DecodeRune(r, lo) != 0xfffd {
				i += 6
				continue
			}
			return unpaired(r)
		case utf16.IsSurrogate(r):
			return unpaired(r)
		}
	}
	return ""
}

// lowSurrogate reads the \uXXXX escape that b starts with, if any.
func lowSurrogate(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

func unpaired(r rune) string {
	return `must be valid Unicode: \u` + strconv.FormatInt(int64(r), 16) + " is half of a UTF-16 surrogate pair, without its other half"
}

// jsonLocation spells a JSON pointer the way huma's validation errors name
// a place in the body: "/tags/1/name" is "body.tags[1].name".
func jsonLocation(dec *jsontext.Decoder, ptr jsontext.Pointer) string {
	var b strings.Builder
	b.WriteString("body")
	level := 0
	for tok := range ptr.Tokens() {
		level++
		if level <= dec.StackDepth() {
			if kind, _ := dec.StackIndex(level); kind == '[' {
				b.WriteString("[" + tok + "]")
				continue
			}
		}
		b.WriteString("." + tok)
	}
	return b.String()
}
