package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"myapi/internal/items"
	"myapi/internal/patch"
	"myapi/internal/users"
)

type itemsData struct {
	Q     string
	Owner string
	Items []*items.Item
	Pager pager
	// Unknown is set when the owner filter names nobody.
	Unknown bool
}

// ownerID resolves the owner filter: a user id, or a username.
func (c *Console) ownerID(q *request, owner string) (int64, bool, error) {
	if owner == "" {
		return 0, true, nil
	}
	if id, err := strconv.ParseInt(owner, 10, 64); err == nil && id > 0 {
		return id, true, nil
	}
	u, err := c.deps.Store.UserByUsername(q.r.Context(), owner)
	if errors.Is(err, users.ErrNotFound) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, err
	}
	return u.ID, true, nil
}

func (c *Console) itemsList(q *request) error {
	v := q.r.URL.Query()
	d := itemsData{Q: strings.TrimSpace(v.Get("q")), Owner: strings.TrimSpace(v.Get("owner"))}
	if len(d.Q) > maxSearch || len(d.Owner) > maxSearch {
		return refuse(http.StatusBadRequest, fmt.Sprintf("The search is longer than %d characters.", maxSearch))
	}
	owner, ok, err := c.ownerID(q, d.Owner)
	if err != nil {
		return err
	}
	page, offset, err := pageOf(q.r)
	if err != nil {
		return err
	}
	var list []*items.Item
	if ok {
		list, err = c.deps.Store.SearchItems(q.r.Context(), items.Query{TitlePrefix: d.Q, OwnerID: owner, Offset: offset, Limit: pageSize + 1})
		if err != nil {
			return err
		}
	}
	d.Unknown = !ok
	d.Pager = newPager(q.r, page, len(list))
	d.Items = list[:min(len(list), pageSize)]
	return c.show(q, "items", "Items", "items", d)
}

type itemData struct {
	It    *items.Item
	Error string
	// Form holds what was typed when it was refused.
	Title, Description, Price string
}

func (c *Console) loadItem(q *request) (*items.Item, error) {
	id, err := pathID(q)
	if err != nil {
		return nil, err
	}
	it, err := c.deps.Store.ItemByID(q.r.Context(), id)
	if errors.Is(err, items.ErrNotFound) {
		return nil, errNotFound
	}
	return it, err
}

func (c *Console) itemPage(q *request) error {
	it, err := c.loadItem(q)
	if err != nil {
		return err
	}
	d := itemData{It: it, Title: it.Title, Description: deref(it.Description), Price: strconv.FormatFloat(it.Price, 'f', -1, 64)}
	return c.show(q, "item", "Item "+strconv.FormatInt(it.ID, 10), "items", d)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// itemSave applies the edit form under the rules of the API's schema
// (items.Validate).
func (c *Console) itemSave(q *request) error {
	it, err := c.loadItem(q)
	if err != nil {
		return err
	}
	f := q.r.PostForm
	d := itemData{It: it, Title: f.Get("title"), Description: f.Get("description"), Price: strings.TrimSpace(f.Get("price"))}
	price, perr := strconv.ParseFloat(d.Price, 64)
	upd := items.Update{Title: patch.Value(d.Title), Price: patch.Value(price), Description: patch.Null[string]()}
	if d.Description != "" {
		upd.Description = patch.NullableValue(d.Description)
	}
	verr := items.Validate(upd)
	if perr != nil || verr != nil {
		d.Error = "The price must be a number greater than 0."
		if verr != nil && perr == nil {
			_, d.Error, _ = strings.Cut(verr.Error(), ": ")
			d.Error = strings.ToUpper(d.Error[:1]) + d.Error[1:] + "."
		}
		c.render(q.w, q.r, http.StatusUnprocessableEntity, "item",
			view{Title: "Item " + strconv.FormatInt(it.ID, 10), Nav: "items", User: q.user.Username, CSRF: q.csrf(), Data: d})
		return nil
	}
	after, err := c.deps.Store.UpdateItem(q.r.Context(), it.ID, upd)
	if c.deps.ItemsChanged != nil {
		c.deps.ItemsChanged(q.r.Context())
	}
	if errors.Is(err, items.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	c.audit(q, "item.update", "item", it.ID, fmt.Sprintf("title %q, price %s", after.Title, strconv.FormatFloat(after.Price, 'f', -1, 64)))
	return done(q, "/admin/items/"+strconv.FormatInt(it.ID, 10), "item-saved")
}

func (c *Console) itemDeletePage(q *request) error {
	it, err := c.loadItem(q)
	if err != nil {
		return err
	}
	return c.show(q, "item_delete", "Delete item "+strconv.FormatInt(it.ID, 10), "items", it)
}

func (c *Console) itemDelete(q *request) error {
	it, err := c.loadItem(q)
	if err != nil {
		return err
	}
	err = c.deps.Store.DeleteItem(q.r.Context(), it.ID)
	if c.deps.ItemsChanged != nil {
		c.deps.ItemsChanged(q.r.Context())
	}
	if errors.Is(err, items.ErrNotFound) {
		return done(q, "/admin/items", "already-gone")
	} else if err != nil {
		return err
	}
	c.audit(q, "item.delete", "item", it.ID, fmt.Sprintf("title %q, owner %d", it.Title, it.OwnerID))
	return done(q, "/admin/items", "item-deleted")
}
