package httpapi

import (
	"context"

	"myapi/internal/cache"
)

// cacheDep is what a cached response depends on, or what a write changes:
// a generation of the response cache, completed by the value of a path
// parameter when param is set.
type cacheDep struct {
	gen   string
	param string
}

var (
	// depItemList is every page of GET /items.
	depItemList = cacheDep{gen: "list"}
	// depEverything is every cached response (deleting a user deletes
	// their items).
	depEverything = cacheDep{gen: cache.Epoch}
)

// depItem is the item the path parameter param names.
func depItem(param string) cacheDep { return cacheDep{gen: "item:", param: param} }

// option is what register takes after the handler: errorRule overrides,
// cachedBy and invalidates.
type option interface{ apply(d *declaration) }

func (r errorRule) apply(d *declaration) { d.errors = append(d.errors, r) }

// cachedBy declares that a GET's response is cached and what it depends
// on; its handler reads through server.cached.
type cachedBy []cacheDep

func (c cachedBy) apply(d *declaration) { d.cachedBy = append(d.cachedBy, c...) }

// invalidates declares what a write changes: once its handler has run
// (even when it failed, since the write may have committed), and before
// the answer goes out, every cached response that depends on it is
// dropped.
type invalidates []cacheDep

func (i invalidates) apply(d *declaration) {
	d.invalidates = append(d.invalidates, i...)
	d.cacheDeclared = true
}

// noCachedData declares a write that changes nothing a cached response
// shows. Every write declares its cache effect, this or invalidates, so
// that a new one cannot forget it silently (register refuses it).
var noCachedData = invalidates{}

type cacheGensKey struct{}

// cacheGens resolves deps for the request of ctx.
func cacheGens(ctx context.Context, deps []cacheDep) []string {
	if len(deps) == 0 {
		return nil
	}
	param, _ := ctx.Value(pathParamsKey{}).(func(string) string)
	gens := make([]string, len(deps))
	for i, d := range deps {
		gens[i] = d.gen
		if d.param != "" && param != nil {
			gens[i] += param(d.param)
		}
	}
	return gens
}

// cached returns the response named entry from the cache, or from load, by
// the dependencies the operation declared (cachedBy).
func (s *server) cached(ctx context.Context, entry string, load cache.Loader) ([]byte, bool, error) {
	gens, _ := ctx.Value(cacheGensKey{}).([]string)
	return s.Cache.Lookup(ctx, entry, gens, load)
}

// needsParams reports whether d reads path parameters.
func (d *declaration) needsParams() bool {
	if len(d.rule.Params()) > 0 {
		return true
	}
	for _, deps := range [][]cacheDep{d.cachedBy, d.invalidates} {
		for _, dep := range deps {
			if dep.param != "" {
				return true
			}
		}
	}
	return false
}
