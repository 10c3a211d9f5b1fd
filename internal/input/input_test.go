package input

import (
	"reflect"
	"strings"
	"testing"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       *Problem // nil: nothing to refuse
	}{
		{"plain", `{"title":"Desk lamp","price":49.5}`, nil},
		{"case variant is another key", `{"title":"a","TITLE":""}`, nil},
		{"duplicate", `{"title":"a","title":""}`, &Problem{"body.title", MsgDuplicate}},
		{"duplicate spelt with an escape", `{"title":"a","\u0074itle":""}`, &Problem{"body.title", MsgDuplicate}},
		{"duplicate in a nested object", `{"a":{"b":1,"b":2}}`, &Problem{"body.a.b", MsgDuplicate}},
		{"duplicate in an array element", `[{"k":1},{"k":1,"k":2}]`, &Problem{"body[1].k", MsgDuplicate}},
		{"same name in two objects", `{"a":{"k":1},"b":{"k":1}}`, nil},
		{"NUL", `{"title":"a\u0000b"}`, &Problem{"body.title", MsgNUL}},
		{"NUL in a key", `{"ti\u0000":1}`, &Problem{"body.ti\x00", MsgNUL}},
		{"NUL in an array", `{"tags":["ok","\u0000"]}`, &Problem{"body.tags[1]", MsgNUL}},
		{"escaped backslash before u0000", `{"t":"\\u0000"}`, nil},
		{"lone high surrogate", `{"t":"\ud800"}`, &Problem{"body.t", unpaired(0xd800)}},
		{"high surrogate then a letter", `{"t":"\ud83dA"}`, &Problem{"body.t", unpaired(0xd83d)}},
		{"two high surrogates", `{"t":"\ud83d\ud83d"}`, &Problem{"body.t", unpaired(0xd83d)}},
		{"lone low surrogate", `{"t":"x\udc00"}`, &Problem{"body.t", unpaired(0xdc00)}},
		{"pair in the wrong order", `{"t":"\ude00\ud83d"}`, &Problem{"body.t", unpaired(0xde00)}},
		{"a whole pair", `{"t":"\ud83d\ude00"}`, nil},
		{"control characters", `{"t":"\u007f\u0001\t\n\u001b\u0085\u202e"}`, nil},
		{"syntax error is left to DecodeJSON", `{"t":`, nil},
		{"invalid UTF-8 is left to DecodeJSON", "{\"t\":\"\xff\"}", nil},
		{"not an object", `"\u0000"`, &Problem{"body", MsgNUL}},
		{"empty", ``, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CheckJSON([]byte(tc.body)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckJSON(%s) = %+v, want %+v", tc.body, got, tc.want)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		_           struct{} `additionalProperties:"true"`
		Title       string   `json:"title"`
		Description *string  `json:"description,omitempty"`
		Price       float64  `json:"price"`
	}
	for _, tc := range []struct {
		name, body string
		want       body
		err        string
	}{
		{"exact keys", `{"title":"Lamp","price":2}`, body{Title: "Lamp", Price: 2}, ""},
		{"case variants are unknown fields", `{"title":"Lamp","TITLE":"","Price":-1,"price":2}`, body{Title: "Lamp", Price: 2}, ""},
		{"only a case variant", `{"Title":"Lamp"}`, body{}, ""},
		{"null", `{"title":"a","description":null}`, body{Title: "a"}, ""},
		{"duplicate", `{"title":"a","title":"b"}`, body{}, "duplicate"},
		{"invalid UTF-8", "{\"title\":\"\xff\"}", body{}, "invalid UTF-8"},
		{"lone surrogate", `{"title":"\ud800"}`, body{}, "surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got body
			err := DecodeJSON([]byte(tc.body), &got)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		form       map[string]string
		problems   []Problem
		malformed  bool
	}{
		{"login", "username=alice&password=correct+horse&grant_type=", map[string]string{"username": "alice", "password": "correct horse", "grant_type": ""}, nil, false},
		{"control characters", "username=a%7F%01%1B", map[string]string{"username": "a\x7f\x01\x1b"}, nil, false},
		{"repeated field", "username=a&password=p&username=b", map[string]string{"password": "p"}, []Problem{{"body.username", MsgDuplicate}}, false},
		{"NUL and bad UTF-8, in name order", "username=a%00b&password=%FF&scope=s", map[string]string{"scope": "s"},
			[]Problem{{"body.password", MsgBadUTF8}, {"body.username", MsgNUL}}, false},
		{"NUL in a name", "us%00er=a", map[string]string{}, []Problem{{"body.us\x00er", MsgNUL}}, false},
		{"bad escape", "username=%zz", nil, nil, true},
		{"semicolon", "a=1;b=2", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form, problems, err := ParseForm([]byte(tc.body))
			if (err != nil) != tc.malformed {
				t.Fatalf("err = %v", err)
			}
			if !tc.malformed && (!reflect.DeepEqual(form, tc.form) || !reflect.DeepEqual(problems, tc.problems)) {
				t.Errorf("got %q %+v, want %q %+v", form, problems, tc.form, tc.problems)
			}
		})
	}
}

func TestTextProblem(t *testing.T) {
	for s, want := range map[string]string{
		"":                    "",
		"a\x7f\x01\t\n\u202e": "",
		"😀 e\u0301":           "",
		"a\x00":               MsgNUL,
		"a\xff":               MsgBadUTF8,
		"\xed\xa0\x80":        MsgBadUTF8, // a surrogate, UTF-8 encoded
	} {
		if got := TextProblem(s); got != want {
			t.Errorf("TextProblem(%q) = %q, want %q", s, got, want)
		}
	}
}
