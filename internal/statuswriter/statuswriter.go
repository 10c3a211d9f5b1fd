// Package statuswriter provides the http.ResponseWriter wrapper that
// middleware uses to learn which status code a handler sent.
package statuswriter

import "net/http"

// Writer remembers the status code a handler sent and how many body bytes
// it wrote. It is kept small on purpose: anything else a handler needs from
// the underlying writer (hijacking, deadlines, full duplex) is reached
// through http.ResponseController, which follows Unwrap.
type Writer struct {
	http.ResponseWriter
	// Status is the final status code sent, 0 while none has been.
	Status int
	// Bytes counts the body bytes written.
	Bytes int
	// BeforeStatus, if set, runs once just before the final status goes
	// out, while headers can still be set (e.g. the time the handler took).
	BeforeStatus func()
}

// WriteHeader records the final status code. Informational 1xx responses
// (other than 101 Switching Protocols) precede the real one, so they are
// passed on without being recorded.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.final(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records the implicit 200 that net/http sends when a handler writes a
// body without calling WriteHeader first.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.final(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

// Flush lets handlers that assert http.Flusher directly (rather than using
// http.ResponseController) keep streaming through this wrapper.
func (w *Writer) Flush() {
	if w.Status == 0 {
		w.final(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *Writer) final(code int) {
	w.Status = code
	if w.BeforeStatus != nil {
		w.BeforeStatus()
	}
}

// Unwrap returns the wrapped writer, which is how http.ResponseController
// finds the underlying connection's features through this wrapper.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
