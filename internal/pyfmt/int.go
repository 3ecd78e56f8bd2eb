package pyfmt

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Int is Python's int(x) for decoded JSON values: a bool is 0 or 1, a
// float is truncated, a string is a decimal integer with optional sign,
// surrounding whitespace and single underscores between digits. ok is
// false where Python raises (or the value does not fit an int64).
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 9.2e18 {
			return 0, false
		}
		return int64(x), true
	case string:
		return IntString(x)
	}
	return 0, false
}

var intLiteral = regexp.MustCompile(`^[+-]?[0-9](_?[0-9])*$`)

// IntString is Python's int() of a str.
func IntString(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if !intLiteral.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return n, err == nil
}
