package errtrack

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/getsentry/sentry-go"
)

// filtered replaces every secret removed from an event (Sentry's own
// scrubbers use the same word, so both look alike in its UI).
const filtered = "[Filtered]"

// sensitiveKey matches names of fields, headers, query parameters and
// context keys whose values must never leave the process.
var sensitiveKey = regexp.MustCompile(`(?i)(passw|passwd|pwd|secret|token|auth|cookie|session|api[-_]?key|credential|signature|dsn|private)`)

// secretName matches names of secrets written out in text.
const secretName = `(?:passw(?:or)?d|pwd|secret|[a-z_]*token|api[-_]?key|cookie|session(?:_?id)?)`

// secretPatterns find credentials inside free text: exception messages,
// panic values, log-like strings in contexts.
var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// "Authorization: <anything>" written out in text: the whole value.
	{regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*)[^\r\n"']+`), "$1" + filtered},
	// Authorization header values: "Bearer eyJ...", "Basic dXNlcjpw...".
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`), "$1 " + filtered},
	// JSON Web Tokens anywhere (access and refresh tokens).
	{regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`), filtered},
	// "password": "...", 'token': '...' (quoted values, spaces and all).
	{regexp.MustCompile(`(?i)(` + secretName + `["']?\s*[:=]\s*)"[^"]*"`), `$1"` + filtered + `"`},
	{regexp.MustCompile(`(?i)(` + secretName + `["']?\s*[:=]\s*)'[^']*'`), `$1'` + filtered + `'`},
	// password=..., secret: ..., refresh_token=... (unquoted values).
	{regexp.MustCompile(`(?i)(` + secretName + `["']?\s*[:=]\s*)[^\s"'&,;}]+`), "$1" + filtered},
	// Passwords in URLs: postgres://user:secret@host/db.
	{regexp.MustCompile(`(://[^:/@\s]+:)[^@/\s]+@`), "$1" + filtered + "@"},
	// bcrypt hashes ($2a$12$...).
	{regexp.MustCompile(`\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}`), filtered},
}

// BeforeSend is the last look at every event before it is sent: it strips
// request bodies, cookies, the client's address and every header, query
// parameter or map entry whose name suggests a secret, and masks
// credentials found inside messages, exception values, tags, contexts and
// breadcrumbs. The events this package builds hold no secrets to begin
// with; this catches what other code (a future capture, an error message
// quoting its input) might add.
func BeforeSend(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	if ev == nil {
		return nil
	}
	if req := ev.Request; req != nil {
		req.Data = ""
		req.Cookies = ""
		req.Env = nil
		req.URL = scrubURL(req.URL)
		req.QueryString = scrubQuery(req.QueryString)
		for k, v := range req.Headers {
			if sensitiveKey.MatchString(k) || strings.EqualFold(k, "X-Forwarded-For") || strings.EqualFold(k, "X-Real-Ip") {
				delete(req.Headers, k)
				continue
			}
			req.Headers[k] = scrubText(v)
		}
	}
	ev.User.IPAddress = ""
	ev.User.Email = ""
	ev.Message = scrubText(ev.Message)
	ev.Transaction = scrubText(ev.Transaction)
	for i := range ev.Exception {
		ev.Exception[i].Value = scrubText(ev.Exception[i].Value)
	}
	for k, v := range ev.Tags {
		if sensitiveKey.MatchString(k) {
			ev.Tags[k] = filtered
			continue
		}
		ev.Tags[k] = scrubText(v)
	}
	for name, c := range ev.Contexts {
		ev.Contexts[name] = scrubMap(c)
	}
	for _, b := range ev.Breadcrumbs {
		if b == nil {
			continue
		}
		b.Message = scrubText(b.Message)
		b.Data = scrubMap(b.Data)
	}
	return ev
}

// scrubText masks the credentials found in s.
func scrubText(s string) string {
	if s == "" {
		return s
	}
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// scrubMap returns m with sensitive keys masked and every value scrubbed,
// recursively.
func scrubMap(m map[string]any) map[string]any {
	for k, v := range m {
		if sensitiveKey.MatchString(k) && k != "trace_id" && k != "span_id" && k != "parent_span_id" {
			m[k] = filtered
			continue
		}
		m[k] = scrubValue(v)
	}
	return m
}

func scrubValue(v any) any {
	switch v := v.(type) {
	case string:
		return scrubText(v)
	case map[string]any:
		return scrubMap(v)
	case map[string]string:
		for k, s := range v {
			if sensitiveKey.MatchString(k) {
				v[k] = filtered
			} else {
				v[k] = scrubText(s)
			}
		}
		return v
	case []any:
		for i := range v {
			v[i] = scrubValue(v[i])
		}
		return v
	case []string:
		for i := range v {
			v[i] = scrubText(v[i])
		}
		return v
	}
	return v
}

// scrubQuery masks the values of sensitive query parameters.
func scrubQuery(q string) string {
	if q == "" {
		return q
	}
	values, err := url.ParseQuery(q)
	if err != nil {
		return filtered
	}
	for k := range values {
		if sensitiveKey.MatchString(k) {
			values[k] = []string{filtered}
		} else {
			for i, v := range values[k] {
				values[k][i] = scrubText(v)
			}
		}
	}
	return values.Encode()
}

// scrubURL drops the user info of a URL and masks sensitive query
// parameters.
func scrubURL(raw string) string {
	if raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return scrubText(raw)
	}
	u.User = nil
	u.RawQuery = scrubQuery(u.RawQuery)
	u.Fragment = ""
	return u.String()
}
