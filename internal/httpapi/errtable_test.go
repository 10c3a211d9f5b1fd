package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/errkind"
	"myapi/internal/users"
)

// TestErrorsAnsweredByKind: an error declared with a kind is answered by
// its kind's status with its own message, with no line in errorTable (a
// new resource's errors need none); a line there still comes first, and
// an error of no kind is a 500.
func TestErrorsAnsweredByKind(t *testing.T) {
	errGadgetGone := errkind.New(errkind.NotFound, "Gadget not found")
	s := &server{Deps: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	for _, c := range []struct {
		name       string
		err        error
		wantStatus int
		wantDetail string
	}{
		{"not found", fmt.Errorf("load gadget 3: %w", errGadgetGone), http.StatusNotFound, "Gadget not found"},
		{"conflict", errkind.New(errkind.Conflict, "Gadget name taken"), http.StatusConflict, "Gadget name taken"},
		{"invalid", errkind.New(errkind.Invalid, "Gadget too heavy"), http.StatusUnprocessableEntity, "Gadget too heavy"},
		{"errorTable before kind", users.ErrEmailTaken, http.StatusBadRequest, msgEmailTaken},
		{"kind of its own", users.ErrNotFound, http.StatusNotFound, "User not found"},
		{"no kind", errors.New("disk on fire"), http.StatusInternalServerError, msgInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			var se huma.StatusError
			if !errors.As(s.httpError(context.Background(), c.err, nil), &se) {
				t.Fatalf("httpError(%v) is no response", c.err)
			}
			if se.GetStatus() != c.wantStatus || se.Error() != c.wantDetail {
				t.Fatalf("httpError(%v) = %d %q, want %d %q", c.err, se.GetStatus(), se.Error(), c.wantStatus, c.wantDetail)
			}
		})
	}
}
