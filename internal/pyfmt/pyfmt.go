// Package pyfmt writes and reads values the way Python does, so that
// messages and checks read exactly as Neutron's: str(), repr(), int(), ==
// and ast.literal_eval of the JSON-like values request bodies and rows
// hold (objects map[string]any, arrays []any or []string, strings, bools,
// nil, integers int64 and other numbers float64, as api.DecodeJSON yields
// them). It depends on nothing of neutrino's.
package pyfmt

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Str is Python's str(): a string as is, anything else as Repr.
func Str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return Repr(v)
}

// Repr is Python's repr() (dict keys sorted).
func Repr(v any) string {
	var b strings.Builder
	printer{}.repr(&b, v)
	return b.String()
}

// StrJSON is Str for values decoded by encoding/json without UseNumber,
// where every number is a float64: an integral float64 is written as the
// int Python would have decoded ("3", not "3.0").
func StrJSON(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ReprJSON(v)
}

// ReprJSON is Repr with StrJSON's numbers.
func ReprJSON(v any) string {
	var b strings.Builder
	printer{intFloats: true}.repr(&b, v)
	return b.String()
}

// Bool is str() of a bool.
func Bool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// List is repr() of a list of strings.
func List(ss []string) string {
	var b strings.Builder
	printer{}.repr(&b, ss)
	return b.String()
}

// Set is repr() of a set of strings, in the given order.
func Set(ss []string) string {
	if len(ss) == 0 {
		return "set()"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = Quote(s)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// DictInOrder is str() of a dict built with keys in that order (the keys
// m lacks are left out).
func DictInOrder(m map[string]any, keys ...string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			parts = append(parts, Quote(k)+": "+Repr(v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// printer writes repr(); intFloats: integral float64s are ints.
type printer struct{ intFloats bool }

func (p printer) repr(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(Bool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int8, int16, int32, uint, uint8, uint16, uint32, uint64:
		fmt.Fprint(b, x)
	case float32:
		b.WriteString(p.float(float64(x)))
	case float64:
		b.WriteString(p.float(x))
	case json.Number:
		b.WriteString(x.String())
	case string:
		quote(b, x)
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			quote(b, e)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			p.repr(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		p.dict(b, x)
	case fmt.Stringer:
		b.WriteString(x.String())
	default:
		fmt.Fprint(b, v)
	}
}

func (p printer) dict(b *strings.Builder, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		quote(b, k)
		b.WriteString(": ")
		p.repr(b, m[k])
	}
	b.WriteByte('}')
}

func (p printer) float(f float64) string {
	if p.intFloats && f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return Float(f)
}

// Float is repr() of a Python float: the shortest form that reads back,
// in exponent notation below 1e-4 and from 1e16 on.
func Float(f float64) string {
	if math.IsNaN(f) {
		return "nan"
	}
	if math.IsInf(f, 0) {
		if f > 0 {
			return "inf"
		}
		return "-inf"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// Quote is repr() of a str: single quotes unless the string holds one and
// no double quote; backslash, the quote and control characters escaped.
func Quote(s string) string {
	var b strings.Builder
	quote(&b, s)
	return b.String()
}

func quote(b *strings.Builder, s string) {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
}
