package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"myapi/internal/access"
	"myapi/internal/admin"
	"myapi/internal/auth"
	"myapi/internal/users"
)

// Cookie names. Both are scoped to /admin.
const (
	sessionCookie = "myapi_console"
	// loginCookie carries the sign-in form's CSRF token (double submit):
	// there is no session yet to derive it from.
	loginCookie = "myapi_console_login"
)

// touchEvery is how stale LastSeenAt may get before a request writes it:
// the idle timeout is minutes, so one write a request would be waste.
const touchEvery = 15 * time.Second

var errNoSession = errors.New("no console session")

// request is one signed-in request.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	user   *users.User
	secret string
}

// csrf is the token the forms of this session carry: derived from the
// session secret, which only the browser's cookie holds, so a page of
// another site can neither read nor compute it.
func (q *request) csrf() string { return csrfToken(q.secret) }

func csrfToken(secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("myapi console csrf"))
	return hex.EncodeToString(mac.Sum(nil))
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// secure reports whether the client reached us over HTTPS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func (c *Console) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !c.cfg.Proxies.Trusted(peer.Addr()) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/admin", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.secure(r),
	}
}

// session returns the signed-in superuser of r. A session past its
// lifetime or idle timeout, or whose user is no longer an active
// superuser, is ended here: access is lost at the next request.
func (c *Console) session(r *http.Request) (*users.User, string, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil, "", errNoSession
	}
	ctx := r.Context()
	hash := hashSecret(ck.Value)
	s, err := c.deps.Store.ConsoleSession(ctx, hash)
	if errors.Is(err, admin.ErrSessionNotFound) {
		return nil, "", errNoSession
	} else if err != nil {
		return nil, "", err
	}
	now := c.deps.Now().UTC()
	end := func() (*users.User, string, error) {
		if err := c.deps.Store.DeleteConsoleSession(ctx, hash); err != nil {
			return nil, "", err
		}
		return nil, "", errNoSession
	}
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) > c.cfg.IdleTimeout {
		return end()
	}
	u, err := c.deps.Store.UserByID(ctx, s.UserID)
	if errors.Is(err, users.ErrNotFound) {
		return end()
	} else if err != nil {
		return nil, "", err
	}
	// The API's rule for superuser-only operations, on an active user as
	// the API's authentication requires.
	if !u.IsActive || access.Superuser().Check(ctx, &access.Caller{ID: u.ID, Superuser: u.IsSuperuser}) != nil {
		return end()
	}
	if now.Sub(s.LastSeenAt) > touchEvery {
		if err := c.deps.Store.TouchConsoleSession(ctx, hash, now); err != nil {
			return nil, "", err
		}
	}
	return u, ck.Value, nil
}

// handler is a page or action of a signed-in superuser.
type handler func(q *request) error

// page serves a GET page to a signed-in superuser; anyone else is sent to
// the sign-in form.
func (c *Console) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, secret, err := c.session(r)
		if errors.Is(err, errNoSession) {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		q := &request{w: w, r: r, user: u, secret: secret}
		if err := h(q); err != nil {
			c.fail(w, r, err)
		}
	})
}

// action serves a state-changing POST: a signed-in superuser and the
// session's CSRF token in the form, or 403.
func (c *Console) action(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, secret, err := c.session(r)
		if errors.Is(err, errNoSession) {
			c.problem(w, r, http.StatusForbidden, "Your console session has ended: sign in again.")
			return
		} else if err != nil {
			c.fail(w, r, err)
			return
		}
		if err := r.ParseForm(); err != nil {
			c.problem(w, r, http.StatusBadRequest, "The form could not be read.")
			return
		}
		if !sameToken(r.PostForm.Get("csrf"), csrfToken(secret)) {
			c.problem(w, r, http.StatusForbidden, "The form's security token is missing or wrong: reload the page and try again.")
			return
		}
		q := &request{w: w, r: r, user: u, secret: secret}
		if err := h(q); err != nil {
			c.fail(w, r, err)
		}
	})
}

type loginView struct {
	CSRF     string
	Username string
	Error    string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	c.renderLogin(w, r, http.StatusOK, loginView{})
}

func (c *Console) renderLogin(w http.ResponseWriter, r *http.Request, status int, v loginView) {
	token := randomSecret()
	http.SetCookie(w, c.cookie(r, loginCookie, token, 3600))
	v.CSRF = token
	c.render(w, r, status, "login", view{Title: "Sign in", Data: v})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		c.problem(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), ck.Value) {
		c.problem(w, r, http.StatusForbidden, "The form's security token is missing or wrong: reload the sign-in page and try again.")
		return
	}
	username := r.PostForm.Get("username")
	u, err := c.deps.Auth.CheckPassword(r.Context(), username, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		c.renderLogin(w, r, http.StatusUnauthorized, loginView{Username: username, Error: "Incorrect username or password."})
		return
	case errors.Is(err, auth.ErrInactive), err == nil && !u.IsSuperuser:
		c.renderLogin(w, r, http.StatusForbidden, loginView{Username: username, Error: "Not allowed: the console is for superusers only."})
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	now := c.deps.Now().UTC()
	secret := randomSecret()
	s := &admin.Session{SecretHash: hashSecret(secret), UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(c.cfg.Lifetime)}
	if err := c.deps.Store.CreateConsoleSession(r.Context(), s); err != nil {
		c.fail(w, r, err)
		return
	}
	c.deps.Log.InfoContext(r.Context(), "console sign-in", "user_id", u.ID, "username", u.Username)
	http.SetCookie(w, c.cookie(r, loginCookie, "", -1))
	http.SetCookie(w, c.cookie(r, sessionCookie, secret, int(c.cfg.Lifetime/time.Second)))
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

func (c *Console) logout(q *request) error {
	if err := c.deps.Store.DeleteConsoleSession(q.r.Context(), hashSecret(q.secret)); err != nil {
		return err
	}
	c.deps.Log.InfoContext(q.r.Context(), "console sign-out", "user_id", q.user.ID, "username", q.user.Username)
	http.SetCookie(q.w, c.cookie(q.r, sessionCookie, "", -1))
	http.Redirect(q.w, q.r, "/admin/login?done=signed-out", http.StatusSeeOther)
	return nil
}
