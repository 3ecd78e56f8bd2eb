package api

import (
	"encoding/json"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// The encoder below writes API responses without reflection: resources are
// maps of a handful of JSON types, and listing ten thousand ports must not
// spend its time in encoding/json's reflection and map-key sorting.

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > 1<<20 {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// AppendJSON appends the compact JSON form of v, as Neutron's resource
// responses are written ({"network":{"id":...}}). Map keys are sorted, except
// for Ordered maps.
func AppendJSON(b []byte, v any) []byte { return compact.append(b, v) }

// AppendJSONSpaced writes ", " and ": " separators, as Neutron's error and
// tag bodies are written.
func AppendJSONSpaced(b []byte, v any) []byte { return spaced.append(b, v) }

type encoder struct{ comma, colon string }

var (
	compact = encoder{",", ":"}
	spaced  = encoder{", ", ": "}
)

func (e encoder) append(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if x {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case string:
		return appendString(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case float64:
		return appendFloat(b, x)
	case []string:
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, e.comma...)
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, x2 := range x {
			if i > 0 {
				b = append(b, e.comma...)
			}
			b = e.append(b, x2)
		}
		return append(b, ']')
	case []Object:
		b = append(b, '[')
		for i, x2 := range x {
			if i > 0 {
				b = append(b, e.comma...)
			}
			b = e.append(b, x2)
		}
		return append(b, ']')
	case map[string]any:
		return e.appendMap(b, x, nil)
	case json.RawMessage:
		return append(b, x...)
	case Ordered:
		return e.appendMap(b, x.M, x.Order)
	case Appender:
		return x.AppendJSON(b)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// Appender is a value that writes its own (compact) JSON, for attributes
// computed on every read that need not be maps (e.g. dns_assignment).
type Appender interface {
	AppendJSON(b []byte) []byte
}

// Ordered is a map written with its keys in Order first.
type Ordered struct {
	M     map[string]any
	Order []string
}

// MarshalJSON writes the map for encoding/json (key order aside), as the
// RPC side sends objects to the agents.
func (o Ordered) MarshalJSON() ([]byte, error) { return json.Marshal(o.M) }

func (e encoder) appendMap(b []byte, m map[string]any, order []string) []byte {
	b = append(b, '{')
	first := true
	emit := func(k string, v any) {
		if !first {
			b = append(b, e.comma...)
		}
		first = false
		b = appendString(b, k)
		b = append(b, e.colon...)
		b = e.append(b, v)
	}
	if order == nil {
		// sorted keys; small maps sort on the stack
		var small [16]string
		keys := small[:0]
		for k := range m {
			keys = append(keys, k)
		}
		if len(keys) <= len(small) {
			for i := 1; i < len(keys); i++ {
				for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
					keys[j], keys[j-1] = keys[j-1], keys[j]
				}
			}
		} else {
			sort.Strings(keys)
		}
		for _, k := range keys {
			emit(k, m[k])
		}
		return append(b, '}')
	}
	written := 0
	for _, k := range order {
		v, ok := m[k]
		if !ok {
			continue
		}
		emit(k, v)
		written++
	}
	if written < len(m) {
		var rest []string
		for k := range m {
			if !contains(order, k) {
				rest = append(rest, k)
			}
		}
		sort.Strings(rest)
		for _, k := range rest {
			emit(k, m[k])
		}
	}
	return append(b, '}')
}

func appendFloat(b []byte, f float64) []byte {
	s := pyfmt.Float(f)
	switch s {
	case "inf", "-inf", "nan":
		return append(b, "null"...)
	}
	return append(b, s...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string.
func AppendString(b []byte, s string) []byte { return appendString(b, s) }

// safeASCII marks the bytes written as they are inside a JSON string.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
