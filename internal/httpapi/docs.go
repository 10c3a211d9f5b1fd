package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	swaggerfiles "github.com/swaggo/files/v2"

	"myapi/internal/access"
	"myapi/internal/webassets"
)

// The interactive documentation: Swagger UI at /docs and ReDoc at /redoc,
// both reading the OpenAPI document that huma serves at /openapi.json.
// Every asset is embedded in the binary, so the docs work offline and no
// page loads anything from a CDN: Swagger UI's files come from the Go
// module github.com/swaggo/files/v2, ReDoc's bundle from its npm package
// (internal/webassets, pinned and hash-checked by its fetch.sh).
const (
	// docsPath is Swagger UI's page; its assets live under docsPath + "/".
	docsPath = "/docs"
	// redocPath is ReDoc's page; its script is redocScriptPath.
	redocPath = "/redoc"
	// redocScriptPath serves bundles/redoc.standalone.js of the npm
	// package redoc (2.x keeps the classic <redoc> element; 3.x is an ES
	// module with another API).
	redocScriptPath = redocPath + "/redoc.standalone.js"
	// openAPIURL is where huma serves the OpenAPI document (huma's default
	// OpenAPIPath plus ".json").
	openAPIURL = "/openapi.json"

	// swaggerCSP lets the Swagger UI page run only its own scripts and talk
	// only to this server. The initializer is a file, not an inline
	// script, so no 'unsafe-inline' is needed for scripts; styles need it
	// because Swagger UI's React components set style attributes.
	swaggerCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	// redocCSP admits only this server's scripts. ReDoc injects <style>
	// elements (styled-components) and runs its search index in a worker
	// made from a blob: URL. Its "API docs by Redocly" logo, an image on
	// Redocly's site, is blocked on purpose (no third-party request at
	// all): ReDoc hides the image when it fails to load.
	redocCSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

// swaggerPage is Swagger UI's index.html, rewritten so that the title is
// the app's and the assets are found under /docs/ (the page itself is
// served at /docs without a trailing slash, so relative paths would miss).
const swaggerPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Swagger UI</title>
<link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<noscript>Swagger UI needs JavaScript. The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="/docs/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="/docs/swagger-initializer.js" charset="utf-8"></script>
</body>
</html>
`

// swaggerInitializer replaces the bundled swagger-initializer.js (which
// points at the Petstore demo). It mirrors FastAPI's settings: BaseLayout
// (no top bar with a URL box to load other documents), deep links, and
// the OAuth2 redirect page that ships with Swagger UI. persistAuthorization
// keeps the token across reloads; validatorUrl null stops Swagger UI from
// sending the document to the public validator.
const swaggerInitializer = `window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "` + openAPIURL + `",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    persistAuthorization: true,
    validatorUrl: null,
    oauth2RedirectUrl: window.location.origin + "` + docsPath + `/oauth2-redirect.html",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
};
`

// redocPage is ReDoc's page. The favicon is Swagger UI's, served from the
// embedded assets.
const redocPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - ReDoc</title>
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<noscript>ReDoc needs JavaScript. The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<redoc spec-url="{{.SpecURL}}"></redoc>
<script src="{{.ScriptURL}}"></script>
</body>
</html>
`

// pageData fills the page templates.
type pageData struct {
	Title     string
	SpecURL   string
	ScriptURL string
}

// registerDocs serves the interactive API documentation: Swagger UI at
// /docs (assets under /docs/…) and ReDoc at /redoc. The pages are rendered
// once here, since the title cannot change while the server runs.
func docsRoutes(title string) []plainRoute {
	data := pageData{Title: title, SpecURL: openAPIURL, ScriptURL: redocScriptPath}
	swagger := renderPage(swaggerPage, data)
	redoc := renderPage(redocPage, data)
	redocFS, err := fs.Sub(webassets.FS, "redoc")
	if err != nil {
		panic("httpapi: embedded ReDoc: " + err.Error())
	}
	// Assets: the bundle is 1.4 MB of JavaScript, so compress what is
	// text (chi only compresses when the client accepts it).
	compress := middleware.Compress(5, "text/javascript", "application/javascript", "text/css", "text/html", "application/json")
	// The router strips one trailing slash, so /docs/ arrives at the pages
	// too: both answer 200 without a redirect.
	return []plainRoute{
		{method: http.MethodGet, pattern: docsPath, class: access.None, handler: servePage(swagger, swaggerCSP)},
		{method: http.MethodGet, pattern: redocPath, class: access.None, handler: servePage(redoc, redocCSP)},
		{method: http.MethodGet, pattern: docsPath + "/swagger-initializer.js", class: access.None, handler: compress(http.HandlerFunc(
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-cache")
				http.ServeContent(w, r, "swagger-initializer.js", time.Time{}, strings.NewReader(swaggerInitializer))
			}))},
		{method: http.MethodGet, pattern: docsPath + "/*", class: access.None, handler: compress(serveAssets(swaggerfiles.FS))},
		{method: http.MethodGet, pattern: redocPath + "/*", class: access.None, handler: compress(serveAssets(redocFS))},
	}
}

// renderPage executes a page template. The templates are constants, so a
// failure is a programming error found by the first test that starts a
// server: panicking at start-up is right.
func renderPage(src string, data pageData) []byte {
	var buf bytes.Buffer
	if err := template.Must(template.New("page").Parse(src)).Execute(&buf, data); err != nil {
		panic("httpapi: docs page: " + err.Error())
	}
	return buf.Bytes()
}

// servePage answers with a rendered HTML page and its Content-Security-
// Policy. no-cache makes browsers revalidate, so a new release's page
// (and the assets it names) shows up at once.
func servePage(page []byte, csp string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(page))
	}
}

// serveAssets serves the regular files of fsys named by the route's
// wildcard. Directories and unknown names get the API's JSON 404 instead
// of http.FileServer's listings, text 404s and index.html redirects.
func serveAssets(fsys fs.FS) http.HandlerFunc {
	// Embedded files carry no modification time, so each file's ETag is a
	// hash of its content, computed on first request and kept for the
	// life of the handler (the files cannot change while it runs).
	var etags sync.Map // name → ETag
	return func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean(chi.URLParam(r, "*"))
		if !fs.ValidPath(name) || name == "." {
			writeProblem(w, http.StatusNotFound, "Not Found")
			return
		}
		f, err := fsys.Open(name)
		if err != nil {
			writeProblem(w, http.StatusNotFound, "Not Found")
			return
		}
		defer f.Close()
		st, err := f.Stat()
		rs, seekable := f.(io.ReadSeeker)
		if err != nil || st.IsDir() || !seekable {
			writeProblem(w, http.StatusNotFound, "Not Found")
			return
		}
		etag, ok := etags.Load(name)
		if !ok {
			if etag, err = contentETag(rs); err != nil {
				writeProblem(w, http.StatusInternalServerError, "Internal server error")
				return
			}
			etags.Store(name, etag)
		}
		// no-cache: browsers keep the file but ask each time, and get a
		// 304 until an upgrade of Swagger UI changes the content.
		w.Header().Set("ETag", etag.(string))
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, rs)
	}
}

// contentETag hashes the content of rs into a weak ETag (weak because
// compression changes the bytes sent but not the content), and rewinds rs.
func contentETag(rs io.ReadSeeker) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, rs); err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return `W/"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`, nil
}
