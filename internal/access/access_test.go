package access_test

import (
	"context"
	"errors"
	"testing"

	"myapi/internal/access"
)

var errNoSuch = errors.New("no such resource")

// ownedBy7 is an OwnerFunc: resource 1 belongs to user 7, others do not exist.
func ownedBy7(_ context.Context, id int64) (int64, error) {
	if id != 1 {
		return 0, errNoSuch
	}
	return 7, nil
}

func TestRuleCheck(t *testing.T) {
	user7 := &access.Caller{ID: 7}
	user8 := &access.Caller{ID: 8}
	super := &access.Caller{ID: 9, Superuser: true}
	owner := access.OwnerOrSuperuser("item_id", ownedBy7)
	self := access.SelfOrSuperuser("user_id")
	for _, c := range []struct {
		name   string
		rule   access.Rule
		caller *access.Caller
		id     int64
		want   error
	}{
		{"anyone, anonymous", access.Anyone(), nil, 0, nil},
		{"any user, anonymous", access.AnyUser(), nil, 0, access.ErrForbidden},
		{"any user, a user", access.AnyUser(), user8, 0, nil},
		{"superuser, a user", access.Superuser(), user8, 0, access.ErrForbidden},
		{"superuser, a superuser", access.Superuser(), super, 0, nil},
		{"self, oneself", self, user7, 7, nil},
		{"self, another", self, user8, 7, access.ErrForbidden},
		{"self, a superuser", self, super, 7, nil},
		{"owner, the owner", owner, user7, 1, nil},
		{"owner, another", owner, user8, 1, access.ErrForbidden},
		{"owner, a superuser", owner, super, 1, nil},
		{"owner, missing resource", owner, user8, 2, errNoSuch},
		{"owner, anonymous", owner, nil, 1, access.ErrForbidden},
	} {
		if err := c.rule.Check(t.Context(), c.caller, c.id); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	if (access.Rule{}).Valid() || access.OwnerOrSuperuser("id", nil).Valid() || access.SelfOrSuperuser("").Valid() {
		t.Error("an incomplete rule is valid")
	}
	if access.Class(0).Valid() || !access.None.Valid() || !access.General.Valid() {
		t.Error("class validity is wrong")
	}
}
