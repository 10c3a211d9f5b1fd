package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
)

// readBody reads the whole body of a POST, PUT or PATCH before any handler
// runs, at most max bytes. A body that ends before its Content-Length, a
// malformed chunk or a body that arrives too slowly (the server's
// READ_TIMEOUT) is the client's fault: it gets a 400 or 408 with a detail,
// logged at INFO, whichever route it was sent to, instead of a 500 from
// whatever handler happened to read it. A body over max is a 413, before a
// byte of it is read when Content-Length announces it. Bodies of other
// methods are never read by any route, and left alone.
func readBody(max int64, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Body == http.NoBody || !carriesBody(r.Method) {
				next.ServeHTTP(w, r)
				return
			}
			if r.ContentLength > max {
				writeProblem(w, http.StatusRequestEntityTooLarge, tooLarge(max))
				return
			}
			// Room for the whole announced body and for the read that
			// finds its end, so a body of known length is read into one
			// allocation.
			size := int64(bytes.MinRead)
			if r.ContentLength > 0 {
				size += r.ContentLength
			}
			buf := bytes.NewBuffer(make([]byte, 0, size))
			if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, max)); err != nil {
				status, detail := unreadableBody(err, max)
				log.InfoContext(r.Context(), "request body unreadable", "status", status, "error", err.Error())
				writeProblem(w, status, detail)
				return
			}
			r.Body = &bufferedBody{Reader: bytes.NewReader(buf.Bytes()), data: buf.Bytes()}
			r.ContentLength = int64(buf.Len())
			next.ServeHTTP(w, r)
		})
	}
}

// carriesBody reports whether a request of this method may have a body
// that a route reads.
func carriesBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

// unreadableBody is the answer to a body that could not be read.
func unreadableBody(err error, max int64) (int, string) {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, tooLarge(max)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return http.StatusRequestTimeout, "Request body arrived too slowly: the server stopped waiting for it"
	}
	return http.StatusBadRequest, "Request body is incomplete or malformed: " + err.Error()
}

func tooLarge(max int64) string {
	return fmt.Sprintf("Request body is larger than the limit of %d bytes", max)
}

// bufferedBody is a request body readBody has read: handlers read it as
// usual, and checkInput looks at the bytes without consuming them.
type bufferedBody struct {
	*bytes.Reader
	data []byte
}

// Close implements io.ReadCloser; there is nothing to release.
func (*bufferedBody) Close() error { return nil }
