package api

import (
	"strings"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/nerr"
)

// Text that no engine can store the same way is refused at the door, so
// that every engine answers alike (PostgreSQL cannot store a NUL character
// nor compare invalid UTF-8, and used to answer 500; SQLite and MySQL stored
// or matched them): an id holding such text names nothing (404), any other
// value of a path, a body or a query string is a 400.

// ValidText reports whether s can be stored and compared on every engine:
// valid UTF-8 without a NUL character.
func ValidText(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// textReason is the validation message for a string that is not ValidText.
func textReason(s string) string {
	if !utf8.ValidString(s) {
		return "'" + s + "' is not valid UTF-8"
	}
	return "'" + s + "' contains a NUL character"
}

// checkBodyText refuses a decoded body holding a key or string value that
// is not ValidText, naming the innermost enclosing attribute.
func checkBodyText(v any) error {
	if attr, s, ok := findBadText(v, ""); ok {
		if attr == "" {
			return nerr.HTTPBadRequest("Invalid input: %s.", textReason(s))
		}
		return nerr.HTTPBadRequest("Invalid input for %s. Reason: %s.", attr, textReason(s))
	}
	return nil
}

func findBadText(v any, attr string) (string, string, bool) {
	switch x := v.(type) {
	case string:
		if !ValidText(x) {
			return attr, x, true
		}
	case []any:
		for _, e := range x {
			if a, s, bad := findBadText(e, attr); bad {
				return a, s, true
			}
		}
	case map[string]any:
		for k, e := range x {
			if !ValidText(k) {
				return attr, k, true
			}
			if a, s, bad := findBadText(e, k); bad {
				return a, s, true
			}
		}
	}
	return "", "", false
}

// checkParamsText refuses a query string parameter (name or value) that is
// not ValidText.
func checkParamsText(ps Params) error {
	for _, p := range ps {
		if !ValidText(p.Key) {
			return nerr.HTTPBadRequest("Invalid input: %s.", textReason(p.Key))
		}
		if !ValidText(p.Value) {
			return nerr.HTTPBadRequest("Invalid input for %s. Reason: %s.", p.Key, textReason(p.Value))
		}
	}
	return nil
}
