package input

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// DecodeJSON decodes a JSON body into v. Unlike encoding/json, which
// matches object keys to struct fields ignoring case and keeps the last of
// two equal keys, it matches keys exactly (as the seed's Pydantic does: a
// key that differs in case is an unknown field, ignored), and refuses a
// key given twice, invalid UTF-8 and half a surrogate pair.
func DecodeJSON(data []byte, v any) error {
	return jsonv2.Unmarshal(data, v)
}

// CheckJSON finds what in a JSON body is well-formed JSON but not
// acceptable: a key given twice in one object, a NUL character, or a
// UTF-16 surrogate escape without its other half (\ud800, which no UTF-8
// string can hold), anywhere in the body, keys included. It returns nil
// for a body without such a problem, and also for one that is not JSON at
// all, which DecodeJSON refuses.
func CheckJSON(body []byte) *Problem {
	// Invalid UTF-8 is let through here only so that the escapes of such
	// a string can be looked at; DecodeJSON refuses it. From a
	// bytes.Buffer the decoder reads in place, without a copy.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowInvalidUTF8(true))
	for {
		if dec.PeekKind() == '"' {
			raw, err := dec.ReadValue()
			if err != nil {
				return duplicateKey(dec, err)
			}
			if msg := checkEscapes(raw); msg != "" {
				return &Problem{Location: jsonLocation(dec, dec.StackPointer()), Message: msg}
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

// duplicateKey turns the decoder's duplicate-name error into a Problem;
// other errors are syntax errors, left to DecodeJSON.
func duplicateKey(dec *jsontext.Decoder, err error) *Problem {
	var se *jsontext.SyntacticError
	if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
		return &Problem{Location: jsonLocation(dec, se.JSONPointer), Message: MsgDuplicate}
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
			return "" // not JSON; DecodeJSON says so
		}
		i += 4
		switch {
		case r == 0:
			return MsgNUL
		case utf16.IsSurrogate(r) && r < 0xdc00: // a high half: a low one must follow
			if lo, ok := escapedRune(raw[i+1:]); ok && utf16.DecodeRune(r, lo) != 0xfffd {
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

// escapedRune reads the \uXXXX escape that b starts with, if any.
func escapedRune(b []byte) (rune, bool) {
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

// jsonLocation spells a JSON pointer the way the API's validation errors
// name a place in the body: "/tags/1/name" is "body.tags[1].name".
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
