package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// slogLine is the reference: what slog.JSONHandler writes for r, with
// extra appended to r's attributes.
func slogLine(t testing.TB, r slog.Record, extra []slog.Attr) string {
	t.Helper()
	var out bytes.Buffer
	r = r.Clone()
	r.AddAttrs(extra...)
	if err := slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(context.Background(), r); err != nil {
		t.Fatalf("slog: %v", err)
	}
	return out.String()
}

func TestJSONLineMatchesSlog(t *testing.T) {
	when := time.Date(2026, 11, 25, 23, 47, 22, 123456789, time.FixedZone("KST", 9*3600))
	rec := func(level slog.Level, msg string, attrs ...slog.Attr) slog.Record {
		r := slog.NewRecord(when, level, msg, 0)
		r.AddAttrs(attrs...)
		return r
	}
	tests := []struct {
		name   string
		record slog.Record
		extra  []slog.Attr
		fast   bool // false: the record is left to slog
	}{
		{"access line", rec(slog.LevelInfo, "request",
			slog.String("method", "GET"), slog.String("route", "/items/{item_id}"), slog.String("path", "/items/10"),
			slog.Int("status", 200), slog.Float64("duration_ms", 0.123), slog.Int("bytes", 73),
			slog.String("remote", "127.0.0.1:45678"), slog.Int64("user_id", 42)),
			[]slog.Attr{slog.String("request_id", "217e9271af25d3bd5fd6a554"), slog.String("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")}, true},
		{"no attributes", rec(slog.LevelInfo, "listening"), nil, true},
		{"zero time", slog.NewRecord(time.Time{}, slog.LevelWarn, "no time", 0), nil, true},
		{"odd levels", rec(slog.LevelError+2, "x"), nil, true},
		{"debug minus", rec(slog.LevelDebug-1, "x"), nil, true},
		{"whole millisecond", slog.NewRecord(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), slog.LevelInfo, "m", 0), nil, true},
		{"escapes", rec(slog.LevelInfo, "quote \" backslash \\ newline \n tab \t cr \r nul \x00 bell \x07 del \x7f <html>&",
			slog.String("k\"ey\n", "v\u2028a\u2029l"), slog.String("bad utf-8", "a\xffb\xc3"), slog.String("unicode", "한국어 ✓ 😀")), nil, true},
		{"kinds", rec(slog.LevelInfo, "kinds",
			slog.Uint64("u", math.MaxUint64), slog.Int64("neg", math.MinInt64), slog.Bool("t", true), slog.Bool("f", false),
			slog.Duration("d", 1500*time.Millisecond), slog.Time("at", when), slog.String("", "empty key")), nil, true},
		{"floats", rec(slog.LevelInfo, "floats",
			slog.Float64("zero", 0), slog.Float64("negzero", math.Copysign(0, -1)), slog.Float64("tiny", 1e-7),
			slog.Float64("small", 0.000001), slog.Float64("big", 1e21), slog.Float64("below big", 1e20), slog.Float64("neg", -12.5),
			slog.Float64("max", math.MaxFloat64), slog.Float64("min", math.SmallestNonzeroFloat64), slog.Float64("third", 1.0/3)), nil, true},
		{"empty attr skipped", rec(slog.LevelInfo, "m", slog.Attr{}, slog.Int("n", 1)), []slog.Attr{{}}, true},
		{"group", rec(slog.LevelInfo, "m", slog.Group("g", slog.Int("a", 1))), nil, false},
		{"any", rec(slog.LevelInfo, "m", slog.Any("err", errors.New("boom"))), nil, false},
		{"NaN", rec(slog.LevelInfo, "m", slog.Float64("f", math.NaN())), nil, false},
		{"infinity in extra", rec(slog.LevelInfo, "m"), []slog.Attr{slog.Float64("f", math.Inf(1))}, false},
		{"year 10000", slog.NewRecord(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), slog.LevelInfo, "m", 0), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := appendJSONLine(nil, &tt.record, tt.extra)
			if ok != tt.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			if want := slogLine(t, tt.record, tt.extra); string(got) != want {
				t.Errorf("line differs from slog's\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func FuzzJSONLine(f *testing.F) {
	f.Add("request", "path", "/items/10", int64(200), 0.123, uint64(7), int64(1764114442123456789))
	f.Add("a\x00\"\\\u2028", "\xff", "한국어", int64(-1), 1e-9, uint64(0), int64(0))
	f.Add("", "", "", int64(0), 1e300, uint64(math.MaxUint64), int64(-1))
	f.Fuzz(func(t *testing.T, msg, key, val string, n int64, fl float64, u uint64, nanos int64) {
		r := slog.NewRecord(time.Unix(0, nanos), slog.Level(n%16), msg, 0)
		r.AddAttrs(slog.String(key, val), slog.Int64("n", n), slog.Float64(val, fl), slog.Uint64("u", u))
		extra := []slog.Attr{slog.String("request_id", key+val)}
		got, ok := appendJSONLine(nil, &r, extra)
		if !ok {
			if !math.IsNaN(fl) && !math.IsInf(fl, 0) {
				if y := r.Time.Year(); y >= 0 && y < 10000 {
					t.Fatalf("fast path refused a record it handles: %v", r)
				}
			}
			return
		}
		if want := slogLine(t, r, extra); string(got) != want {
			t.Errorf("line differs from slog's\n got: %s\nwant: %s", got, want)
		}
	})
}

// TestLoggerJSON checks the lines New's JSON logger writes, through the
// fast path and through slog, including the context's attributes.
func TestLoggerJSON(t *testing.T) {
	var out bytes.Buffer
	log := New(&out, true, slog.LevelInfo)
	ctx := WithAttrs(context.Background(), slog.String("request_id", "r1"))

	log.InfoContext(ctx, "fast", "status", 200, "duration_ms", 1.5)
	log.InfoContext(ctx, "slow", "error", errors.New("boom")) // kind Any: slog encodes it
	log.With("component", "jobs").InfoContext(ctx, "with", "n", 1)
	log.DebugContext(ctx, "hidden")

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	want := []string{
		`"level":"INFO","msg":"fast","status":200,"duration_ms":1.5,"request_id":"r1"}`,
		`"level":"INFO","msg":"slow","error":"boom","request_id":"r1"}`,
		`"level":"INFO","msg":"with","component":"jobs","n":1,"request_id":"r1"}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], `{"time":"`) || !strings.HasSuffix(lines[i], w) {
			t.Errorf("line %d = %s, want {\"time\":…,%s", i, lines[i], w)
		}
	}
}

func BenchmarkAccessLine(b *testing.B) {
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "request", 0)
	r.AddAttrs(slog.String("method", "GET"), slog.String("route", "/items/{item_id}"), slog.String("path", "/items/10"),
		slog.Int("status", 200), slog.Float64("duration_ms", 0.123), slog.Int("bytes", 73), slog.String("remote", "127.0.0.1:45678"))
	extra := []slog.Attr{slog.String("request_id", "217e9271af25d3bd5fd6a554")}
	ctx := WithAttrs(context.Background(), extra...)
	for _, bm := range []struct {
		name string
		h    slog.Handler
	}{
		{"slog", contextHandler{Handler: slog.NewJSONHandler(discard{}, nil)}},
		{"fast", New(discard{}, true, slog.LevelInfo).Handler()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bm.h.Handle(ctx, r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
