package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"myapi/internal/auth"
	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/users"
)

type usersData struct {
	Q         string
	Active    string
	Superuser string
	Sort      string
	Users     []*users.User
	Pager     pager
}

// flag reads a yes/no filter; anything else is no filter.
func flag(s string) *bool {
	switch s {
	case "yes":
		v := true
		return &v
	case "no":
		v := false
		return &v
	}
	return nil
}

// maxSearch bounds a search box's text.
const maxSearch = 100

func (c *Console) usersList(q *request) error {
	v := q.r.URL.Query()
	d := usersData{Q: strings.TrimSpace(v.Get("q")), Active: v.Get("active"), Superuser: v.Get("superuser"), Sort: v.Get("sort")}
	if len(d.Q) > maxSearch {
		return refuse(http.StatusBadRequest, fmt.Sprintf("The search is longer than %d characters.", maxSearch))
	}
	switch d.Sort {
	case users.SortOldest, users.SortUsername:
	default:
		d.Sort = users.SortNewest
	}
	page, offset, err := pageOf(q.r)
	if err != nil {
		return err
	}
	list, err := c.deps.Store.SearchUsers(q.r.Context(), users.Query{
		Prefix: d.Q, Active: flag(d.Active), Superuser: flag(d.Superuser), Sort: d.Sort, Offset: offset, Limit: pageSize + 1,
	})
	if err != nil {
		return err
	}
	d.Pager = newPager(q.r, page, len(list))
	d.Users = list[:min(len(list), pageSize)]
	return c.show(q, "users", "Users", "users", d)
}

type userData struct {
	U        *users.User
	Self     bool
	Items    []*items.Item
	More     bool
	Sessions []*auth.Session
}

func (c *Console) loadUser(q *request) (*users.User, error) {
	id, err := pathID(q)
	if err != nil {
		return nil, err
	}
	u, err := c.deps.Store.UserByID(q.r.Context(), id)
	if errors.Is(err, users.ErrNotFound) {
		return nil, errNotFound
	}
	return u, err
}

func (c *Console) userPage(q *request) error {
	u, err := c.loadUser(q)
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	list, err := c.deps.Store.SearchItems(ctx, items.Query{OwnerID: u.ID, Limit: pageSize + 1})
	if err != nil {
		return err
	}
	sessions, err := c.deps.Store.UserSessions(ctx, u.ID, c.deps.Now())
	if err != nil {
		return err
	}
	d := userData{U: u, Self: u.ID == q.user.ID, Items: list[:min(len(list), pageSize)], More: len(list) > pageSize, Sessions: sessions}
	return c.show(q, "user", "User "+u.Username, "users", d)
}

func (c *Console) userDeletePage(q *request) error {
	u, err := c.loadUser(q)
	if err != nil {
		return err
	}
	if err := users.CheckAdminChange(q.user, u.ID, users.Update{}, true); err != nil {
		return refuse(http.StatusForbidden, "You cannot delete your own account.")
	}
	return c.show(q, "user_delete", "Delete "+u.Username, "users", u)
}

func (c *Console) userDelete(q *request) error {
	u, err := c.loadUser(q)
	if err != nil {
		return err
	}
	if err := users.CheckAdminChange(q.user, u.ID, users.Update{}, true); err != nil {
		return refuse(http.StatusForbidden, "You cannot delete your own account.")
	}
	if q.r.PostForm.Get("confirm") != u.Username {
		return refuse(http.StatusUnprocessableEntity, "Type the username exactly to confirm the deletion.")
	}
	err = c.deps.Store.DeleteUser(q.r.Context(), u.ID)
	if c.deps.ItemsChanged != nil {
		c.deps.ItemsChanged(q.r.Context()) // their items went too, whatever the outcome
	}
	switch {
	case errors.Is(err, users.ErrNotFound):
		return done(q, "/admin/users", "already-gone")
	case errors.Is(err, users.ErrLastSuperuser):
		return refuse(http.StatusConflict, flashes["superuser-last"])
	case err != nil:
		return err
	}
	c.audit(q, "user.delete", "user", u.ID, "username "+u.Username)
	return done(q, "/admin/users", "user-deleted")
}

// userAction changes a user's flags, revokes their sessions or sends them
// a reset email.
func (c *Console) userAction(q *request) error {
	u, err := c.loadUser(q)
	if err != nil {
		return err
	}
	ctx := q.r.Context()
	var upd users.Update
	op := q.r.PathValue("op")
	switch op {
	case "activate":
		upd.IsActive = patch.Value(true)
	case "deactivate":
		upd.IsActive = patch.Value(false)
	case "promote":
		upd.IsSuperuser = patch.Value(true)
	case "demote":
		upd.IsSuperuser = patch.Value(false)
	case "revoke-sessions":
		if err := c.deps.Auth.RevokeAllSessions(ctx, u.ID); err != nil {
			return err
		}
		if err := c.deps.Store.DeleteUserConsoleSessions(ctx, u.ID); err != nil {
			return err
		}
		c.audit(q, "user.revoke_sessions", "user", u.ID, "")
		if u.ID == q.user.ID {
			http.Redirect(q.w, q.r, "/admin/login", http.StatusSeeOther)
			return nil
		}
		return done(q, userPath(u.ID), "revoked")
	case "send-reset":
		if err := c.deps.Jobs.EnqueuePasswordRecovery(ctx, u.Email); err != nil {
			return err
		}
		c.audit(q, "user.send_reset", "user", u.ID, "")
		return done(q, userPath(u.ID), "reset-sent")
	default:
		return errNotFound
	}
	if err := users.CheckAdminChange(q.user, u.ID, upd, false); err != nil {
		return refuse(http.StatusForbidden, "You cannot demote or deactivate yourself.")
	}
	after, err := c.deps.Auth.UpdateUser(ctx, q.user, auth.Proof{}, u.ID, upd)
	switch {
	case errors.Is(err, users.ErrNotFound):
		return errNotFound
	case errors.Is(err, users.ErrLastSuperuser):
		return refuse(http.StatusConflict, flashes["superuser-last"])
	case err != nil:
		return err
	}
	if !after.ActiveSuperuser() {
		if err := c.deps.Store.DeleteUserConsoleSessions(ctx, u.ID); err != nil {
			return err
		}
	}
	past := map[string]string{"activate": "activated", "deactivate": "deactivated", "promote": "promoted", "demote": "demoted"}[op]
	c.audit(q, "user."+op, "user", u.ID, "username "+u.Username)
	return done(q, userPath(u.ID), past)
}

func userPath(id int64) string { return "/admin/users/" + strconv.FormatInt(id, 10) }
