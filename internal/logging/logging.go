// Package logging builds myapi's slog logger: JSON for machines or text for
// people, with the attributes of the current request (its id, its user)
// added to every line logged with that request's context.
package logging

import (
	"context"
	"io"
	"log/slog"
)

// New returns a logger writing to w at level. If w has a Flush method (a
// Buffered), it is flushed after every line at WARN or above.
func New(w io.Writer, json bool, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	f, _ := w.(flusher)
	return slog.New(contextHandler{Handler: h, flush: f})
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
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(attrsKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	err := h.Handler.Handle(ctx, r)
	if h.flush != nil && r.Level >= slog.LevelWarn {
		if ferr := h.flush.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{Handler: h.Handler.WithAttrs(attrs), flush: h.flush}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name), flush: h.flush}
}
