package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"myapi/internal/testdb"
)

// TestEveryItemWriteInvalidates walks every write operation of the
// document that changes items (those under /items, and the deletion of a
// user, which takes their items) and proves that the cached GETs it
// affects turn MISS right after it, on every engine and cache backend.
func TestEveryItemWriteInvalidates(t *testing.T) {
	// What each write must invalidate: the item it names and the list, or
	// only the list. A write missing here fails the test.
	type write struct {
		req      func(item int64, ownerID int64) request
		status   int
		itemMiss bool // GET /items/{id} of the written item turns MISS
		asAdmin  bool
	}
	writes := map[string]write{
		"create-item": {func(int64, int64) request {
			return request{Method: "POST", Path: "/items", JSON: map[string]any{"title": "new", "price": 1}}
		}, http.StatusCreated, false, false},
		"update-item": {func(id, _ int64) request {
			return request{Method: "PUT", Path: "/items/" + itoa(id), JSON: map[string]any{"title": "renamed"}}
		}, http.StatusOK, true, false},
		"delete-item": {func(id, _ int64) request {
			return request{Method: "DELETE", Path: "/items/" + itoa(id)}
		}, http.StatusNoContent, true, false},
		"delete-user": {func(_, owner int64) request {
			return request{Method: "DELETE", Path: "/users/" + itoa(owner)}
		}, http.StatusNoContent, true, true},
	}
	ops := declaredOps(t, newEnv(t, testdb.Engines(t)[0], envOptions{docs: true}))
	forEachCacheEnv(t, func(t *testing.T, e *env) {
		admin, _ := e.superuser(t, "cacheadmin")
		n := 0
		for _, op := range ops {
			writesItems := strings.HasPrefix(op.Path, "/items") || op.ID == "delete-user"
			if op.Method == "GET" || !writesItems {
				continue
			}
			w, ok := writes[op.ID]
			if !ok {
				t.Errorf("%s %s writes items but declares no tested invalidation", op.Method, op.Path)
				continue
			}
			n++
			owner, ownerID := e.user(t, "owner"+itoa(int64(n)))
			other := e.createItem(t, owner, "other")
			id := e.createItem(t, owner, "written")
			for _, want := range []string{"MISS", "HIT"} {
				e.get(t, "/items", http.StatusOK, want)
				e.get(t, "/items/"+itoa(id), http.StatusOK, want)
				e.get(t, "/items/"+itoa(other), http.StatusOK, want)
			}
			req := w.req(id, ownerID)
			req.Token = owner
			if w.asAdmin {
				req.Token = admin
			}
			e.expect(t, w.status, req)
			if got := e.do(t, request{Method: "GET", Path: "/items"}).Header.Get("X-Cache"); got != "MISS" {
				t.Errorf("%s: GET /items after it: X-Cache %q, want MISS", op.ID, got)
			}
			wantItem := "HIT"
			if w.itemMiss {
				wantItem = "MISS"
			}
			if got := e.do(t, request{Method: "GET", Path: "/items/" + itoa(id)}).Header.Get("X-Cache"); got != wantItem {
				t.Errorf("%s: GET of the written item after it: X-Cache %q, want %s", op.ID, got, wantItem)
			}
		}
		if n != len(writes) {
			t.Errorf("%d item writes in the document, %d in the table", n, len(writes))
		}
	})
}
