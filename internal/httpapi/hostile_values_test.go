package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"myapi/internal/auth"
)

// kind is the schema's type without "null".
func (s *docSchema) kind() string {
	switch t := s.Type.(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if v != "null" {
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// member is one "key": value of a JSON object written by hand, so that a
// body may repeat keys or hold any bytes.
type member struct{ key, value string }

// quote is the JSON string of s.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// object writes members as a JSON object.
func object(members []member) string {
	parts := make([]string, len(members))
	for i, m := range members {
		parts[i] = m.key + ":" + m.value
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// validValue is a value that satisfies s, distinct for each n so that
// unique fields (emails, usernames) do not collide.
func validValue(name string, s *docSchema, n int) any {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	switch s.kind() {
	case "boolean":
		return true
	case "integer":
		if s.Minimum != nil {
			return int64(*s.Minimum)
		}
		return 1
	case "number":
		if s.ExclusiveMinimum != nil {
			return *s.ExclusiveMinimum + 1.5
		}
		if s.Minimum != nil {
			return *s.Minimum
		}
		return 1.5
	}
	if s.Format == "email" {
		return fmt.Sprintf("h%d@example.com", n)
	}
	v := fmt.Sprintf("%s%d", strings.ReplaceAll(name, "_", ""), n)
	if s.MinLength != nil && len(v) < *s.MinLength {
		v += strings.Repeat("x", *s.MinLength-len(v))
	}
	if s.MaxLength != nil && len(v) > *s.MaxLength {
		v = v[len(v)-*s.MaxLength:]
	}
	return v
}

// rawJSON is a JSON text for v.
func rawJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hostileValues are JSON texts to put where s is expected: boundaries,
// wrong types, awkward text and numbers, nesting. Some are not valid JSON.
func hostileValues(s *docSchema) []string {
	vals := []string{
		`null`, `true`, `0`, `-1`, `"x"`, `[]`, `{}`, `[1,"a",null]`,
		`{"a":{"b":[1,2,{"c":null}]}}`,
		strings.Repeat("[", 300) + strings.Repeat("]", 300),
		`1e999`, `NaN`, `-Infinity`, `0x10`, `01`, `.5`, `1.`, `+1`, `tru`, `"unterminated`,
		`"a\u0000b"`, `"\u0000"`, `"\ud800"`, `"x\udfff"`, `"\ud83d\ude00"`, "\"\xff\xfe\"", "\"\xc3\"", "\"a\x01b\"",
		`"\u007f\u0001\t\n\r\u001b\u0085"`, `"\u202e\u200f\u2067"`, `"e\u0301\u0308\u0327"`, `"👩‍👩‍👧‍👦🇰🇷"`,
		`"'; DROP TABLE items; --"`, `"<script>alert(1)</script>"`, `"%00%ff"`, `"\\"`, `"   "`, `""`,
	}
	switch s.kind() {
	case "string":
		minLen, maxLen := 0, 300
		if s.MinLength != nil {
			minLen = *s.MinLength
		}
		if s.MaxLength != nil {
			maxLen = *s.MaxLength
		}
		for _, n := range []int{minLen - 1, minLen, maxLen, maxLen + 1} {
			if n < 0 {
				continue
			}
			// Length counts characters, not bytes: 2-, 3- and 4-byte ones.
			for _, c := range []string{"a", "é", "한", "😀"} {
				vals = append(vals, quote(strings.Repeat(c, n)))
			}
		}
		vals = append(vals, quote(strings.Repeat("z", 100_000)))
		if s.Format == "email" {
			for _, e := range []string{
				"not-an-email", "a@b", "a@localhost", "UPPER@EXAMPLE.COM", "Mixed.Case@Example.Com", "a+tag@example.com",
				`"quoted"@example.com`, "<a@example.com>", "Name <a@example.com>", "a@[127.0.0.1]", "ä@例え.jp",
				"a@example.com\n", " a@example.com", "a\x7f@example.com", strings.Repeat("e", 242) + "@example.com",
				strings.Repeat("e", 243) + "@example.com",
			} {
				vals = append(vals, quote(e))
			}
		}
	case "number", "integer":
		vals = append(vals, `-0`, `5e-324`, `1e-300`, `0.1`, `1.7976931348623157e308`, `1e308`, `-1e308`,
			`12345678901234567890`, `9223372036854775807`, `9223372036854775808`, `1E2`, `1.0`, `2.5`, `"1"`, `"1.5"`,
			strconv.FormatFloat(math.SmallestNonzeroFloat64, 'g', -1, 64))
	case "boolean":
		vals = append(vals, `false`, `"true"`, `1`, `"false"`)
	}
	return vals
}

// flipCase is s with its letters' case swapped: a key that matches a
// property only if case is ignored.
func flipCase(s string) string {
	r := []rune(s)
	for i, c := range r {
		switch {
		case c >= 'a' && c <= 'z':
			r[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z':
			r[i] = c - 'A' + 'a'
		}
	}
	return string(r)
}

// sortedKeys are the properties of s in a fixed order.
func sortedKeys(s *docSchema) []string {
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// wholeBodies are JSON bodies that are wrong as a whole, around a valid
// body base: not objects, not JSON, nested too deep, too many keys, bytes
// before or after.
func wholeBodies(base string) []string {
	many := make([]member, 3000)
	for i := range many {
		many[i] = member{quote("k" + strconv.Itoa(i)), "1"}
	}
	return []string{
		"", " ", "null", "[]", "{}", `"text"`, "1", "true", "[" + base + "]",
		base[:len(base)/2], base + " x", base + base, "\ufeff" + base, base + "\x00",
		strings.Repeat("[", 10_001) + strings.Repeat("]", 10_001),
		strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
		object(many), "{\"\xff\":1}", `{"\u0000":1}`, `{"a":1,}`, `{'a':1}`, `{a:1}`, "{\"a\":1}\x1a",
	}
}

// loginForms are variants of the login form.
func loginForms(fx *fixture, with func(string, func(*hostileCall)) hostileCall) []hostileCall {
	u, p := url.QueryEscape(fx.username), url.QueryEscape(fx.password)
	var calls []hostileCall
	for i, body := range []string{
		"", "username=" + u, "password=" + p, "username=&password=", "username=" + u + "&password=" + p + "&username=" + u,
		"username=" + u + "&password=" + p + "&password=x", "username=" + u + "%00&password=" + p, "username=%FF&password=" + p,
		"username=" + u + "&password=" + p + "%C3", "username=" + u + ";password=" + p, "username=%zz&password=" + p,
		"username=" + u + "&password=" + p + "&grant_type=", "username=" + u + "&password=" + p + "&grant_type=PASSWORD",
		"username=" + u + "&password=" + p + "&grant_type=client_credentials", "username=" + u + "&password=" + p + "&scope=%00",
		"username=" + strings.ToUpper(u) + "&password=" + p, "USERNAME=" + u + "&PASSWORD=" + p, "username=" + strings.Repeat("u", 100_000) + "&password=" + p,
		"username=" + u + "&password=" + p + "&", "&&&", "=", "username=" + u + "&password=" + p + "&x=%00%FF", `{"username":"` + fx.username + `"}`,
		"username=a%7F%01%1B&password=whatever1", "username=%E2%80%AE" + u + "&password=" + p,
	} {
		calls = append(calls, with(fmt.Sprintf("form %d %.50q", i, body), func(c *hostileCall) { c.body = body }))
	}
	return calls
}

// forgedTokens are access tokens that must not work, and the plain user's,
// which must not work where a superuser is needed.
func forgedTokens(fx *fixture) map[string]string {
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			panic(err)
		}
		return s
	}
	now := time.Now()
	claims := func(sub string, exp time.Time, typ string) jwt.MapClaims {
		return jwt.MapClaims{"sub": sub, "exp": exp.Unix(), "iat": now.Unix(), "type": typ, "jti": "j"}
	}
	id := strconv.FormatInt(fx.userID, 10)
	other := []byte("another-secret-another-secret-another")
	return map[string]string{
		"none":              "",
		"garbage":           "garbage",
		"three dots":        "a.b.c",
		"alg none":          sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(id, now.Add(time.Hour), auth.TypeAccess)),
		"other secret":      sign(jwt.SigningMethodHS256, other, claims(id, now.Add(time.Hour), auth.TypeAccess)),
		"HS512":             sign(jwt.SigningMethodHS512, []byte(testSecret), claims(id, now.Add(time.Hour), auth.TypeAccess)),
		"expired":           sign(jwt.SigningMethodHS256, []byte(testSecret), claims(id, now.Add(-time.Hour), auth.TypeAccess)),
		"refresh as access": fx.refresh,
		"no such user":      sign(jwt.SigningMethodHS256, []byte(testSecret), claims("999999999", now.Add(time.Hour), auth.TypeAccess)),
		"sub not a number":  sign(jwt.SigningMethodHS256, []byte(testSecret), claims("alice", now.Add(time.Hour), auth.TypeAccess)),
		"sub NUL":           sign(jwt.SigningMethodHS256, []byte(testSecret), claims("1\x00", now.Add(time.Hour), auth.TypeAccess)),
		"no type":           sign(jwt.SigningMethodHS256, []byte(testSecret), claims(id, now.Add(time.Hour), "")),
		"huge":              strings.Repeat("a", 50_000),
		"plain user":        fx.user,
	}
}
