package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"myapi/internal/testdb"
)

// raw sends a hand-written HTTP/1.1 request on a connection of its own and
// reads the response. With closeWrite the client then closes its sending
// side, so a body shorter than announced ends there.
func (e *env) raw(t *testing.T, req string, closeWrite bool) response {
	t.Helper()
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		_ = conn.(*net.TCPConn).CloseWrite()
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to %q: %v", req, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// rawRequest is the head of a request for raw, ending in the blank line.
func rawRequest(method, path, token, contentType string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\n", method, path, contentType)
	if token != "" {
		b.WriteString("Authorization: Bearer " + token + "\r\n")
	}
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	return b.String() + "\r\n"
}

// TestBrokenBodies: a body that ends before its Content-Length, a
// malformed chunk, or a body that stops arriving is the client's error
// (400, 408) with a detail, logged at INFO, on every route.
func TestBrokenBodies(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		token, _ := e.user(t, "bob")
		it := e.expect(t, http.StatusCreated, request{Method: "POST", Path: "/items", Token: token, JSON: map[string]any{"title": "Lamp", "price": 1}}).JSON(t)
		routes := []struct{ method, path, token, contentType string }{
			{"POST", "/items", token, "application/json"},
			{"PUT", "/items/" + itoa(int64(it["id"].(float64))), token, "application/json"},
			{"POST", "/auth/register", "", "application/json"},
			{"POST", "/auth/login", "", "application/x-www-form-urlencoded"},
			{"PATCH", "/users/1", token, "application/json"},
			{"POST", "/no/such/route", "", "application/json"},
		}
		for _, r := range routes {
			t.Run(r.method+" "+r.path, func(t *testing.T) {
				truncated := e.raw(t, rawRequest(r.method, r.path, r.token, r.contentType, "Content-Length: 100")+`{"title":`, true)
				if truncated.Status != http.StatusBadRequest || !strings.Contains(truncated.Detail(t), "Request body is incomplete or malformed: unexpected EOF") {
					t.Errorf("truncated body: %d %s", truncated.Status, truncated.Body)
				}
				badChunk := e.raw(t, rawRequest(r.method, r.path, r.token, r.contentType, "Transfer-Encoding: chunked")+"zz\r\n{}\r\n0\r\n\r\n", true)
				if badChunk.Status != http.StatusBadRequest || !strings.Contains(badChunk.Detail(t), "Request body is incomplete or malformed") {
					t.Errorf("bad chunk: %d %s", badChunk.Status, badChunk.Body)
				}
				cutChunk := e.raw(t, rawRequest(r.method, r.path, r.token, r.contentType, "Transfer-Encoding: chunked")+"10\r\n{\"ti", true)
				if cutChunk.Status != http.StatusBadRequest {
					t.Errorf("chunked body cut short: %d %s", cutChunk.Status, cutChunk.Body)
				}
			})
		}
		if logs := e.Logs.String(); !strings.Contains(logs, `"level":"INFO","msg":"request body unreadable"`) || strings.Contains(logs, `"status":500`) {
			t.Errorf("broken bodies were not logged at INFO, or gave a 500:\n%s", logs)
		}
	})
}

// TestSlowBody: a body that stops arriving gets a 408 when the server's
// read timeout (READ_TIMEOUT) runs out.
func TestSlowBody(t *testing.T) {
	e := buildEnv(t, testdb.Engines(t)[0], envOptions{})
	srv := httptest.NewUnstartedServer(e.Handler)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
		// The client sends half the body and then nothing: it keeps its
		// side open, so only the server's timeout ends the wait.
		res := e.raw(t, rawRequest("POST", "/auth/login", "", ct, "Content-Length: 100")+"username=", false)
		if res.Status != http.StatusRequestTimeout || !strings.Contains(res.Detail(t), "arrived too slowly") {
			t.Errorf("%s: %d %s", ct, res.Status, res.Body)
		}
	}
}

// TestBodyLimit: a body of exactly MAX_BODY_BYTES is accepted, one byte
// more is a 413, announced by Content-Length or not (chunked), on JSON and
// form routes.
func TestBodyLimit(t *testing.T) {
	const limit = 4096
	for _, engine := range testdb.Engines(t) {
		t.Run(engine.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, engine, envOptions{maxBodyBytes: limit})
			token, _ := e.user(t, "lim")
			// pad makes a body of exactly n bytes from its start and end.
			pad := func(start, end string, n int) string {
				return start + strings.Repeat("a", n-len(start)-len(end)) + end
			}
			item := func(n int) string { return pad(`{"title":"Big","price":1,"pad":"`, `"}`, n) }
			form := func(n int) string { return pad("username=lim&password=password123&pad=", "", n) }
			for _, tc := range []struct {
				name, path, token, contentType string
				body                           func(n int) string
				ok                             int
			}{
				{"JSON", "/items", token, "application/json", item, http.StatusCreated},
				{"form", "/auth/login", "", "application/x-www-form-urlencoded", form, http.StatusOK},
			} {
				for _, n := range []int{limit, limit + 1} {
					want := tc.ok
					if n > limit {
						want = http.StatusRequestEntityTooLarge
					}
					sized := e.do(t, request{Method: "POST", Path: tc.path, Token: tc.token, Body: tc.body(n), ContentType: tc.contentType})
					// Chunked: the server learns the size only by reading.
					chunked := e.raw(t, rawRequest("POST", tc.path, tc.token, tc.contentType, "Transfer-Encoding: chunked")+
						fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", n, tc.body(n)), false)
					for _, res := range []response{sized, chunked} {
						if res.Status != want {
							t.Errorf("%s body of %d bytes: %d %s", tc.name, n, res.Status, res.Body)
						} else if want == http.StatusRequestEntityTooLarge && !strings.Contains(res.Detail(t), "larger than the limit of 4096 bytes") {
							t.Errorf("%s body of %d bytes: detail %q", tc.name, n, res.Detail(t))
						}
					}
				}
			}
		})
	}
}
