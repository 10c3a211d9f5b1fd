package statuswriter_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"myapi/internal/statuswriter"
)

func TestWriter(t *testing.T) {
	for _, c := range []struct {
		name  string
		write func(w http.ResponseWriter)
		want  int
	}{
		{"1xx then final", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusBadGateway)
		}, http.StatusBadGateway},
		{"implicit 200 on write", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		{"implicit 200 on flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, http.StatusOK},
		{"first final status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusCreated},
		{"nothing sent", func(http.ResponseWriter) {}, 0},
	} {
		rec := httptest.NewRecorder()
		w := &statuswriter.Writer{ResponseWriter: rec}
		c.write(w)
		if w.Status != c.want {
			t.Errorf("%s: Status %d, want %d", c.name, w.Status, c.want)
		}
		if w.Unwrap() != rec {
			t.Errorf("%s: Unwrap does not return the wrapped writer", c.name)
		}
	}
}
