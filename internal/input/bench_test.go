package input

import (
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkDecode compares what decoding a body costs huma's default
// (encoding/json: a generic parse to validate, then the struct) with what
// it costs now (CheckJSON, then DecodeJSON twice the same way).
func BenchmarkDecode(b *testing.B) {
	type item struct {
		Title       string  `json:"title"`
		Description *string `json:"description,omitempty"`
		Price       float64 `json:"price"`
	}
	bodies := map[string]string{
		"item":      `{"title":"Desk lamp","description":"Brass, 1950s \u00e9\u00e8 \ud83d\ude00","price":49.5}`,
		"item 10KB": `{"title":"Desk lamp","description":"` + strings.Repeat("Brass, 1950s. ", 700) + `","price":49.5}`,
	}
	for _, name := range []string{"item", "item 10KB"} {
		body := []byte(bodies[name])
		b.Run(name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var generic any
				var it item
				if json.Unmarshal(body, &generic) != nil || json.Unmarshal(body, &it) != nil {
					b.Fatal("decode")
				}
			}
		})
		b.Run(name+"/strict", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				var generic any
				var it item
				if CheckJSON(body) != nil || DecodeJSON(body, &generic) != nil || DecodeJSON(body, &it) != nil {
					b.Fatal("decode")
				}
			}
		})
	}
}
