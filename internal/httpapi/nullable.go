package httpapi

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
)

// NullableString tells apart a JSON field that is absent (Set false), null
// (Null true) and a string: a partial update must know which one it got.
type NullableString struct {
	Set   bool
	Null  bool
	Value string
}

// UnmarshalJSON implements json.Unmarshaler; it is only called when the
// field is present.
func (n *NullableString) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Null = true
		return nil
	}
	return json.Unmarshal(b, &n.Value)
}

// Schema implements huma.SchemaProvider: a string that may be null.
func (NullableString) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Nullable: true}
}

// reflectType is reflect.TypeFor, kept short for schema registration.
func reflectType[T any]() reflect.Type { return reflect.TypeFor[T]() }
