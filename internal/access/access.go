// Package access names who may call an operation (its Rule) and how it is
// rate limited (its Class). Operations declare both where they are
// registered; one piece of the HTTP layer enforces them.
package access

import (
	"context"
	"errors"
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
	// param is the path parameter naming the resource (owner rule) or the
	// user (self rule).
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
	return Rule{kind: kindOwnerOrSuperuser, param: param, owner: owner}
}

// Valid reports whether r is a complete rule.
func (r Rule) Valid() bool {
	switch r.kind {
	case kindAnyone, kindAnyUser, kindSuperuser:
		return true
	case kindSelfOrSuperuser:
		return r.param != ""
	case kindOwnerOrSuperuser:
		return r.param != "" && r.owner != nil
	}
	return false
}

// NeedsUser reports whether the rule admits only authenticated users.
func (r Rule) NeedsUser() bool { return r.kind != kindAnyone }

// Param is the path parameter the rule reads the resource's id from, or
// "" when it reads none.
func (r Rule) Param() string { return r.param }

// Check returns nil when c may call an operation under r on the resource
// id (the value of Param, if any); ErrForbidden, or owner's error, when not.
func (r Rule) Check(ctx context.Context, c *Caller, id int64) error {
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
		if c != nil && (c.ID == id || c.Superuser) {
			return nil
		}
	case kindOwnerOrSuperuser:
		if c == nil {
			break
		}
		owner, err := r.owner(ctx, id)
		if err != nil {
			return err
		}
		if owner == c.ID || c.Superuser {
			return nil
		}
	}
	return ErrForbidden
}

// Name is the rule's short name, as the OpenAPI extension x-access gives it.
func (r Rule) Name() string {
	switch r.kind {
	case kindAnyone:
		return "anyone"
	case kindAnyUser:
		return "any-user"
	case kindOwnerOrSuperuser:
		return "owner-or-superuser"
	case kindSelfOrSuperuser:
		return "self-or-superuser"
	case kindSuperuser:
		return "superuser"
	}
	return ""
}

// String says who may call, for the operation's documentation.
func (r Rule) String() string {
	switch r.kind {
	case kindAnyone:
		return "anyone; no access token needed"
	case kindAnyUser:
		return "any active user"
	case kindOwnerOrSuperuser:
		return "the owner of the resource, or a superuser"
	case kindSelfOrSuperuser:
		return "the user themselves, or a superuser"
	case kindSuperuser:
		return "superusers only"
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
