// Package logging builds myapi's slog logger: JSON for machines or text for
// people, with the attributes of the current request (its id, its user)
// added to every line logged with that request's context.
package logging

import (
	"context"
	"io"
	"log/slog"
	"sync"
)

// New returns a logger writing to w at level. If w has a Flush method (a
// Buffered), it is flushed after every line at WARN or above.
func New(w io.Writer, json bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	f, _ := w.(flusher)
	if !json {
		return slog.New(contextHandler{Handler: slog.NewTextHandler(w, opts), flush: f})
	}
	// slog's handler and the fast JSON path write through one lock, so
	// their lines never interleave, even on a writer that is not safe for
	// concurrent use.
	lw := &lockedWriter{w: w}
	return slog.New(contextHandler{Handler: slog.NewJSONHandler(lw, opts), flush: f, fastJSON: lw})
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type flusher interface{ Flush() error }

type attrsKey struct{}

// WithAttrs returns a context whose log lines carry attrs as well.
func WithAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	prev, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	all := make([]slog.Attr, 0, len(prev)+len(attrs))
	all = append(append(all, prev...), attrs...)
	return context.WithValue(ctx, attrsKey{}, all)
}

// contextHandler adds the attributes stored by WithAttrs to each record,
// and flushes a buffered output after the lines that matter most.
type contextHandler struct {
	slog.Handler
	flush flusher // nil when the output is not buffered
	// fastJSON, when set, is where appendJSONLine's lines go: the JSON
	// handler's output, before any WithAttrs or WithGroup.
	fastJSON io.Writer
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	written, err := h.writeFast(&r, attrs)
	if !written {
		r.AddAttrs(attrs...)
		err = h.Handler.Handle(ctx, r)
	}
	if h.flush != nil && r.Level >= slog.LevelWarn {
		if ferr := h.flush.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// writeFast writes r and attrs through appendJSONLine, and reports false
// if it did not (not JSON, or a record slog must encode).
func (h contextHandler) writeFast(r *slog.Record, attrs []slog.Attr) (bool, error) {
	if h.fastJSON == nil {
		return false, nil
	}
	bp := linePool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 16<<10 { // a huge line's buffer is not kept
			linePool.Put(bp)
		}
	}()
	line, ok := appendJSONLine((*bp)[:0], r, attrs)
	*bp = line
	if !ok {
		return false, nil
	}
	_, err := h.fastJSON.Write(line)
	return true, err
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{Handler: h.Handler.WithAttrs(attrs), flush: h.flush}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name), flush: h.flush}
}
