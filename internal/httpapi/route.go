package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"myapi/internal/access"
	"myapi/internal/ratelimit"
)

// declaration is what an operation declares besides huma's Operation.
type declaration struct {
	rule  access.Rule
	class access.Class
	// errors answer domain errors this operation answers differently from
	// errorTable.
	errors []errorRule
	// cachedBy and invalidates are the operation's cache dependencies.
	cachedBy, invalidates []cacheDep
	// cacheDeclared is set by invalidates (noCachedData included): a write
	// must state its cache effect.
	cacheDeclared bool
}

// metaDeclaration is the key of an operation's declaration in
// huma.Operation.Metadata.
const metaDeclaration = "myapi.declaration"

func declarationOf(op *huma.Operation) (declaration, bool) {
	d, ok := op.Metadata[metaDeclaration].(declaration)
	return d, ok
}

// register registers an operation with who may call it (rule) and how it
// is limited (class): authenticate and limit enforce them before the
// handler, the rule again after huma has parsed the input (so a malformed
// request is a 422 before it is a 403, as in the seed), and httpError
// answers the handler's errors from errorTable and the overrides. opts
// declare those overrides and the operation's cache dependencies.
func register[I, O any](s *server, api huma.API, op huma.Operation, rule access.Rule, class access.Class,
	h func(context.Context, *I) (*O, error), opts ...option,
) {
	if !rule.Valid() || !class.Valid() {
		panic(fmt.Sprintf("httpapi: operation %s declares no valid access rule or rate class", op.OperationID))
	}
	// readBody has refused anything longer; huma answers 413 to a body of
	// exactly its limit, so its limit is one byte more.
	op.MaxBodyBytes = s.cfg.MaxBodyBytes + 1
	if rule.NeedsUser() {
		op.Security = authenticated
	}
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	d := declaration{rule: rule, class: class}
	for _, o := range opts {
		o.apply(&d)
	}
	if writes(op.Method) && !d.cacheDeclared {
		panic(fmt.Sprintf("httpapi: write operation %s declares no cache effect: add invalidates{…} or noCachedData", op.OperationID))
	}
	op.Metadata[metaDeclaration] = d
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions["x-access"] = rule.Name()
	op.Extensions["x-rate-limit"] = class.String()
	op.Description += "\n\nWho may call: " + rule.String() + "."
	huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
		if err := s.admit(ctx, rule); err != nil {
			return nil, s.httpError(ctx, err, d.errors)
		}
		if d.cachedBy != nil && s.Cache != nil {
			ctx = context.WithValue(ctx, cacheGensKey{}, cacheGens(ctx, d.cachedBy))
		}
		out, err := h(ctx, in)
		if d.invalidates != nil && s.Cache != nil {
			s.Cache.Invalidate(ctx, cacheGens(ctx, d.invalidates)...)
		}
		if err != nil {
			return nil, s.httpError(ctx, err, d.errors)
		}
		return out, nil
	})
}

type pathParamsKey struct{}

// admit checks rule for the request's user (authenticate has put it in the
// context when the rule needs one).
func (s *server) admit(ctx context.Context, rule access.Rule) error {
	var c *access.Caller
	if u := currentUser(ctx); u != nil {
		c = &access.Caller{ID: u.ID, Superuser: u.IsSuperuser}
	}
	params := rule.Params()
	ids := make([]int64, len(params))
	for i, p := range params {
		param, _ := ctx.Value(pathParamsKey{}).(func(string) string)
		if param == nil {
			return fmt.Errorf("path parameter %s of an access rule is unknown", p)
		}
		// huma has parsed it already, as the path's int64.
		var err error
		if ids[i], err = strconv.ParseInt(param(p), 10, 64); err != nil {
			return fmt.Errorf("path parameter %s: %w", p, err)
		}
	}
	return rule.Check(ctx, c, ids...)
}

// limit is the huma middleware that applies each operation's rate class.
func limit(l *ratelimit.Limiter) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		d, _ := declarationOf(ctx.Operation())
		if l == nil || d.class == access.None {
			next(ctx)
			return
		}
		r, w := humachi.Unwrap(ctx)
		limited(l, d.class, http.HandlerFunc(func(_ http.ResponseWriter, lr *http.Request) {
			if lr.Context() != ctx.Context() {
				next(huma.WithContext(ctx, lr.Context()))
				return
			}
			next(ctx)
		})).ServeHTTP(w, r)
	}
}

// limited wraps next in the limits of class.
func limited(l *ratelimit.Limiter, class access.Class, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	switch class {
	case access.General:
		return l.General(next)
	case access.Change:
		// A change of an account may check its password (current_password):
		// the failure budget needs the client's network.
		return l.Client(l.General(next))
	case access.Login:
		return l.Login(l.General(next))
	}
	return next
}

// plainRoute is a route served outside huma (so outside the OpenAPI
// document), with its rate class; none needs a user.
type plainRoute struct {
	// method is "" for every method.
	method  string
	pattern string
	class   access.Class
	handler http.Handler
}

// mount serves the plain routes, each under its class's limits.
func mount(r chi.Router, l *ratelimit.Limiter, routes []plainRoute) {
	for _, pr := range routes {
		if !pr.class.Valid() {
			panic("httpapi: route " + pr.pattern + " declares no valid rate class")
		}
		h := limited(l, pr.class, pr.handler)
		if pr.method == "" {
			r.Handle(pr.pattern, h)
			continue
		}
		r.Method(pr.method, pr.pattern, h)
	}
}

// writes reports whether method changes data, so that its operation must
// declare its cache effect.
func writes(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}
