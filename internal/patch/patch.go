// Package patch holds the members of a partial update (PUT or PATCH
// body): each knows whether the client left it out, sent null, or sent a
// value, decodes itself from JSON and documents itself to huma. A Field
// refuses null with a 422 at its place in the body; a Nullable takes null
// as "clear it".
package patch

import (
	"bytes"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	jsonv2 "github.com/go-json-experiment/json"
)

// Field is a member of a partial update that is either absent (left as it
// is) or a value. Its zero value is absent.
type Field[T any] struct {
	value T
	set   bool
	null  bool // sent as null, which Resolve refuses
}

// Value is a Field set to v.
func Value[T any](v T) Field[T] { return Field[T]{value: v, set: true} }

// Set reports whether the field holds a value.
func (f Field[T]) Set() bool { return f.set }

// Get returns the value and whether there is one.
func (f Field[T]) Get() (T, bool) { return f.value, f.set }

// Ptr is the value, or nil when the field is absent.
func (f Field[T]) Ptr() *T {
	if !f.set {
		return nil
	}
	v := f.value
	return &v
}

// UnmarshalJSON implements json.Unmarshaler, decoding as the bodies are
// decoded (input.DecodeJSON: exact keys, valid text). A null is kept aside for
// Resolve, so that it is reported with the body's other problems.
func (f *Field[T]) UnmarshalJSON(data []byte) error {
	*f = Field[T]{}
	if isNull(data) {
		f.null = true
		return nil
	}
	if err := jsonv2.Unmarshal(data, &f.value); err != nil {
		return err
	}
	f.set = true
	return nil
}

// Schema implements huma.SchemaProvider: the schema of T, with the
// field's tags (minLength, format…) applied by huma as for a *T.
func (Field[T]) Schema(r huma.Registry) *huma.Schema { return r.Schema(reflect.TypeFor[T](), true, "") }

// Resolve implements huma.ResolverWithPath: null is refused, since the
// member cannot be empty.
func (f *Field[T]) Resolve(_ huma.Context, prefix *huma.PathBuffer) []error {
	if !f.null {
		return nil
	}
	return []error{&huma.ErrorDetail{Location: prefix.String(), Message: "must not be null"}}
}

// Nullable is a member of a partial update that is absent (left as it
// is), null (cleared) or a value. Its zero value is absent.
type Nullable[T any] struct {
	value T
	set   bool // null or a value
	null  bool
}

// NullableValue is a Nullable set to v.
func NullableValue[T any](v T) Nullable[T] { return Nullable[T]{value: v, set: true} }

// Null is a Nullable set to null.
func Null[T any]() Nullable[T] { return Nullable[T]{set: true, null: true} }

// Set reports whether the member is to change: to null or to a value.
func (n Nullable[T]) Set() bool { return n.set }

// Null reports whether the member is to be cleared.
func (n Nullable[T]) Null() bool { return n.null }

// Ptr is the value, or nil when the member is absent or null.
func (n Nullable[T]) Ptr() *T {
	if !n.set || n.null {
		return nil
	}
	v := n.value
	return &v
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *Nullable[T]) UnmarshalJSON(data []byte) error {
	*n = Nullable[T]{set: true}
	if isNull(data) {
		n.null = true
		return nil
	}
	if err := jsonv2.Unmarshal(data, &n.value); err != nil {
		*n = Nullable[T]{}
		return err
	}
	return nil
}

// Schema implements huma.SchemaProvider: the schema of T, or null.
func (Nullable[T]) Schema(r huma.Registry) *huma.Schema {
	s := r.Schema(reflect.TypeFor[T](), true, "")
	s.Nullable = true
	return s
}

func isNull(data []byte) bool { return bytes.Equal(bytes.TrimSpace(data), []byte("null")) }
