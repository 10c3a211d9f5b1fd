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

// BeforeStatus runs once, before the final status, where a header it sets
// still goes out; Bytes counts the body.
func TestWriterBeforeStatusAndBytes(t *testing.T) {
	for _, c := range []struct {
		name      string
		write     func(w http.ResponseWriter)
		wantCalls int
		wantBytes int
	}{
		{"1xx then final", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		}, 1, 0},
		{"implicit 200", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("ab"))
			_, _ = w.Write([]byte("cd"))
		}, 1, 4},
		{"two finals", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, 1, 0},
	} {
		rec := httptest.NewRecorder()
		calls := 0
		w := &statuswriter.Writer{ResponseWriter: rec}
		w.BeforeStatus = func() {
			calls++
			w.Header().Set("X-Seen", "yes")
		}
		c.write(w)
		if calls != c.wantCalls || w.Bytes != c.wantBytes {
			t.Errorf("%s: %d calls, %d bytes; want %d, %d", c.name, calls, w.Bytes, c.wantCalls, c.wantBytes)
		}
		// httptest.ResponseRecorder takes a 1xx for the final status, so
		// only the header map can be checked there.
		if rec.Header().Get("X-Seen") != "yes" {
			t.Errorf("%s: the header set by BeforeStatus did not go out", c.name)
		}
	}
}
