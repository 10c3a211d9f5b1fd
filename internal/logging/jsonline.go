package logging

import (
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// appendJSONLine appends r, followed by extra, as the line slog.JSONHandler
// writes for it (without WithAttrs or WithGroup, which disable this path),
// and reports false if r holds something only slog's general encoder
// handles: groups, LogValuers, values of kind Any, non-finite floats, and
// times outside years 0-9999.
//
// Why it exists: slog's JSON encoder spends 1.7-2.3 µs on an access-log
// line on the 2-core bench machine (its float goes through json.Marshal),
// against ~0.8 µs and no allocation here (BenchmarkAccessLine), and metrics
// plus logging have a budget of 15 % of a small request.
// TestJSONLineMatchesSlog and FuzzJSONLine hold it to slog's output byte
// for byte.
func appendJSONLine(buf []byte, r *slog.Record, extra []slog.Attr) ([]byte, bool) {
	buf = append(buf, '{')
	if !r.Time.IsZero() {
		t := r.Time.Round(0)
		if y := t.Year(); y < 0 || y >= 10000 {
			return buf, false
		}
		buf = append(buf, `"time":"`...)
		buf = t.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, `",`...)
	}
	buf = append(buf, `"level":`...)
	buf = appendJSONString(buf, r.Level.String())
	buf = append(buf, `,"msg":`...)
	buf = appendJSONString(buf, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		buf, ok = appendJSONAttr(buf, a)
		return ok
	})
	for _, a := range extra {
		if !ok {
			break
		}
		buf, ok = appendJSONAttr(buf, a)
	}
	return append(buf, '}', '\n'), ok
}

// appendJSONAttr appends `,"key":value`, or nothing for an empty Attr, as
// slog does.
func appendJSONAttr(buf []byte, a slog.Attr) ([]byte, bool) {
	if a.Key == "" && a.Value.Kind() == slog.KindAny && a.Value.Any() == nil {
		return buf, true
	}
	buf = append(buf, ',')
	buf = appendJSONString(buf, a.Key)
	buf = append(buf, ':')
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		buf = appendJSONString(buf, v.String())
	case slog.KindInt64:
		buf = strconv.AppendInt(buf, v.Int64(), 10)
	case slog.KindUint64:
		buf = strconv.AppendUint(buf, v.Uint64(), 10)
	case slog.KindBool:
		buf = strconv.AppendBool(buf, v.Bool())
	case slog.KindDuration:
		buf = strconv.AppendInt(buf, int64(v.Duration()), 10)
	case slog.KindFloat64:
		return appendJSONFloat(buf, v.Float64())
	case slog.KindTime:
		t := v.Time()
		if y := t.Year(); y < 0 || y >= 10000 {
			return buf, false
		}
		buf = append(buf, '"')
		buf = t.AppendFormat(buf, time.RFC3339Nano)
		buf = append(buf, '"')
	default: // Any, LogValuer, Group
		return buf, false
	}
	return buf, true
}

// appendJSONFloat formats f as encoding/json does, which is what slog's
// JSON handler calls for floats.
func appendJSONFloat(buf []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return buf, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	buf = strconv.AppendFloat(buf, f, format, -1, 64)
	if format == 'e' {
		// 1e-07, not 1e-7: encoding/json drops the exponent's leading zero.
		if n := len(buf); n >= 4 && buf[n-4] == 'e' && buf[n-3] == '-' && buf[n-2] == '0' {
			buf[n-2] = buf[n-1]
			buf = buf[:n-1]
		}
	}
	return buf, true
}

// appendJSONString appends s quoted and escaped as slog's JSON handler
// does: no HTML escaping, invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch b {
			case '"', '\\':
				buf = append(buf, '\\', b)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

const hexDigits = "0123456789abcdef"

// linePool holds line buffers, so that a line costs no allocation.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
