// Package console is the admin console: server-rendered pages at /admin
// where a superuser signs in with a password and manages users, items and
// jobs through the same stores and rules as the API. It runs no script
// at all: plain forms, so its Content-Security-Policy allows none.
package console

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"myapi/internal/admin"
	"myapi/internal/auth"
	"myapi/internal/backup"
	"myapi/internal/clientip"
	"myapi/internal/items"
	"myapi/internal/jobs"
	"myapi/internal/ratelimit"
	"myapi/internal/users"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Store is what the console reads and writes: the API's stores, the
// searches of its lists, and its own sessions and audit log.
type Store interface {
	users.Store
	users.Searcher
	items.Store
	items.Searcher
	auth.SessionLister
	admin.Store
}

// JobQueue is what the console needs of the background job queue.
type JobQueue interface {
	Counts(ctx context.Context) ([]jobs.Count, error)
	ListJobs(ctx context.Context, state, kind string, limit int) ([]*jobs.Job, error)
	Job(ctx context.Context, id int64) (*jobs.Job, error)
	RetryJob(ctx context.Context, id int64) (*jobs.Job, error)
	CancelJob(ctx context.Context, id int64) (*jobs.Job, error)
	EnqueuePasswordRecovery(ctx context.Context, email string) error
}

// Backups is where the database's backups are, for the dashboard.
type Backups interface {
	Dir() string
	Last() (backup.Info, bool, error)
}

// Check is a named dependency the dashboard shows the status of.
type Check struct {
	Name string
	Ping func(context.Context) error
}

// Config is how the console behaves.
type Config struct {
	// Version is shown on the dashboard.
	Version string
	// IdleTimeout ends a session after this long without a request;
	// Lifetime ends it this long after sign-in.
	IdleTimeout time.Duration
	Lifetime    time.Duration
	// Proxies tells whether a request came through a trusted proxy, whose
	// X-Forwarded-Proto then says if the client used HTTPS.
	Proxies *clientip.Resolver
}

// Deps are the parts the console works with.
type Deps struct {
	Log   *slog.Logger
	Auth  *auth.Service
	Store Store
	Jobs  JobQueue
	// Limiter, if set, puts the sign-in form under the login rate limit.
	Limiter *ratelimit.Limiter
	Checks  []Check
	// Backups, if set, are shown on the dashboard: scheduled every
	// BackupEvery (0: not scheduled), keeping the newest BackupKeep.
	Backups     Backups
	BackupEvery time.Duration
	BackupKeep  int
	// ItemsChanged, if set, runs after the console changed or deleted
	// items, e.g. to drop the API's cached responses.
	ItemsChanged func(ctx context.Context)
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Console serves the pages.
type Console struct {
	cfg   Config
	deps  Deps
	pages map[string]*template.Template
	mux   *http.ServeMux

	countsMu sync.Mutex
	counts   cachedCounts
}

// New builds the console, to be mounted at /admin.
func New(cfg Config, deps Deps) (*Console, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, deps: deps, pages: pages, mux: http.NewServeMux()}
	c.routes()
	return c, nil
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name[len("templates/"):len(name)-len(".html")]] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"whenp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"duration": shortDuration,
	"size":     humanSize,
	"price":    func(p float64) string { return fmt.Sprintf("%.2f", p) },
	"lastError": func(j *jobs.Job) string {
		if len(j.Errors) == 0 {
			return ""
		}
		return j.Errors[len(j.Errors)-1].Error
	},
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
}

func (c *Console) routes() {
	m := c.mux
	static, _ := fs.Sub(staticFiles, "static")
	m.Handle("GET /admin/static/", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /admin/login", c.loginPage)
	login := http.Handler(http.HandlerFunc(c.login))
	if c.deps.Limiter != nil {
		login = c.deps.Limiter.Login(login)
	}
	m.Handle("POST /admin/login", login)

	m.Handle("GET /admin", c.page(c.dashboard))
	m.Handle("POST /admin/logout", c.action(c.logout))
	m.Handle("GET /admin/users", c.page(c.usersList))
	m.Handle("GET /admin/users/{id}", c.page(c.userPage))
	m.Handle("GET /admin/users/{id}/delete", c.page(c.userDeletePage))
	m.Handle("POST /admin/users/{id}/delete", c.action(c.userDelete))
	m.Handle("POST /admin/users/{id}/{op}", c.action(c.userAction))
	m.Handle("GET /admin/items", c.page(c.itemsList))
	m.Handle("GET /admin/items/{id}", c.page(c.itemPage))
	m.Handle("POST /admin/items/{id}", c.action(c.itemSave))
	m.Handle("GET /admin/items/{id}/delete", c.page(c.itemDeletePage))
	m.Handle("POST /admin/items/{id}/delete", c.action(c.itemDelete))
	m.Handle("GET /admin/queue", c.page(c.queueList))
	m.Handle("GET /admin/queue/{id}", c.page(c.jobPage))
	m.Handle("POST /admin/queue/{id}/{op}", c.action(c.jobAction))
	m.Handle("GET /admin/audit", c.page(c.auditPage))
	m.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		c.notFound(w, r)
	})
}

// Paths are the route patterns the console answers, for the router in
// front of it: each page and each subtree, and nothing else under /admin,
// so that the API's GET /admin/jobs keeps its route and its answers.
func (c *Console) Paths() []string {
	paths := []string{"/admin", "/admin/login", "/admin/logout", "/admin/audit"}
	for _, tree := range []string{"/admin/static", "/admin/users", "/admin/items", "/admin/queue"} {
		paths = append(paths, tree, tree+"/*")
	}
	return paths
}

// ServeHTTP implements http.Handler: every response carries the console's
// security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if c.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if r.URL.Path != "/admin/static/console.css" {
		h.Set("Cache-Control", "no-store")
	}
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		// The router in front already treats /admin/users/ as /admin/users.
		r.URL.Path = strings.TrimRight(p, "/")
	}
	c.mux.ServeHTTP(w, r)
}
