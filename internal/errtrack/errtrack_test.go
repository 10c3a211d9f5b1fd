package errtrack

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getsentry/sentry-go"
	"github.com/go-chi/chi/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// ingest is a local HTTP server standing in for Sentry's ingest endpoint:
// it accepts envelopes at /api/<project>/envelope/ and keeps the events.
type ingest struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	events []receivedEvent
	paths  []string
}

// receivedEvent is one event as it arrived: decoded, and raw for searching.
type receivedEvent struct {
	Raw   string
	Event struct {
		EventID     string            `json:"event_id"`
		Level       string            `json:"level"`
		Message     string            `json:"message"`
		Transaction string            `json:"transaction"`
		Environment string            `json:"environment"`
		Release     string            `json:"release"`
		Tags        map[string]string `json:"tags"`
		Fingerprint []string          `json:"fingerprint"`
		Request     struct {
			URL         string            `json:"url"`
			Method      string            `json:"method"`
			Data        any               `json:"data"`
			QueryString any               `json:"query_string"`
			Cookies     any               `json:"cookies"`
			Headers     map[string]string `json:"headers"`
		} `json:"request"`
		Exception []struct {
			Type       string `json:"type"`
			Value      string `json:"value"`
			Stacktrace struct {
				Frames []struct {
					Function string `json:"function"`
				} `json:"frames"`
			} `json:"stacktrace"`
			Mechanism struct {
				Type    string `json:"type"`
				Handled *bool  `json:"handled"`
			} `json:"mechanism"`
		} `json:"exception"`
		Contexts map[string]map[string]any `json:"contexts"`
	}
}

func newIngest(t *testing.T) *ingest {
	in := &ingest{t: t}
	in.srv = httptest.NewServer(http.HandlerFunc(in.serve))
	t.Cleanup(in.srv.Close)
	return in
}

// dsn returns a DSN pointing at the receiver: public key "public",
// project 1.
func (in *ingest) dsn() string {
	return "http://public@" + strings.TrimPrefix(in.srv.URL, "http://") + "/1"
}

func (in *ingest) serve(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			in.t.Errorf("ingest: gzip: %v", err)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		in.t.Errorf("ingest: read: %v", err)
		return
	}
	events, err := parseEnvelope(raw)
	if err != nil {
		in.t.Errorf("ingest: %v in %q", err, raw)
	}
	in.mu.Lock()
	in.paths = append(in.paths, r.URL.Path)
	in.events = append(in.events, events...)
	in.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"00000000000000000000000000000000"}`)
}

// parseEnvelope decodes a Sentry envelope: a JSON header line, then items,
// each a JSON item header line followed by a payload of "length" bytes
// (or up to the next newline when the header gives no length). It returns
// the items of type "event".
func parseEnvelope(raw []byte) ([]receivedEvent, error) {
	rd := bufio.NewReader(bytes.NewReader(raw))
	header, err := rd.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	var env map[string]any
	if err := json.Unmarshal(header, &env); err != nil {
		return nil, fmt.Errorf("envelope header: %w", err)
	}
	var events []receivedEvent
	for {
		line, err := rd.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) == 0 {
			if err == io.EOF {
				return events, nil
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		var item struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(line, &item); err != nil {
			return nil, fmt.Errorf("item header %q: %w", line, err)
		}
		var payload []byte
		if item.Length != nil {
			payload = make([]byte, *item.Length)
			if _, err := io.ReadFull(rd, payload); err != nil {
				return nil, fmt.Errorf("item payload: %w", err)
			}
		} else {
			payload, _ = rd.ReadBytes('\n')
		}
		if item.Type != "event" {
			continue
		}
		var ev receivedEvent
		ev.Raw = string(payload)
		if err := json.Unmarshal(payload, &ev.Event); err != nil {
			return nil, fmt.Errorf("event payload: %w", err)
		}
		events = append(events, ev)
	}
}

// waitEvents flushes tr and returns the events received so far.
func (in *ingest) waitEvents(t *testing.T, tr *Tracker) []receivedEvent {
	t.Helper()
	if !tr.Flush(10 * time.Second) {
		t.Fatal("flush timed out")
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	out := in.events
	in.events = nil
	return out
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func newTracker(t *testing.T, in *ingest) *Tracker {
	t.Helper()
	tr, err := Setup(env(map[string]string{"SENTRY_DSN": in.dsn()}), "test", "1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if tr == nil {
		t.Fatal("Setup returned no tracker with SENTRY_DSN set")
	}
	t.Cleanup(func() { tr.Close(5 * time.Second) })
	return tr
}

// Secrets sent with every request; none may reach the receiver.
const (
	secretJWT      = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	secretPassword = "hunter2-correct-horse"
	secretCookie   = "sessionid-s3cr3t"
	secretQuery    = "refresh-t0ken-value"
)

// newApp builds a router in the application's order: request id, ...,
// recoverer (answering 500 JSON), error tracking, handlers.
func newApp(tr *Tracker) http.Handler {
	r := chi.NewRouter()
	r.Use(
		func(next http.Handler) http.Handler { // the app's request-id middleware
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id := r.Header.Get("X-Request-ID")
				if id == "" {
					id = "generated-id"
				}
				w.Header().Set("X-Request-ID", id)
				next.ServeHTTP(w, r)
			})
		},
		func(next http.Handler) http.Handler { // the app's recoverer
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer func() {
					if rec := recover(); rec != nil {
						w.Header().Set("Content-Type", "application/problem+json")
						w.WriteHeader(http.StatusInternalServerError)
						_, _ = io.WriteString(w, `{"detail":"Internal server error"}`)
					}
				}()
				next.ServeHTTP(w, r)
			})
		},
		tr.Middleware,
	)
	r.Post("/auth/login", func(_ http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // the body was read: Sentry must still not get it
		panic(fmt.Sprintf("login exploded for body %s with Authorization: Bearer %s", body, secretJWT))
	})
	r.Get("/items/{item_id}", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("mode") {
		case "503":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "error":
			CaptureError(r.Context(), fmt.Errorf("query failed: password=%s", secretPassword))
			w.WriteHeader(http.StatusInternalServerError)
		case "404":
			w.WriteHeader(http.StatusNotFound)
		case "abort":
			panic(http.ErrAbortHandler)
		case "errpanic":
			panic(errors.New("typed error panic"))
		default:
			_, _ = io.WriteString(w, "ok")
		}
	})
	return r
}

// secretRequest returns a request carrying every kind of secret.
func secretRequest(method, target string, body io.Reader) *http.Request {
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("Authorization", "Bearer "+secretJWT)
	req.Header.Set("Cookie", "session="+secretCookie)
	req.Header.Set("User-Agent", "errtrack-test")
	req.Header.Set("X-Request-ID", "req-abc-123")
	return req
}

func assertNoSecrets(t *testing.T, raw string) {
	t.Helper()
	for _, s := range []string{secretJWT, secretPassword, secretCookie, secretQuery} {
		if strings.Contains(raw, s) {
			t.Errorf("event contains %q:\n%s", s, raw)
		}
	}
}

func TestPanicIsReportedWithoutSecrets(t *testing.T) {
	in := newIngest(t)
	tr := newTracker(t, in)
	app := newApp(tr)

	body := strings.NewReader(`{"username":"alice","password":"` + secretPassword + `"}`)
	req := secretRequest(http.MethodPost, "/auth/login?refresh_token="+secretQuery+"&x=1", body)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "Internal server error") {
		t.Fatalf("the app's recoverer did not answer: %d %q", rec.Code, rec.Body)
	}

	events := in.waitEvents(t, tr)
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1 (the panic, not also its 500)", len(events))
	}
	ev := events[0]
	e := ev.Event
	if e.Tags["request_id"] != "req-abc-123" {
		t.Errorf("request_id tag %q", e.Tags["request_id"])
	}
	if e.Request.Headers["X-Request-Id"] != "req-abc-123" {
		t.Errorf("request headers %v lack the request id", e.Request.Headers)
	}
	if e.Tags["http.route"] != "/auth/login" || e.Transaction != "POST /auth/login" {
		t.Errorf("route tag %q transaction %q", e.Tags["http.route"], e.Transaction)
	}
	if e.Level != "fatal" || e.Environment != "test" || e.Release != "1.2.3" {
		t.Errorf("level %q environment %q release %q", e.Level, e.Environment, e.Release)
	}
	if len(e.Exception) != 1 {
		t.Fatalf("exception %+v", e.Exception)
	}
	x := e.Exception[0]
	if x.Type != "panic" || !strings.Contains(x.Value, "login exploded") || x.Mechanism.Handled == nil || *x.Mechanism.Handled {
		t.Errorf("exception %+v", x)
	}
	// The stack is the panicking one: it names the handler.
	found := false
	for _, f := range x.Stacktrace.Frames {
		if strings.Contains(f.Function, "newApp") {
			found = true
		}
	}
	if !found {
		t.Errorf("stack does not reach the panicking handler: %+v", x.Stacktrace.Frames)
	}
	if _, ok := e.Request.Headers["Authorization"]; ok {
		t.Error("Authorization header sent")
	}
	if _, ok := e.Request.Headers["Cookie"]; ok {
		t.Error("Cookie header sent")
	}
	if e.Request.Data != nil || e.Request.Cookies != nil || e.Request.QueryString != nil {
		t.Errorf("body %v, cookies %v or query %v sent", e.Request.Data, e.Request.Cookies, e.Request.QueryString)
	}
	if e.Request.Headers["User-Agent"] != "errtrack-test" || e.Request.URL != "http://example.com/auth/login" {
		t.Errorf("request %+v", e.Request)
	}
	assertNoSecrets(t, ev.Raw)
}

func TestServerErrorsAreReported(t *testing.T) {
	in := newIngest(t)
	tr := newTracker(t, in)
	app := newApp(tr)

	// 2xx and 4xx: nothing. ErrAbortHandler: nothing (a deliberate abort).
	for _, mode := range []string{"ok", "404"} {
		app.ServeHTTP(httptest.NewRecorder(), secretRequest(http.MethodGet, "/items/1?mode="+mode, nil))
	}
	func() {
		defer func() { _ = recover() }()
		// The test recoverer swallows it too; what matters is no event.
		app.ServeHTTP(httptest.NewRecorder(), secretRequest(http.MethodGet, "/items/1?mode=abort", nil))
	}()
	if events := in.waitEvents(t, tr); len(events) != 0 {
		t.Fatalf("got %d events for 200, 404 and an abort", len(events))
	}

	// A 503 with no error reported: one message event.
	rec := httptest.NewRecorder()
	app.ServeHTTP(rec, secretRequest(http.MethodGet, "/items/7?mode=503", nil))
	events := in.waitEvents(t, tr)
	if len(events) != 1 {
		t.Fatalf("503: got %d events", len(events))
	}
	e := events[0].Event
	if e.Message != "HTTP 503 Service Unavailable on GET /items/{item_id}" || e.Tags["request_id"] != "req-abc-123" || e.Tags["http.status_code"] != "503" {
		t.Errorf("503 event: message %q tags %v", e.Message, e.Tags)
	}
	if strings.Join(e.Fingerprint, " ") != "http-status 503 GET /items/{item_id}" {
		t.Errorf("fingerprint %q", e.Fingerprint)
	}
	assertNoSecrets(t, events[0].Raw)

	// An error captured by the handler: that event only, not also "HTTP 500".
	app.ServeHTTP(httptest.NewRecorder(), secretRequest(http.MethodGet, "/items/8?mode=error", nil))
	events = in.waitEvents(t, tr)
	if len(events) != 1 {
		t.Fatalf("captured error: got %d events, want 1", len(events))
	}
	e = events[0].Event
	if len(e.Exception) == 0 || !strings.Contains(e.Exception[len(e.Exception)-1].Value, "query failed: password=[Filtered]") {
		t.Errorf("captured error: exception %+v", e.Exception)
	}
	if e.Level != "error" || e.Tags["request_id"] != "req-abc-123" {
		t.Errorf("captured error: level %q tags %v", e.Level, e.Tags)
	}
	assertNoSecrets(t, events[0].Raw)

	// A panic with an error value keeps its type.
	app.ServeHTTP(httptest.NewRecorder(), secretRequest(http.MethodGet, "/items/9?mode=errpanic", nil))
	events = in.waitEvents(t, tr)
	if len(events) != 1 || len(events[0].Event.Exception) == 0 {
		t.Fatalf("error panic: %d events", len(events))
	}
	if x := events[0].Event.Exception[0]; x.Value != "typed error panic" {
		t.Errorf("error panic: exception %+v", x)
	}

	in.mu.Lock()
	defer in.mu.Unlock()
	for _, p := range in.paths {
		if p != "/api/1/envelope/" {
			t.Errorf("posted to %s, want /api/1/envelope/", p)
		}
	}
}

func TestEventsCarryTraceID(t *testing.T) {
	in := newIngest(t)
	tr := newTracker(t, in)
	tp := sdktrace.NewTracerProvider()
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("test").Start(context.Background(), "request")
	defer span.End()

	app := newApp(tr)
	app.ServeHTTP(httptest.NewRecorder(), secretRequest(http.MethodGet, "/items/1?mode=503", nil).WithContext(ctx))
	events := in.waitEvents(t, tr)
	if len(events) != 1 {
		t.Fatalf("got %d events", len(events))
	}
	want := span.SpanContext().TraceID().String()
	e := events[0].Event
	if e.Tags["trace_id"] != want {
		t.Errorf("trace_id tag %q, want %s", e.Tags["trace_id"], want)
	}
	if got := e.Contexts["trace"]["trace_id"]; got != want {
		t.Errorf("trace context %v, want trace_id %s", e.Contexts["trace"], want)
	}
}

func TestDisabledWithoutDSN(t *testing.T) {
	tr, err := Setup(env(nil), "production", "1")
	if err != nil || tr != nil {
		t.Fatalf("Setup without SENTRY_DSN = %v, %v; want nil, nil", tr, err)
	}
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := tr.Middleware(h); fmt.Sprintf("%p", got) != fmt.Sprintf("%p", h) {
		t.Error("a nil Tracker's Middleware wrapped the handler")
	}
	CaptureError(context.Background(), errors.New("x")) // no request state: no-op
	CapturePanic(context.Background(), "x")
	if !tr.Flush(time.Millisecond) {
		t.Error("nil Flush reported failure")
	}
	tr.Close(time.Millisecond)
}

func TestSetupRejectsBadSettings(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"SENTRY_DSN":         {"SENTRY_DSN": "not a dsn"},
		"SENTRY_SAMPLE_RATE": {"SENTRY_DSN": "http://public@127.0.0.1:1/1", "SENTRY_SAMPLE_RATE": "1.5"},
		"SENTRY_DEBUG":       {"SENTRY_DSN": "http://public@127.0.0.1:1/1", "SENTRY_DEBUG": "maybe"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := Setup(env(vars), "", "")
			if err == nil || !strings.HasPrefix(err.Error(), name) {
				t.Errorf("err = %v, want one starting with %s", err, name)
			}
			if tr != nil {
				tr.Close(time.Millisecond)
			}
		})
	}
	tr, err := Setup(env(map[string]string{
		"SENTRY_DSN": "http://public@127.0.0.1:1/1", "SENTRY_ENVIRONMENT": "staging",
		"SENTRY_RELEASE": "9.9.9", "SENTRY_SAMPLE_RATE": "0.5",
	}), "production", "1")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close(time.Millisecond)
	o := tr.client.Options()
	if o.Environment != "staging" || o.Release != "9.9.9" || o.SampleRate != 0.5 {
		t.Errorf("options: environment %q release %q rate %v", o.Environment, o.Release, o.SampleRate)
	}
}

func TestScrubText(t *testing.T) {
	for in, want := range map[string]string{
		"Authorization: Bearer abc.def-ghi":              "Authorization: [Filtered]",
		"Bearer abc.def-ghi":                             "Bearer [Filtered]",
		"token " + secretJWT + " expired":                "token [Filtered] expired",
		`{"password":"p4ss w0rd","username":"bob"}`:      `{"password":"[Filtered]","username":"bob"}`,
		"refresh_token=abc&x=1":                          "refresh_token=[Filtered]&x=1",
		"connect postgres://app:s3cret@db:5432/app":      "connect postgres://app:[Filtered]@db:5432/app",
		"hash $2a$12$" + strings.Repeat("a", 53) + " ok": "hash [Filtered] ok",
		"nothing to see":                                 "nothing to see",
		"secret: abc":                                    "secret: [Filtered]",
		"api_key=k1":                                     "api_key=[Filtered]",
	} {
		if got := scrubText(in); got != want {
			t.Errorf("scrubText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBeforeSendScrubsForeignEvents checks the last line of defence on an
// event that did not come from this package's middleware.
func TestBeforeSendScrubsForeignEvents(t *testing.T) {
	out := BeforeSend(foreignEvent(), nil)
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	assertNoSecrets(t, s)
	for _, bad := range []string{"10.1.2.3", "bob@example.com", "Proxy-Authorization", "X-Api-Key", "s3cret"} {
		if strings.Contains(s, bad) {
			t.Errorf("scrubbed event contains %q: %s", bad, s)
		}
	}
	for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Forwarded-For"} {
		if _, ok := out.Request.Headers[h]; ok {
			t.Errorf("header %s kept", h)
		}
	}
	if out.Request.Headers["User-Agent"] != "ua" || !strings.Contains(out.Request.QueryString, "page=2") {
		t.Errorf("harmless data was lost: %+v", out.Request)
	}
	if out.Contexts["trace"]["trace_id"] != "0123" {
		t.Errorf("trace id was scrubbed: %v", out.Contexts["trace"])
	}
	if BeforeSend(nil, nil) != nil {
		t.Error("BeforeSend(nil) is not nil")
	}
}

// foreignEvent builds an event full of secrets in every field.
func foreignEvent() *sentry.Event {
	ev := sentry.NewEvent()
	ev.Message = "login failed for password=" + secretPassword
	ev.Request = &sentry.Request{
		URL:         "https://user:s3cret@api.example.com/auth/refresh?refresh_token=" + secretQuery + "&page=2",
		Method:      "POST",
		Data:        `{"password":"` + secretPassword + `"}`,
		QueryString: "refresh_token=" + secretQuery + "&page=2",
		Cookies:     "session=" + secretCookie,
		Headers: map[string]string{
			"Authorization":       "Bearer " + secretJWT,
			"Proxy-Authorization": "Basic xyz",
			"Cookie":              "session=" + secretCookie,
			"X-Api-Key":           "k",
			"X-Forwarded-For":     "10.1.2.3",
			"User-Agent":          "ua",
		},
		Env: map[string]string{"REMOTE_ADDR": "10.1.2.3"},
	}
	ev.User.IPAddress = "10.1.2.3"
	ev.User.Email = "bob@example.com"
	ev.Tags = map[string]string{"auth_token": secretJWT, "note": "Bearer " + secretJWT}
	ev.Contexts = map[string]sentry.Context{
		"trace":  {"trace_id": "0123"},
		"params": {"password": secretPassword, "nested": map[string]any{"refresh_token": secretQuery}, "list": []any{"Bearer " + secretJWT}},
	}
	ev.Breadcrumbs = []*sentry.Breadcrumb{{Message: "cookie=" + secretCookie + " token=" + secretQuery, Data: map[string]any{"Cookie": secretCookie}}}
	ev.Exception = []sentry.Exception{{Type: "error", Value: "dial postgres://app:" + secretPassword + "@db/app"}}
	return ev
}
