package httpapi

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// explicitNulls returns the top-level fields of a JSON object that are
// null. huma treats an optional field set to null as absent; a partial
// update needs to tell them apart (null clears a description, and is an
// error for a field that cannot be empty).
func explicitNulls(raw []byte) map[string]bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return nil
	}
	nulls := map[string]bool{}
	for k, v := range fields {
		if string(v) == "null" {
			nulls[k] = true
		}
	}
	return nulls
}

// nullErrors names each of fields that the body sets to null, as 422
// validation errors.
func nullErrors(raw []byte, fields ...string) []error {
	nulls := explicitNulls(raw)
	var errs []error
	for _, f := range fields {
		if nulls[f] {
			errs = append(errs, &huma.ErrorDetail{Location: "body." + f, Message: "must not be null"})
		}
	}
	return errs
}

// reflectType is reflect.TypeFor, kept short for schema registration.
func reflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }
