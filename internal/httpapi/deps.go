package httpapi

import (
	"errors"
	"strings"
)

// check refuses Deps that lack a part some route needs, so that a wiring
// mistake stops the start-up instead of answering 500 at run time. Every
// missing part is named, always in the same order.
func (d Deps) check() error {
	var missing []string
	for _, dep := range []struct {
		name string
		set  bool
	}{
		{"Log", d.Log != nil},
		{"Auth", d.Auth != nil},
		{"Users", d.Users != nil},
		{"Items", d.Items != nil},
	} {
		if !dep.set {
			missing = append(missing, dep.name)
		}
	}
	var errs []error
	if len(missing) > 0 {
		errs = append(errs, errors.New("missing "+strings.Join(missing, ", ")))
	}
	if (d.Jobs == nil) != (d.Resets == nil) {
		errs = append(errs, errors.New("password recovery needs both Jobs and Resets: set both or neither"))
	}
	return errors.Join(errs...)
}
