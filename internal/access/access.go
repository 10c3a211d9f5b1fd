// Package access names who may call an operation (its Rule) and how it is
// rate limited (its Class). Operations declare both where they are
// registered; one piece of the HTTP layer enforces them.
package access

import (
	"context"
	"errors"
	"fmt"
)

// ErrForbidden is a caller the rule does not admit.
var ErrForbidden = errors.New("not enough permissions")

// Caller is the authenticated user as the rules see it; nil is anonymous.
type Caller struct {
	ID        int64
	Superuser bool
}

// OwnerFunc returns the id of the user that owns the resource with id, or
// the store's not-found error.
type OwnerFunc func(ctx context.Context, id int64) (int64, error)

// kind is the sort of a Rule.
type kind int

// The kinds of rules, from the most open.
const (
	kindAnyone kind = iota + 1
	kindAnyUser
	kindOwnerOrSuperuser
	kindSelfOrSuperuser
	kindSuperuser
)

// Rule says who may call an operation. The zero Rule is invalid: every
// operation must choose one.
type Rule struct {
	kind kind
	// param is the path parameter naming the user (self rule).
	param string
	// owned are the path parameters naming the resources and how to find
	// their owners (owner rule).
	owned []owned
}

// owned is a path parameter naming a resource, and its OwnerFunc.
type owned struct {
	param string
	owner OwnerFunc
}

// Anyone admits every caller, with or without a token.
func Anyone() Rule { return Rule{kind: kindAnyone} }

// AnyUser admits every active user.
func AnyUser() Rule { return Rule{kind: kindAnyUser} }

// Superuser admits active superusers only.
func Superuser() Rule { return Rule{kind: kindSuperuser} }

// SelfOrSuperuser admits the user the path parameter param names, and
// superusers.
func SelfOrSuperuser(param string) Rule { return Rule{kind: kindSelfOrSuperuser, param: param} }

// OwnerOrSuperuser admits the owner of the resource the path parameter
// param names, as owner loads it, and superusers. A resource owner cannot
// find is answered with owner's error (not found) before any 403.
func OwnerOrSuperuser(param string, owner OwnerFunc) Rule {
	return Rule{kind: kindOwnerOrSuperuser, owned: []owned{{param, owner}}}
}

// And extends an owner rule to a second resource the path names (PUT
// /projects/{project_id}/items/{item_id}: the caller must own both), so
// that no id of the request points at someone else's row. On any other
// rule it returns an invalid rule.
func (r Rule) And(param string, owner OwnerFunc) Rule {
	if r.kind != kindOwnerOrSuperuser {
		return Rule{}
	}
	r.owned = append(append([]owned(nil), r.owned...), owned{param, owner})
	return r
}

// Valid reports whether r is a complete rule.
func (r Rule) Valid() bool {
	switch r.kind {
	case kindAnyone, kindAnyUser, kindSuperuser:
		return true
	case kindSelfOrSuperuser:
		return r.param != ""
	case kindOwnerOrSuperuser:
		seen := map[string]bool{}
		for _, o := range r.owned {
			if o.param == "" || o.owner == nil || seen[o.param] {
				return false
			}
			seen[o.param] = true
		}
		return len(r.owned) > 0
	}
	return false
}

// NeedsUser reports whether the rule admits only authenticated users.
func (r Rule) NeedsUser() bool { return r.kind != kindAnyone }

// Params are the path parameters the rule reads ids from, in the order
// Check takes them; none for most rules.
func (r Rule) Params() []string {
	if r.kind == kindSelfOrSuperuser {
		return []string{r.param}
	}
	params := make([]string, len(r.owned))
	for i, o := range r.owned {
		params[i] = o.param
	}
	return params
}

// Check returns nil when c may call an operation under r on the resources
// ids name (the values of Params, in order); ErrForbidden, or an owner
// function's error, when not.
func (r Rule) Check(ctx context.Context, c *Caller, ids ...int64) error {
	if len(ids) != len(r.Params()) {
		return fmt.Errorf("access rule %s takes %d ids, got %d", r.Name(), len(r.Params()), len(ids))
	}
	switch r.kind {
	case kindAnyone:
		return nil
	case kindAnyUser:
		if c != nil {
			return nil
		}
	case kindSuperuser:
		if c != nil && c.Superuser {
			return nil
		}
	case kindSelfOrSuperuser:
		if c != nil && (c.ID == ids[0] || c.Superuser) {
			return nil
		}
	case kindOwnerOrSuperuser:
		if c == nil {
			break
		}
		// Every resource is looked up before any 403, so a missing one is
		// a 404 whoever asks.
		mine := true
		for i, o := range r.owned {
			owner, err := o.owner(ctx, ids[i])
			if err != nil {
				return err
			}
			mine = mine && owner == c.ID
		}
		if mine || c.Superuser {
			return nil
		}
	}
	return ErrForbidden
}

// kindNames are each kind's short name (the OpenAPI extension x-access)
// and its wording in the documentation.
var kindNames = map[kind]struct{ name, who string }{
	kindAnyone:           {"anyone", "anyone; no access token needed"},
	kindAnyUser:          {"any-user", "any active user"},
	kindOwnerOrSuperuser: {"owner-or-superuser", "the owner of the resource, or a superuser"},
	kindSelfOrSuperuser:  {"self-or-superuser", "the user themselves, or a superuser"},
	kindSuperuser:        {"superuser", "superusers only"},
}

// Name is the rule's short name, as the OpenAPI extension x-access gives it.
func (r Rule) Name() string { return kindNames[r.kind].name }

// String says who may call, for the operation's documentation.
func (r Rule) String() string {
	if r.kind == kindOwnerOrSuperuser && len(r.owned) > 1 {
		return "the owner of every resource the path names, or a superuser"
	}
	if k, ok := kindNames[r.kind]; ok {
		return k.who
	}
	return "undeclared"
}

// Class is how an operation is rate limited. The zero Class is invalid.
type Class int

// The rate-limit classes.
const (
	// General is the per-client limit of every API call.
	General Class = iota + 1
	// Change is General for a change of an account's data that may check
	// a password: the client's network is kept for the failed-password
	// budget.
	Change
	// Login adds the stricter per-IP login limit to General: for calls
	// that guess at or act on an account without a token.
	Login
	// None is never limited: probes, scrapers and documentation must get
	// through.
	None
)

// Valid reports whether c is a declared class.
func (c Class) Valid() bool { return c >= General && c <= None }

// String names the class, as the OpenAPI extension x-rate-limit gives it.
func (c Class) String() string {
	switch c {
	case General:
		return "general"
	case Change:
		return "change"
	case Login:
		return "login"
	case None:
		return "none"
	}
	return ""
}
