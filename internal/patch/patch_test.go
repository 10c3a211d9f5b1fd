package patch_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/input"
	"myapi/internal/patch"
)

type body struct {
	Title       patch.Field[string]    `json:"title"`
	Price       patch.Field[float64]   `json:"price"`
	Description patch.Nullable[string] `json:"description"`
}

func TestDecode(t *testing.T) {
	decoders := map[string]func([]byte, any) error{"input.DecodeJSON": input.DecodeJSON, "encoding/json": json.Unmarshal}
	cases := []struct {
		name, body string
		wantErr    bool
		title      *string // Ptr
		titleNull  bool    // refused by Resolve
		price      *float64
		descSet    bool
		descNull   bool
		desc       *string
	}{
		{name: "absent", body: `{}`},
		{name: "values", body: `{"title":"Lamp","price":2.5,"description":"Brass"}`, title: ptr("Lamp"), price: ptr(2.5), descSet: true, desc: ptr("Brass")},
		{name: "empty values", body: `{"title":"","price":0,"description":""}`, title: ptr(""), price: ptr(0.0), descSet: true, desc: ptr("")},
		{name: "nulls", body: `{"title":null,"price":null,"description":null}`, titleNull: true, descSet: true, descNull: true},
		{name: "null with spaces", body: `{"description": null }`, descSet: true, descNull: true},
		{name: "wrong type for a field", body: `{"title":5}`, wantErr: true},
		{name: "wrong type for a nullable", body: `{"description":true}`, wantErr: true},
		{name: "object for a number", body: `{"price":{}}`, wantErr: true},
	}
	for dname, decode := range decoders {
		for _, tc := range cases {
			t.Run(dname+"/"+tc.name, func(t *testing.T) {
				var b body
				err := decode([]byte(tc.body), &b)
				if (err != nil) != tc.wantErr {
					t.Fatalf("error %v, want error %v", err, tc.wantErr)
				}
				if tc.wantErr {
					return
				}
				if !same(b.Title.Ptr(), tc.title) || b.Title.Set() != (tc.title != nil) {
					t.Errorf("title = %v (set %v), want %v", b.Title.Ptr(), b.Title.Set(), tc.title)
				}
				if v, ok := b.Title.Get(); ok != (tc.title != nil) || (ok && v != *tc.title) {
					t.Errorf("title Get = %q, %v", v, ok)
				}
				pb := huma.NewPathBuffer(nil, 0)
				pb.Push("body")
				pb.Push("title")
				errs := b.Title.Resolve(nil, pb)
				if refused := len(errs) > 0; refused != tc.titleNull {
					t.Errorf("title null refused = %v, want %v", refused, tc.titleNull)
				}
				if len(errs) > 0 {
					var d *huma.ErrorDetail
					if !errors.As(errs[0], &d) || d.Location != "body.title" || d.Message != "must not be null" {
						t.Errorf("refused with %#v", errs[0])
					}
				}
				if !same(b.Price.Ptr(), tc.price) {
					t.Errorf("price = %v, want %v", b.Price.Ptr(), tc.price)
				}
				d := b.Description
				if d.Set() != tc.descSet || d.Null() != tc.descNull || !same(d.Ptr(), tc.desc) {
					t.Errorf("description set %v null %v value %v, want %v %v %v", d.Set(), d.Null(), d.Ptr(), tc.descSet, tc.descNull, tc.desc)
				}
			})
		}
	}
}

func TestConstructors(t *testing.T) {
	if f := patch.Value("x"); !f.Set() || *f.Ptr() != "x" {
		t.Errorf("Value = %+v", f)
	}
	if n := patch.Null[string](); !n.Set() || !n.Null() || n.Ptr() != nil {
		t.Errorf("Null = %+v", n)
	}
	if n := patch.NullableValue(""); !n.Set() || n.Null() || *n.Ptr() != "" {
		t.Errorf("NullableValue = %+v", n)
	}
	var zero patch.Nullable[int]
	if zero.Set() || zero.Null() || zero.Ptr() != nil {
		t.Errorf("zero Nullable = %+v", zero)
	}
}

func ptr[T any](v T) *T { return &v }

func same[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
