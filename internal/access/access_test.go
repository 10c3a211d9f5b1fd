package access_test

import (
	"context"
	"errors"
	"testing"

	"myapi/internal/access"
)

var errNoSuch = errors.New("no such resource")

// ownedBy7 is an OwnerFunc: resource 1 belongs to user 7, resource 3 to
// user 8, others do not exist.
func ownedBy7(_ context.Context, id int64) (int64, error) {
	switch id {
	case 1:
		return 7, nil
	case 3:
		return 8, nil
	}
	return 0, errNoSuch
}

func TestRuleCheck(t *testing.T) {
	user7 := &access.Caller{ID: 7}
	user8 := &access.Caller{ID: 8}
	super := &access.Caller{ID: 9, Superuser: true}
	owner := access.OwnerOrSuperuser("item_id", ownedBy7)
	self := access.SelfOrSuperuser("user_id")
	both := access.OwnerOrSuperuser("project_id", ownedBy7).And("item_id", ownedBy7)
	for _, c := range []struct {
		name   string
		rule   access.Rule
		caller *access.Caller
		ids    []int64
		want   error
	}{
		{"anyone, anonymous", access.Anyone(), nil, nil, nil},
		{"any user, anonymous", access.AnyUser(), nil, nil, access.ErrForbidden},
		{"any user, a user", access.AnyUser(), user8, nil, nil},
		{"superuser, a user", access.Superuser(), user8, nil, access.ErrForbidden},
		{"superuser, a superuser", access.Superuser(), super, nil, nil},
		{"self, oneself", self, user7, []int64{7}, nil},
		{"self, another", self, user8, []int64{7}, access.ErrForbidden},
		{"self, a superuser", self, super, []int64{7}, nil},
		{"owner, the owner", owner, user7, []int64{1}, nil},
		{"owner, another", owner, user8, []int64{1}, access.ErrForbidden},
		{"owner, a superuser", owner, super, []int64{1}, nil},
		{"owner, missing resource", owner, user8, []int64{2}, errNoSuch},
		{"owner, anonymous", owner, nil, []int64{1}, access.ErrForbidden},
		{"two resources, owner of both", both, user7, []int64{1, 1}, nil},
		{"two resources, own project, another's item", both, user8, []int64{3, 1}, access.ErrForbidden},
		{"two resources, another's project, own item", both, user8, []int64{1, 3}, access.ErrForbidden},
		{"two resources, a superuser", both, super, []int64{1, 3}, nil},
		{"two resources, the second missing, before any 403", both, user8, []int64{1, 2}, errNoSuch},
		{"ids not matching the params", owner, user7, nil, nil}, // an error, not a pass: see below
	} {
		err := c.rule.Check(t.Context(), c.caller, c.ids...)
		if len(c.ids) != len(c.rule.Params()) {
			if err == nil {
				t.Errorf("%s: Check passed with %d ids for params %v", c.name, len(c.ids), c.rule.Params())
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if got := both.String(); got != "the owner of every resource the path names, or a superuser" {
		t.Errorf("a two-resource rule says %q", got)
	}
}

func TestValid(t *testing.T) {
	for name, r := range map[string]access.Rule{
		"zero":                   {},
		"owner without function": access.OwnerOrSuperuser("id", nil),
		"self without param":     access.SelfOrSuperuser(""),
		"a param twice":          access.OwnerOrSuperuser("id", ownedBy7).And("id", ownedBy7),
		"And on another rule":    access.AnyUser().And("id", ownedBy7),
	} {
		if r.Valid() {
			t.Errorf("%s: an incomplete rule is valid", name)
		}
	}
	if !access.OwnerOrSuperuser("a", ownedBy7).And("b", ownedBy7).Valid() {
		t.Error("a two-resource owner rule is invalid")
	}
	if access.Class(0).Valid() || !access.None.Valid() || !access.General.Valid() {
		t.Error("class validity is wrong")
	}
}
