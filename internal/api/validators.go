package api

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file holds the converters and validators of neutron_lib.api
// (converters.py, validators/__init__.py) that attribute maps refer to.
// Messages are Neutron's, word for word.

// ---- converters ----

// ToBool is convert_to_boolean (oslo's bool_from_string, strict).
func ToBool(v any) (any, error) {
	if b, ok := ParseBool(v); ok {
		return b, nil
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("'%s' cannot be converted to boolean", pyfmt.Str(v)))
}

// ToBoolIfNotNone is convert_to_boolean_if_not_none: null stays null.
func ToBoolIfNotNone(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return ToBool(v)
}

// ParseBool mirrors oslo_utils.strutils.bool_from_string(strict=True).
func ParseBool(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	if v == nil {
		return false, false
	}
	s := strings.ToLower(strings.TrimSpace(pyfmt.Str(v)))
	switch s {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}

// ToInt is convert_to_int (Python's int()).
func ToInt(v any) (any, error) {
	if n, ok := pyfmt.Int(v); ok {
		return n, nil
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not an integer", pyfmt.Str(v)))
}

// NoneToEmptyList is convert_none_to_empty_list.
func NoneToEmptyList(v any) (any, error) {
	if v == nil {
		return []any{}, nil
	}
	return v, nil
}

// ToLowerString is convert_string_to_case_insensitive.
func ToLowerString(v any) (any, error) {
	if s, ok := v.(string); ok {
		return strings.ToLower(s), nil
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("Input value %s must be string type", pyfmt.Str(v)))
}

// KVPListToDict is convert_kvp_list_to_dict, used for filters such as
// fixed_ips=ip_address=10.0.0.2.
func KVPListToDict(values []string) (any, error) {
	if len(values) == 1 && values[0] == "True" {
		return map[string][]string{}, nil
	}
	out := map[string][]string{}
	for _, kv := range values {
		k, val, ok := strings.Cut(kv, "=")
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		if !ok || k == "" {
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not of the form <key>=[value]", kv))
		}
		if !contains(out[k], val) {
			out[k] = append(out[k], val)
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ---- validators ----

// String is type:string with an optional maximum length (0 = none).
func String(maxLen int) Validator {
	return func(v any) string { return validateString(v, maxLen) }
}

func validateString(v any, maxLen int) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid string", pyfmt.Str(v))
	}
	if maxLen > 0 && utf8.RuneCountInString(s) > maxLen {
		return fmt.Sprintf("'%s' exceeds maximum length of %d", s, maxLen)
	}
	if !ValidText(s) {
		return textReason(s)
	}
	return ""
}

// StringOrNone is type:string_or_none.
func StringOrNone(maxLen int) Validator {
	return func(v any) string {
		if v == nil {
			return ""
		}
		return validateString(v, maxLen)
	}
}

// NotEmptyString is type:not_empty_string.
func NotEmptyString(maxLen int) Validator {
	return func(v any) string {
		if msg := validateString(v, maxLen); msg != "" {
			return msg
		}
		if strings.TrimSpace(v.(string)) == "" {
			return fmt.Sprintf("'%s' Blank strings are not permitted", v)
		}
		return ""
	}
}

// Values is type:values.
func Values(valid ...any) Validator {
	return func(v any) string {
		for _, x := range valid {
			if jsonEqual(x, v) {
				return ""
			}
		}
		return fmt.Sprintf("%s is not in valid_values", pyfmt.Str(v))
	}
}

func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case int:
		n, ok := asInt(b)
		return ok && n == int64(x)
	case int64:
		n, ok := asInt(b)
		return ok && n == x
	}
	return a == b
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) {
			return int64(x), true
		}
	}
	return 0, false
}

// NonNegative is type:non_negative.
func NonNegative(v any) string {
	n, ok := pyfmt.Int(v)
	if !ok {
		return fmt.Sprintf("'%s' is not an integer", pyfmt.Str(v))
	}
	if n < 0 {
		return fmt.Sprintf("'%s' should be non-negative", pyfmt.Str(v))
	}
	return ""
}

// Range is type:range (inclusive; math.MinInt64/MaxInt64 disable a bound).
func Range(lo, hi int64) Validator {
	return func(v any) string {
		n, ok := pyfmt.Int(v)
		if _, isBool := v.(bool); !ok || isBool {
			return fmt.Sprintf("'%s' is not an integer", pyfmt.Str(v))
		}
		if n < lo {
			return fmt.Sprintf("'%s' is too small - must be at least '%d'", pyfmt.Str(v), lo)
		}
		if n > hi {
			return fmt.Sprintf("'%s' is too large - must be no larger than '%d'", pyfmt.Str(v), hi)
		}
		return ""
	}
}

// IsUUIDLike mirrors oslo_utils.uuidutils.is_uuid_like: a string that,
// lowercased and without "urn:", "uuid:", braces and dashes, is 32 hex digits.
func IsUUIDLike(v any) bool {
	s, ok := v.(string)
	if !ok || len(s) > 64 {
		return false
	}
	s = strings.ToLower(s)
	s = strings.NewReplacer("urn:", "", "uuid:", "", "{", "", "}", "", "-", "").Replace(s)
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// UUID is type:uuid.
func UUID(v any) string {
	if !IsUUIDLike(v) {
		return fmt.Sprintf("'%s' is not a valid UUID", pyfmt.Str(v))
	}
	return ""
}

// UUIDOrNone is type:uuid_or_none.
func UUIDOrNone(v any) string {
	if v == nil {
		return ""
	}
	return UUID(v)
}

// ListOfUniqueStrings is type:list_of_unique_strings.
func ListOfUniqueStrings(maxLen int) Validator {
	return ListOf(String(maxLen))
}

// ListOf is neutron's _validate_list_of_items: a list, no duplicates, each
// item valid.
func ListOf(item Validator) Validator {
	return func(v any) string {
		list, ok := v.([]any)
		if !ok {
			return fmt.Sprintf("'%s' is not a list", pyfmt.Str(v))
		}
		if dups := duplicates(list); len(dups) > 0 {
			parts := make([]string, len(dups))
			for i, d := range dups {
				parts[i] = pyfmt.Str(d)
			}
			return fmt.Sprintf("Duplicate items in the list: '%s'", strings.Join(parts, ", "))
		}
		for _, x := range list {
			if msg := item(x); msg != "" {
				return msg
			}
		}
		return ""
	}
}

// UUIDList is type:uuid_list.
var UUIDList = ListOf(UUID)

func duplicates(list []any) []any {
	seen := make(map[string]bool, len(list)) // repr → reported as a duplicate
	var dups []any
	for _, x := range list {
		r := pyfmt.Repr(x)
		reported, ok := seen[r]
		if ok && !reported {
			dups = append(dups, x)
			seen[r] = true
		} else if !ok {
			seen[r] = false
		}
	}
	return dups
}

// DictOrNone is type:dict_or_none with no key specs.
func DictOrNone(v any) string {
	if v == nil {
		return ""
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Sprintf("'%s' is not a dictionary", pyfmt.Str(v))
	}
	return ""
}

// ToIntOrNone is convert_to_int_if_not_none.
func ToIntOrNone(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return ToInt(v)
}
