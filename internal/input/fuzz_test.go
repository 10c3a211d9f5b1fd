package input

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzJSON fuzzes the JSON body decoders, CheckJSON and DecodeJSON: what
// they accept is a JSON value without repeated keys or unstorable text,
// read exactly as encoding/json reads it; what CheckJSON refuses, it
// refuses with a known message at a place in the body; no input makes
// either panic, nor the decode into a request-like struct.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"title":"Desk lamp","price":49.5,"TITLE":""}`, `{"title":"a","title":""}`,
		`{"a":{"b":[1,{"c":"\u0000"}]}}`, `{"t":"\ud800"}`, `{"t":"\ud83d\ude00"}`, `{"t":"\udc00\ud800"}`,
		"{\"t\":\"\xff\"}", `{"price":1e999}`, `[{"k":1},{"k":1,"k":2}]`, `{"\u0074":1,"t":2}`, `"\\u0000"`,
		`{"description":null,"price":-0,"title":"\u007f\u202e"}`, ``, `{`, `[[[[[[[[[[]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	type item struct {
		_           struct{} `additionalProperties:"true"`
		Title       *string  `json:"title,omitempty"`
		Description *string  `json:"description,omitempty"`
		Price       float64  `json:"price"`
		Active      *bool    `json:"is_active,omitempty"`
		ID          int64    `json:"id"`
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		problem := CheckJSON(body)
		if problem != nil {
			if !strings.HasPrefix(problem.Location, "body") {
				t.Errorf("location %q", problem.Location)
			}
			if m := problem.Message; m != MsgNUL && m != MsgDuplicate && !strings.Contains(m, "surrogate pair") {
				t.Errorf("message %q", m)
			}
		}
		var strict any
		if DecodeJSON(body, &strict) == nil {
			// DecodeJSON refuses repeated keys and broken text itself;
			// NUL is the one thing only CheckJSON refuses.
			if problem != nil && problem.Message != MsgNUL {
				t.Errorf("DecodeJSON accepts what CheckJSON refuses (%+v): %q", problem, body)
			}
			if problem == nil {
				if bad := badText(strict); bad != "" {
					t.Errorf("accepted %q holding %q", body, bad)
				}
			}
			var loose any
			if err := json.Unmarshal(body, &loose); err != nil || !reflect.DeepEqual(strict, loose) {
				t.Errorf("encoding/json reads %q as %#v (%v), DecodeJSON as %#v", body, loose, err, strict)
			}
		}
		var it item
		_ = DecodeJSON(body, &it)
	})
}

// badText finds a string (key or value) in v that TextProblem refuses.
func badText(v any) string {
	switch v := v.(type) {
	case string:
		if TextProblem(v) != "" {
			return v
		}
	case []any:
		for _, e := range v {
			if bad := badText(e); bad != "" {
				return bad
			}
		}
	case map[string]any:
		for k, e := range v {
			if bad := badText(k) + badText(e); bad != "" {
				return bad
			}
		}
	}
	return ""
}

// FuzzForm fuzzes the form decoder: every field ParseForm keeps is what
// url.ParseQuery reads, given once, as storable text; every other field has
// its problem.
func FuzzForm(f *testing.F) {
	for _, s := range []string{
		"username=alice&password=correct+horse", "username=a%00b&password=whatever1", "username=a&username=b",
		"grant_type=&username=a&password=b", "username=%FF", "a=1;b=2", "%zz", "&&=&", "username=%C3%A9%E2%80%AE",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, problems, err := ParseForm(body)
		values, qerr := url.ParseQuery(string(body))
		if (err == nil) != (qerr == nil) {
			t.Fatalf("%q: ParseForm err %v, url.ParseQuery err %v", body, err, qerr)
		}
		if err != nil {
			return
		}
		if len(form)+len(problems) != len(values) {
			t.Fatalf("%q: %d fields and %d problems, url.ParseQuery finds %d fields", body, len(form), len(problems), len(values))
		}
		for k, v := range form {
			if len(values[k]) != 1 || values[k][0] != v || TextProblem(k) != "" || TextProblem(v) != "" {
				t.Errorf("%q: kept %q=%q, url.ParseQuery reads %q", body, k, v, values[k])
			}
		}
		for _, p := range problems {
			if _, kept := form[strings.TrimPrefix(p.Location, "body.")]; kept {
				t.Errorf("%q: %s kept despite %s", body, p.Location, p.Message)
			}
		}
	})
}
