package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"myapi/internal/admin"
)

// view is what every page template gets.
type view struct {
	Title string
	// Nav is the section of the navigation to mark as current.
	Nav   string
	User  string
	CSRF  string
	Flash string
	Data  any
}

// flashes are the messages a redirect after a change may show, by code:
// only these, so that a link cannot make the console say anything else.
var flashes = map[string]string{
	"activated":      "The user is active again.",
	"deactivated":    "The user is deactivated and their sessions are revoked.",
	"promoted":       "The user is now a superuser.",
	"demoted":        "The user is no longer a superuser.",
	"revoked":        "Every session of the user is revoked.",
	"reset-sent":     "A password-reset email is on its way.",
	"user-deleted":   "The user, their items and their sessions are deleted.",
	"item-saved":     "The item is saved.",
	"item-deleted":   "The item is deleted.",
	"job-retried":    "The job will run again.",
	"job-cancelled":  "The job is cancelled.",
	"signed-out":     "You are signed out.",
	"not-superuser":  "Not allowed: the console is for superusers only.",
	"session-ended":  "Your session has ended: sign in again.",
	"already-gone":   "It was already gone.",
	"nothing-to-do":  "Nothing changed.",
	"superuser-last": "The last active superuser cannot be demoted, deactivated or deleted.",
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, errors.New("console: no template "+name))
		return
	}
	if v.Flash == "" {
		v.Flash = flashes[r.URL.Query().Get("done")]
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// show renders a page of a signed-in superuser.
func (c *Console) show(q *request, name, title, nav string, data any) error {
	c.render(q.w, q.r, http.StatusOK, name, view{Title: title, Nav: nav, User: q.user.Username, CSRF: q.csrf(), Data: data})
	return nil
}

// done redirects after a change to path, with the flash message of code.
func done(q *request, path, code string) error {
	http.Redirect(q.w, q.r, path+"?done="+url.QueryEscape(code), http.StatusSeeOther)
	return nil
}

// problem is an error page with a status.
func (c *Console) problem(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Data: msg})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.problem(w, r, http.StatusNotFound, "There is no such page or record.")
}

// statusError is an answer a handler chose: a status and what to say.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func refuse(status int, msg string) error { return &statusError{status: status, msg: msg} }

var errNotFound = refuse(http.StatusNotFound, "There is no such page or record.")

// fail answers an error: a statusError as it says, anything else as a
// logged 500 that tells nothing of the cause.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	if errors.As(err, &se) {
		c.problem(w, r, se.status, se.msg)
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return
	}
	c.deps.Log.ErrorContext(r.Context(), "console request failed", "error", err)
	c.problem(w, r, http.StatusInternalServerError, "Something went wrong; the error is in the server's log.")
}

// pathID is the {id} of the path, or errNotFound.
func pathID(q *request) (int64, error) {
	id, err := strconv.ParseInt(q.r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errNotFound
	}
	return id, nil
}

// audit records a change made through the console in the audit log and
// in the server's log.
func (c *Console) audit(q *request, action, targetType string, targetID int64, detail string) {
	ctx := q.r.Context()
	e := &admin.Entry{
		At: c.deps.Now().UTC(), ActorID: q.user.ID, ActorUsername: q.user.Username,
		Action: action, TargetType: targetType, TargetID: targetID, Detail: detail,
		RequestID: q.w.Header().Get("X-Request-Id"),
	}
	c.deps.Log.InfoContext(ctx, "console change", "actor_id", e.ActorID, "actor", e.ActorUsername,
		"action", action, "target_type", targetType, "target_id", targetID, "detail", detail)
	if err := c.deps.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		c.deps.Log.ErrorContext(ctx, "console change not in the audit log", "action", action, "target_id", targetID, "error", err)
	}
}

// pager is the position in a list.
type pager struct {
	Page    int64
	HasPrev bool
	HasNext bool
	// Prev and Next are the query strings of the neighbouring pages.
	Prev string
	Next string
}

// pageSize is how many rows a list shows.
const pageSize = 25

// maxPage bounds how deep a list goes: each page further costs the
// database the rows before it, and ten thousand rows are past what a
// person pages through rather than searches.
const maxPage = 400

// pageOf reads ?page= (from 1) and returns the offset; a page past
// maxPage is refused.
func pageOf(r *http.Request) (page, offset int64, err error) {
	page, perr := strconv.ParseInt(r.URL.Query().Get("page"), 10, 64)
	if perr != nil || page < 1 {
		page = 1
	}
	if page > maxPage {
		return 0, 0, refuse(http.StatusBadRequest, fmt.Sprintf("Lists go %d pages deep: narrow the search or add a filter.", maxPage))
	}
	return page, (page - 1) * pageSize, nil
}

// newPager builds the pager of a list fetched with one row more than
// shown (got), and trims that row.
func newPager(r *http.Request, page int64, got int) pager {
	p := pager{Page: page, HasPrev: page > 1, HasNext: got > pageSize && page < maxPage}
	link := func(n int64) string {
		v := r.URL.Query()
		v.Del("done")
		v.Set("page", strconv.FormatInt(n, 10))
		return "?" + v.Encode()
	}
	p.Prev, p.Next = link(page-1), link(page+1)
	return p
}
