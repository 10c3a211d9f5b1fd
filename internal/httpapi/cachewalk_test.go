package httpapi_test

import (
	"bytes"
	"net/http"
	"testing"

	"myapi/internal/testdb"
)

// cacheWalkSkips are the writes TestNoWriteLeavesACachedReadStale cannot
// perform, each with why. Naming an operation the document lacks fails
// the test, so that the list does not outlive what it excuses.
var cacheWalkSkips = map[string]string{
	"reset-password": "needs the token password recovery mails; it changes a password, which no cached read shows",
}

// TestNoWriteLeavesACachedReadStale walks every write operation of the
// document and proves that none leaves a cached read answering what the
// database no longer holds: for each, on every engine and cache backend,
// a server with a cache and a reference without one share a fresh
// database; every cached GET (a 200 declaring X-Cache) is warmed until it
// HITs, the write goes through the cached server, and every cached GET
// that still HITs must answer what the reference reads from the
// database. A write declaring noCachedData, or invalidates{…} missing
// what it changes, fails here, whatever resource it belongs to.
func TestNoWriteLeavesACachedReadStale(t *testing.T) {
	doc := readDoc(t, newEnv(t, testdb.Engines(t)[0], envOptions{docs: true, jobs: true}))
	for id := range cacheWalkSkips {
		found := false
		for _, op := range doc.ops() {
			found = found || op.OperationID == id
		}
		if !found {
			t.Errorf("cacheWalkSkips names %s, which the document lacks", id)
		}
	}
	for _, engine := range testdb.Engines(t) {
		for _, backend := range cacheBackends(t) {
			t.Run(engine.Name+"/"+backend.name, func(t *testing.T) {
				t.Parallel()
				for _, op := range doc.ops() {
					if !op.writes() {
						continue
					}
					if _, skip := cacheWalkSkips[op.OperationID]; skip {
						continue
					}
					t.Run(op.OperationID, func(t *testing.T) {
						// A database and a cache of its own for each write:
						// rows of earlier writes would push this one's off
						// the list's default page, and their cached
						// responses would blur whose fault a stale one is.
						url := engine.URL(t)
						cached := newEnv(t, engine, envOptions{dbURL: url, cache: backend.open(t), docs: true, jobs: true})
						reference := newEnv(t, engine, envOptions{dbURL: url, docs: true, jobs: true})
						checkNoStaleRead(t, cached, reference, op.Method, op.Path)
					})
				}
			})
		}
	}
}

// checkNoStaleRead performs the write method path of cached's document
// between warming every cached read and comparing each with reference.
func checkNoStaleRead(t *testing.T, cached, reference *env, method, path string) {
	t.Helper()
	w := newWalker(t, cached)
	op := w.doc.op(method, path)
	owner, bystander, admin := w.newUser(t, "owner"), w.newUser(t, "bystander"), w.newSuperuser(t, "admin")
	mine, theirs := w.rows(owner), w.rows(bystander)

	// The write's rows first (made before the warming, so that making
	// them is not what the check sees), as the owner.
	req, err := mine.request(t, op)
	if err != nil {
		t.Fatal(err)
	}
	switch op.Access {
	case "anyone":
		req.Token = ""
	case "superuser":
		req.Token = admin.token
	default: // any-user, owner-or-superuser, self-or-superuser: the owner
		req.Token = owner.token
	}

	// The cached reads: every cached GET with the owner's rows (those the
	// write names) and with a bystander's (those it should leave alone).
	// A read that needs a user is sent by the superuser, whom every rule
	// admits and no write of the walk removes (the owner's token dies
	// with a deleted owner, and a 401 would hide a stale entry).
	var reads []request
	seen := map[string]bool{}
	for _, get := range w.doc.ops() {
		if !get.cached() {
			continue
		}
		for _, rows := range []*rowSet{mine, theirs} {
			p, err := rows.fill(t, get.Path)
			if err != nil {
				t.Fatalf("%s: %v", get, err)
			}
			if !seen[p] {
				seen[p] = true
				read := request{Method: http.MethodGet, Path: p}
				if get.Access != "anyone" {
					read.Token = admin.token
				}
				reads = append(reads, read)
			}
		}
	}
	if len(reads) == 0 {
		t.Fatal("no cached GET in the document (a 200 response declaring X-Cache)")
	}
	for _, read := range reads {
		warm(t, cached, read)
	}

	if res := cached.do(t, req); res.Status/100 != 2 {
		t.Fatalf("%s %s: %d %s, want 2xx (or a line in cacheWalkSkips saying why it cannot succeed)", op.Method, req.Path, res.Status, res.Body)
	}

	for _, read := range reads {
		got, want := cached.do(t, read), reference.do(t, read)
		if got.Header.Get("X-Cache") == "HIT" && (got.Status != want.Status || !bytes.Equal(got.Body, want.Body)) {
			t.Errorf("%s left GET %s stale (cached %d %s vs database %d %s)",
				op, read.Path, got.Status, bytes.TrimSpace(got.Body), want.Status, bytes.TrimSpace(want.Body))
		}
	}
}

// warm sends read until the cache answers it (X-Cache: HIT).
func warm(t *testing.T, e *env, read request) {
	t.Helper()
	for range 3 {
		res := e.do(t, read)
		if res.Status != http.StatusOK {
			t.Fatalf("warming GET %s: %d %s", read.Path, res.Status, res.Body)
		}
		if res.Header.Get("X-Cache") == "HIT" {
			return
		}
	}
	t.Fatalf("GET %s never answered X-Cache: HIT", read.Path)
}
