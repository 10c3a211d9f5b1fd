package httpapi_test

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"myapi/internal/auth"
	"myapi/internal/httpapi"
	"myapi/internal/jobs"
	"myapi/internal/logging"
	"myapi/internal/testdb"
)

// A wiring that leaves a store or service out fails at start-up, naming
// what is missing, instead of answering 500 when a route needs it.
// fullDeps are Deps with every part set, on the first test engine.
func fullDeps(t *testing.T) httpapi.Deps {
	t.Helper()
	db := testdb.Engines(t)[0].Open(t)
	hasher, err := auth.NewHasher(4, 0)
	if err != nil {
		t.Fatal(err)
	}
	svc := auth.NewService(db, db, hasher, auth.NewTokens([]byte(testSecret), time.Minute, time.Hour))
	queue, err := jobs.New(jobs.Deps{Store: db, Auth: svc}, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return httpapi.Deps{Log: logging.New(io.Discard, true, 0), Auth: svc, Store: db, Jobs: queue}
}

func TestNewRefusesMissingDeps(t *testing.T) {
	full := func() httpapi.Deps { return fullDeps(t) }
	for _, c := range []struct {
		name   string
		change func(*httpapi.Deps)
		want   string // "" : New succeeds
	}{
		{"complete", func(*httpapi.Deps) {}, ""},
		{"no password recovery", func(d *httpapi.Deps) { d.Jobs = nil }, ""},
		{"no store", func(d *httpapi.Deps) { d.Store = nil }, "missing Store"},
		{"no auth service", func(d *httpapi.Deps) { d.Auth = nil }, "missing Auth"},
		{"no logger", func(d *httpapi.Deps) { d.Log = nil }, "missing Log"},
		{"two missing, in a stable order", func(d *httpapi.Deps) { d.Store, d.Auth = nil, nil }, "missing Auth, Store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			deps := full()
			c.change(&deps)
			h, err := httpapi.New(httpapi.Config{AppName: "My API", MaxBodyBytes: 1 << 20}, deps)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case c.want == "" && h == nil:
				t.Fatal("New returned no handler")
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("New = %v, want an error with %q", err, c.want)
			}
		})
	}
}

// TestEveryRequiredDepIsChecked walks Deps: each field not tagged
// optional, left unset, stops New with its name, so a store added to Deps
// and forgotten in the wiring fails at start-up, not at run time.
func TestEveryRequiredDepIsChecked(t *testing.T) {
	typ := reflect.TypeFor[httpapi.Deps]()
	required := 0
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Tag.Get("deps") == "optional" {
			continue
		}
		required++
		deps := fullDeps(t)
		reflect.ValueOf(&deps).Elem().Field(i).SetZero()
		_, err := httpapi.New(httpapi.Config{AppName: "My API", MaxBodyBytes: 1 << 20}, deps)
		if err == nil || !strings.Contains(err.Error(), f.Name) {
			t.Errorf("New without %s = %v, want an error naming it", f.Name, err)
		}
	}
	if required == 0 {
		t.Fatal("Deps has no required field: the walk proves nothing")
	}
}
