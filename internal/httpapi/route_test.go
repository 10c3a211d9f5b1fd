package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"myapi/internal/access"
)

// TestWritesDeclareTheirCacheEffect: a write registered without
// invalidates or noCachedData stops the start-up, so a new write path
// cannot forget an invalidation silently; reads need no declaration.
func TestWritesDeclareTheirCacheEffect(t *testing.T) {
	for _, c := range []struct {
		method    string
		opts      []option
		wantPanic bool
	}{
		{http.MethodPost, nil, true},
		{http.MethodPut, nil, true},
		{http.MethodPatch, nil, true},
		{http.MethodDelete, nil, true},
		{http.MethodPost, []option{noCachedData}, false},
		{http.MethodDelete, []option{invalidates{depItemList}}, false},
		{http.MethodGet, nil, false},
	} {
		t.Run(c.method, func(t *testing.T) {
			s := &server{cfg: Config{MaxBodyBytes: 1 << 10}}
			api := humachi.New(chi.NewMux(), huma.DefaultConfig("test", "1"))
			var got any
			func() {
				defer func() { got = recover() }()
				register(s, api, huma.Operation{OperationID: "op", Method: c.method, Path: "/things"},
					access.Anyone(), access.General,
					func(context.Context, *struct{}) (*struct{}, error) { return nil, nil }, c.opts...)
			}()
			switch {
			case c.wantPanic && (got == nil || !strings.Contains(got.(string), "declares no cache effect")):
				t.Errorf("register(%s, %d options) did not refuse: %v", c.method, len(c.opts), got)
			case !c.wantPanic && got != nil:
				t.Errorf("register(%s, %d options) refused: %v", c.method, len(c.opts), got)
			}
		})
	}
}
