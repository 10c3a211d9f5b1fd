package httpapi

import (
	"errors"
	"reflect"
	"strings"
)

// check refuses Deps that lack a part some route needs, so that a wiring
// mistake stops the start-up instead of answering 500 at run time. Every
// field not tagged deps:"optional" is required, so a new store added to
// Deps and forgotten in the wiring is caught too. Every missing part is
// named, always in the order of the fields.
func (d Deps) check() error {
	var missing []string
	v := reflect.ValueOf(d)
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.Tag.Get("deps") != "optional" && v.Field(i).IsZero() {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return errors.New("missing " + strings.Join(missing, ", "))
	}
	return nil
}
