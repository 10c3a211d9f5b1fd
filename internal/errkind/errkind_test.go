package errkind_test

import (
	"errors"
	"fmt"
	"testing"

	"myapi/internal/errkind"
)

var errGone = errkind.New(errkind.NotFound, "Widget not found")

func TestOf(t *testing.T) {
	for _, c := range []struct {
		name     string
		err      error
		wantKind errkind.Kind
		wantMsg  string
	}{
		{"declared", errGone, errkind.NotFound, "Widget not found"},
		{"wrapped", fmt.Errorf("load widget 7: %w", errGone), errkind.NotFound, "Widget not found"},
		{"plain error", errors.New("disk full"), 0, ""},
		{"nil", nil, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, ok := errkind.Of(c.err)
			if ok != (c.wantKind != 0) {
				t.Fatalf("Of(%v) ok = %v", c.err, ok)
			}
			if ok && (e.Kind != c.wantKind || e.Message != c.wantMsg) {
				t.Fatalf("Of(%v) = %v %q, want %v %q", c.err, e.Kind, e.Message, c.wantKind, c.wantMsg)
			}
		})
	}
	if !errors.Is(fmt.Errorf("wrapped: %w", errGone), errGone) {
		t.Fatal("a wrapped kinded error is not errors.Is its declaration")
	}
}
