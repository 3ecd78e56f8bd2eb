package pyfmt

import (
	"math"
	"testing"
)

// The expected strings are Python 3's str() and repr() of the same values
// (dicts with sorted keys: neutrino writes them sorted).
func TestStrRepr(t *testing.T) {
	tests := []struct {
		v         any
		str, repr string
	}{
		{nil, "None", "None"},
		{true, "True", "True"},
		{false, "False", "False"},
		{"s", "s", "'s'"},
		{int64(3), "3", "3"},
		{3.0, "3.0", "3.0"},
		{2.5, "2.5", "2.5"},
		{math.Copysign(0, -1), "-0.0", "-0.0"},
		{1234567.5, "1234567.5", "1234567.5"},
		{1e16, "1e+16", "1e+16"},
		{1.5e-05, "1.5e-05", "1.5e-05"},
		{0.0001, "0.0001", "0.0001"},
		{1e22, "1e+22", "1e+22"},
		{123456789012345.6, "123456789012345.6", "123456789012345.6"},
		{math.Inf(1), "inf", "inf"},
		{math.NaN(), "nan", "nan"},
		{[]any{"a", int64(1), 2.0}, "['a', 1, 2.0]", "['a', 1, 2.0]"},
		{map[string]any{"b": true, "a": nil}, "{'a': None, 'b': True}", "{'a': None, 'b': True}"},
		{[]string{"it's"}, `["it's"]`, `["it's"]`},
		{`a"b'c`, `a"b'c`, `'a"b\'c'`},
		{"tab\there", "tab\there", `'tab\there'`},
		{"\x01\x7f", "\x01\x7f", `'\x01\x7f'`},
		{`back\slash`, `back\slash`, `'back\\slash'`},
	}
	for _, tt := range tests {
		if got := Str(tt.v); got != tt.str {
			t.Errorf("Str(%#v) = %q, want %q", tt.v, got, tt.str)
		}
		if got := Repr(tt.v); got != tt.repr {
			t.Errorf("Repr(%#v) = %q, want %q", tt.v, got, tt.repr)
		}
	}
	if got := Set(nil); got != "set()" {
		t.Errorf("Set(nil) = %q", got)
	}
	if got := Set([]string{"b", "a"}); got != "{'b', 'a'}" {
		t.Errorf("Set = %q", got)
	}
	if got := DictInOrder(map[string]any{"start": "1", "end": "2", "x": 1}, "start", "end", "y"); got != "{'start': '1', 'end': '2'}" {
		t.Errorf("DictInOrder = %q", got)
	}
}

// TestInt: Python 3's int() of the same values (ok false where it raises).
func TestInt(t *testing.T) {
	tests := []struct {
		v  any
		n  int64
		ok bool
	}{
		{true, 1, true}, {false, 0, true}, {int64(-4), -4, true}, {7.9, 7, true}, {-7.9, -7, true},
		{" 1_0 ", 10, true}, {"+5", 5, true}, {"-5", -5, true}, {"\t3\n", 3, true}, {"\v3", 3, true},
		{"00", 0, true}, {"-0", 0, true},
		{"_1", 0, false}, {"1_", 0, false}, {"1__0", 0, false}, {"", 0, false}, {"  ", 0, false},
		{"1 0", 0, false}, {"0x10", 0, false}, {"1.5", 0, false},
		{nil, 0, false}, {[]any{}, 0, false}, {math.NaN(), 0, false}, {1e19, 0, false},
	}
	for _, tt := range tests {
		n, ok := Int(tt.v)
		if n != tt.n || ok != tt.ok {
			t.Errorf("Int(%#v) = %d, %v; want %d, %v", tt.v, n, ok, tt.n, tt.ok)
		}
	}
}

// TestEqual: Python 3's == of the same values.
func TestEqual(t *testing.T) {
	equal := [][2]any{
		{nil, nil}, {true, int64(1)}, {int64(2), 2.0}, {"a", "a"},
		{map[string]any{"a": []any{int64(1)}}, map[string]any{"a": []any{1.0}}},
		{[]string{"x", "y"}, []any{"x", "y"}},
	}
	for _, p := range equal {
		if !Equal(p[0], p[1]) {
			t.Errorf("Equal(%#v, %#v) = false", p[0], p[1])
		}
	}
	differ := [][2]any{
		{nil, false}, {"1", int64(1)}, {map[string]any{}, []any{}}, {[]any{"a"}, "a"},
		{[]any{"a", int64(1)}, []string{"a"}},
	}
	for _, p := range differ {
		if Equal(p[0], p[1]) {
			t.Errorf("Equal(%#v, %#v) = true", p[0], p[1])
		}
	}
}

func TestLiteral(t *testing.T) {
	tests := map[string]string{
		"True": "True", "None": "None", "'abc'": "abc", `"a b"`: "a b", "u'x'": "x",
		"42": "42", "-42": "-42", "+7": "7", "0": "0", "00": "0", "1_000": "1000",
		"0x1F": "31", "0o17": "15", "0b101": "5", "1.50": "1.5", "5.": "5.0", ".5": "0.5",
		"1e3": "1000.0", "1e-05": "1e-05", "2.5e20": "2.5e+20",
	}
	for in, want := range tests {
		got, ok := Literal(in)
		if !ok || got != want {
			t.Errorf("Literal(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"project_id", "user.id", "007", "1__0", "_1", "'a'b'", "'abc", "true", "inf", "1x", "--1", "0x", ""} {
		if got, ok := Literal(in); ok {
			t.Errorf("Literal(%q) = %q, want not a literal", in, got)
		}
	}
}

func TestStrJSON(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {false, "False"}, {"s", "s"}, {3, "3"},
		{float64(3), "3"}, {2.5, "2.5"}, {[]any{"a", 1.0}, "['a', 1]"},
		{map[string]any{"b": true, "a": nil}, "{'a': None, 'b': True}"},
		{[]string{"it's"}, `["it's"]`},
	}
	for _, tt := range tests {
		if got := StrJSON(tt.v); got != tt.want {
			t.Errorf("StrJSON(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
