package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"myapi/internal/browsertest"
	"myapi/internal/testdb"
)

// Environment variables the browser test reads.
const (
	// screenshotEnv names a PNG file to write the authorized /users/me
	// response to, for a person to look at.
	screenshotEnv = "TEST_DOCS_SCREENSHOT"
)

// sqliteEngine returns the embedded engine: the docs do not depend on the
// storage engine, so one is enough.
func sqliteEngine(t *testing.T) testdb.Engine {
	t.Helper()
	for _, engine := range testdb.Engines(t) {
		if engine.Name == "sqlite" {
			return engine
		}
	}
	t.Fatal("no sqlite engine")
	return testdb.Engine{}
}

// get fetches path without following redirects, since /docs must answer
// by itself, and with extra request headers.
func get(t *testing.T, e *env, path string, header map[string]string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: body}
}

func TestDocsServedWhenEnabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteEngine(t), envOptions{docs: true})

	t.Run("swagger page", func(t *testing.T) {
		for _, path := range []string{"/docs", "/docs/"} {
			res := get(t, e, path, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200 (no redirect); body: %s", path, res.Status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("GET %s: Content-Type %q", path, ct)
			}
			body := string(res.Body)
			for _, want := range []string{
				"<title>My API - Swagger UI</title>",
				`src="/docs/swagger-ui-bundle.js"`,
				`href="/docs/swagger-ui.css"`,
				`src="/docs/swagger-initializer.js"`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("GET %s: page lacks %s:\n%s", path, want, body)
				}
			}
			if regexp.MustCompile(`(src|href)="[a-z]+://`).MatchString(body) {
				t.Errorf("GET %s: Swagger UI must load nothing from elsewhere (it works offline):\n%s", path, body)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
				t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
			}
		}
	})

	t.Run("swagger assets", func(t *testing.T) {
		for _, tc := range []struct {
			path, ctype string
			minSize     int
		}{
			{"/docs/swagger-ui-bundle.js", "text/javascript", 500_000},
			{"/docs/swagger-ui.css", "text/css", 10_000},
			{"/docs/oauth2-redirect.html", "text/html", 500},
			{"/docs/favicon-32x32.png", "image/png", 100},
		} {
			res := get(t, e, tc.path, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET %s: status %d; body: %.200s", tc.path, res.Status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.ctype)
			}
			if len(res.Body) < tc.minSize {
				t.Errorf("GET %s: %d bytes, want at least %d", tc.path, len(res.Body), tc.minSize)
			}
		}

		init := get(t, e, "/docs/swagger-initializer.js", nil)
		if init.Status != http.StatusOK {
			t.Fatalf("initializer: status %d", init.Status)
		}
		for _, want := range []string{`url: "/openapi.json"`, "persistAuthorization: true", `"/docs/oauth2-redirect.html"`} {
			if !strings.Contains(string(init.Body), want) {
				t.Errorf("initializer lacks %s:\n%s", want, init.Body)
			}
		}
		if strings.Contains(string(init.Body), "petstore") {
			t.Errorf("the bundled Petstore initializer is served:\n%s", init.Body)
		}
	})

	t.Run("asset caching and compression", func(t *testing.T) {
		first := get(t, e, "/docs/swagger-ui.css", nil)
		etag := first.Header.Get("ETag")
		if etag == "" {
			t.Errorf("no ETag on an asset: %v", first.Header)
		} else if again := get(t, e, "/docs/swagger-ui.css", map[string]string{"If-None-Match": etag}); again.Status != http.StatusNotModified {
			t.Errorf("If-None-Match %s: status %d, want 304", etag, again.Status)
		}
		gz := get(t, e, "/docs/swagger-ui-bundle.js", map[string]string{"Accept-Encoding": "gzip"})
		if gz.Header.Get("Content-Encoding") != "gzip" || len(gz.Body) >= 1_000_000 {
			t.Errorf("bundle not compressed: Content-Encoding %q, %d bytes", gz.Header.Get("Content-Encoding"), len(gz.Body))
		}
	})

	t.Run("unknown asset", func(t *testing.T) {
		for _, path := range []string{"/docs/nope.js", "/docs//", "/docs/..%2fgo.mod"} {
			res := get(t, e, path, nil)
			if res.Status != http.StatusNotFound {
				t.Errorf("GET %s: status %d, want 404; body: %.200s", path, res.Status, res.Body)
				continue
			}
			res.Detail(t)
		}
	})

	t.Run("redoc page", func(t *testing.T) {
		res := get(t, e, "/redoc", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("GET /redoc: status %d; body: %s", res.Status, res.Body)
		}
		body := string(res.Body)
		for _, want := range []string{"<title>My API - ReDoc</title>", `<redoc spec-url="/openapi.json">`} {
			if !strings.Contains(body, want) {
				t.Errorf("/redoc lacks %s:\n%s", want, body)
			}
		}
		// The script is this server's own copy: no CDN, so /redoc works
		// offline, and the CSP admits nothing else.
		script := redocScript(t, res.Body)
		if script != "/redoc/redoc.standalone.js" {
			t.Errorf("/redoc loads ReDoc from %s, want the embedded /redoc/redoc.standalone.js", script)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") {
			t.Errorf("/redoc: Content-Security-Policy %q admits scripts from elsewhere", csp)
		}
		js := get(t, e, script, nil)
		if js.Status != http.StatusOK || !strings.Contains(js.Header.Get("Content-Type"), "javascript") || len(js.Body) < 500_000 {
			t.Fatalf("GET %s: status %d, Content-Type %q, %d bytes", script, js.Status, js.Header.Get("Content-Type"), len(js.Body))
		}
		if lic := get(t, e, "/redoc/LICENSE", nil); lic.Status != http.StatusOK || !strings.Contains(string(lic.Body), "MIT") {
			t.Errorf("GET /redoc/LICENSE: status %d", lic.Status)
		}
		if missing := get(t, e, "/redoc/nothing.js", nil); missing.Status != http.StatusNotFound {
			t.Errorf("GET /redoc/nothing.js: status %d, want 404", missing.Status)
		}
	})

	t.Run("openapi document", func(t *testing.T) {
		res := get(t, e, "/openapi.json", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("GET /openapi.json: status %d", res.Status)
		}
		var doc struct {
			Info struct {
				Title string `json:"title"`
			} `json:"info"`
			Paths map[string]map[string]struct {
				Security []map[string][]string `json:"security"`
			} `json:"paths"`
			Components struct {
				SecuritySchemes map[string]struct {
					Type  string `json:"type"`
					Flows struct {
						Password *struct {
							TokenURL string `json:"tokenUrl"`
						} `json:"password"`
					} `json:"flows"`
				} `json:"securitySchemes"`
			} `json:"components"`
		}
		if err := json.Unmarshal(res.Body, &doc); err != nil {
			t.Fatalf("openapi.json: %v", err)
		}
		if doc.Info.Title != "My API" {
			t.Errorf("info.title = %q", doc.Info.Title)
		}
		scheme, ok := doc.Components.SecuritySchemes["OAuth2PasswordBearer"]
		if !ok || scheme.Type != "oauth2" || scheme.Flows.Password == nil || scheme.Flows.Password.TokenURL != "/auth/login" {
			t.Errorf("no OAuth2 password flow with tokenUrl /auth/login: %+v", doc.Components.SecuritySchemes)
		}
		me := doc.Paths["/users/me"]["get"]
		if len(me.Security) == 0 {
			t.Errorf("GET /users/me declares no security")
		}
		for _, req := range me.Security {
			if _, ok := req["OAuth2PasswordBearer"]; !ok {
				t.Errorf("GET /users/me security %v does not name OAuth2PasswordBearer", me.Security)
			}
		}
		if yaml := get(t, e, "/openapi.yaml", nil); yaml.Status != http.StatusOK {
			t.Errorf("GET /openapi.yaml: status %d", yaml.Status)
		}
	})
}

func TestDocsDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sqliteEngine(t), envOptions{docs: false})
	for _, path := range []string{"/docs", "/docs/", "/docs/swagger-ui-bundle.js", "/docs/swagger-initializer.js", "/redoc", "/redoc/redoc.standalone.js", "/openapi.json", "/openapi.yaml"} {
		res := get(t, e, path, nil)
		if res.Status != http.StatusNotFound {
			t.Errorf("GET %s with docs off: status %d, want 404", path, res.Status)
			continue
		}
		res.Detail(t)
	}
}

// redocScript returns the src of the page's ReDoc script.
func redocScript(t *testing.T, page []byte) string {
	t.Helper()
	m := regexp.MustCompile(`<script src="([^"]+/redoc\.standalone\.js)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no redoc.standalone.js script in:\n%s", page)
	}
	return string(m[1])
}

// pageProblems collects what the page reported that a person would not
// see: uncaught exceptions and Content-Security-Policy violations.
type pageProblems struct {
	mu       sync.Mutex
	messages []string
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.messages = append(p.messages, s)
}

func (p *pageProblems) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.messages...)
}

// watchConsole records exceptions and CSP violations of the tab.
func watchConsole(ctx context.Context, problems *pageProblems) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		text := m.Text
		if m.IsException() || strings.Contains(text, "Content Security Policy") {
			problems.add(string(m.Type) + ": " + text)
		}
	}
}

// offline keeps the browser on this machine: requests to the test server
// go through; anything else fails at once, as it would offline.
func offline(ctx context.Context, serverURL string) error {
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		return err
	}
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			url := ev.Request.URL
			switch {
			case strings.HasPrefix(url, serverURL+"/"):
				_, err = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			default:
				_, err = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{
					RequestID: ev.RequestID, ErrorReason: network.ErrorReasonInternetDisconnected,
				})
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				return
			}
		}
	}()
	return nil
}

// TestDocsBrowser drives Swagger UI the way a person does: authorize with
// a username and password through the OAuth2 password form, then run
// GET /users/me and read the user in the response. Then it loads ReDoc.
func TestDocsBrowser(t *testing.T) {
	execPath := browsertest.Chromium(t, "the browser test of /docs")
	e := newEnv(t, sqliteEngine(t), envOptions{docs: true})
	e.register(t, "swaggeruser")

	ctx := browsertest.New(t, execPath, 50*time.Second, 1280, 1400)
	problems := &pageProblems{}
	go watchConsole(ctx, problems)
	if err := offline(ctx, e.URL); err != nil {
		t.Fatalf("intercept requests: %v", err)
	}

	// Everything the test expects on screen, in the order a person goes.
	meBlock := `//div[contains(@class,"opblock-get")][.//*[@data-path="/users/me"]]`
	steps := []struct {
		name   string
		action chromedp.Action[chromedp.Void]
	}{
		{"open /docs", chromedp.Navigate(e.URL + "/docs")},
		{"see the Authorize button", chromedp.WaitVisible(chromedp.CSS(`.scheme-container button.authorize`))},
		{"click Authorize", chromedp.Click(chromedp.CSS(`.scheme-container button.authorize`))},
		{"see the password form", chromedp.WaitVisible(chromedp.CSS(`#oauth_username`))},
		{"type the username", chromedp.SendKeys(chromedp.CSS(`#oauth_username`), "swaggeruser")},
		{"type the password", chromedp.SendKeys(chromedp.CSS(`#oauth_password`), "password123")},
		{"click the dialog's Authorize", chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.authorize`))},
		// Swagger UI swaps Authorize for Logout once /auth/login answered
		// with a token.
		{"see Logout", chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"auth-btn-wrapper")]/button[normalize-space()="Logout"]`))},
		{"close the dialog", chromedp.Click(chromedp.CSS(`.auth-btn-wrapper button.btn-done`))},
		{"dialog gone", chromedp.WaitNotPresent(chromedp.CSS(`.dialog-ux`))},
		{"expand GET /users/me", chromedp.Click(chromedp.Search(meBlock + `//button[contains(@class,"opblock-summary-control")]`))},
		{"click Try it out", chromedp.Click(chromedp.Search(meBlock + `//button[contains(@class,"try-out__btn")]`))},
		{"click Execute", chromedp.Click(chromedp.Search(meBlock + `//button[contains(@class,"execute")]`))},
		{"see the response", chromedp.WaitVisible(chromedp.Search(meBlock + `//table[contains(@class,"live-responses-table")]/tbody//td[contains(@class,"response-col_status")]`))},
	}
	for _, step := range steps {
		start := time.Now()
		if err := chromedp.Do(ctx, step.action); err != nil {
			t.Fatalf("%s: %v\npage problems: %q\npage text: %s", step.name, err, problems.list(), pageText(ctx))
		}
		t.Logf("%s (%s)", step.name, time.Since(start).Round(time.Millisecond))
	}

	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(meBlock+`//table[contains(@class,"live-responses-table")]/tbody//td[contains(@class,"response-col_status")]`)))
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(meBlock+`//table[contains(@class,"live-responses-table")]/tbody//td[contains(@class,"response-col_description")]//pre`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(strings.TrimSpace(status), "200") || !strings.Contains(body, `"username": "swaggeruser"`) {
		t.Fatalf("GET /users/me in Swagger UI: status %q, body %q", status, body)
	}
	curl, err := chromedp.Run(ctx, chromedp.Text(chromedp.Search(meBlock+`//div[contains(@class,"curl-command")]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(curl, "Authorization: Bearer ") {
		t.Errorf("the request Swagger UI sent carries no bearer token: %s", curl)
	}
	// persistAuthorization keeps the token in localStorage across reloads.
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("authorized") || ""`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored, "OAuth2PasswordBearer") {
		t.Errorf("authorization not persisted: localStorage.authorized = %q", stored)
	}

	if path := os.Getenv(screenshotEnv); path != "" {
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.Search(meBlock)))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of the authorized GET /users/me written to %s", path)
	}

	// ReDoc, from the embedded bundle, with the browser offline.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.URL+"/redoc")); err != nil {
		t.Fatalf("open /redoc: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "My API - ReDoc" {
		t.Errorf("/redoc title = %q", title)
	}
	heading := chromedp.Search(`//redoc//h1[contains(normalize-space(), "My API")]`)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(heading)); err != nil {
		t.Fatalf("ReDoc did not render the API title: %v\npage problems: %q\npage text: %s", err, problems.list(), pageText(ctx))
	}
	// An operation of the document is on the page, not just the title.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.Search(`//redoc//*[contains(normalize-space(), "/users/me")]`))); err != nil {
		t.Errorf("ReDoc did not render /users/me: %v", err)
	}
	if path := os.Getenv(screenshotEnv); path != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err == nil {
			_ = os.WriteFile(strings.TrimSuffix(path, ".png")+"-redoc.png", png, 0o644)
		}
	}

	for _, p := range problems.list() {
		// ReDoc shows a "by Redocly" logo from Redocly's site; the CSP
		// blocks that third-party request on purpose, and ReDoc hides the
		// image when it fails to load.
		if strings.Contains(p, "cdn.redoc.ly/redoc/logo-mini.svg") {
			continue
		}
		t.Errorf("page problem: %s", p)
	}
}

// pageText is the visible text of the page, to explain a failed step.
func pageText(ctx context.Context) string {
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	if len(text) > 2000 {
		text = text[:2000] + "…"
	}
	return text
}
