package pyfmt

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// Literal reports whether s is a Python literal for ast.literal_eval
// (strings, numbers, True, False, None) and returns its str(), which is
// what oslo's GenericCheck compares with the RIGHT side.
func Literal(s string) (string, bool) {
	switch s {
	case "True", "False", "None":
		return s, true
	case "":
		return "", false
	}
	if q := s[0]; q == '\'' || q == '"' {
		return stringLiteral(s)
	}
	if len(s) > 1 && (s[0] == 'u' || s[0] == 'U') && (s[1] == '\'' || s[1] == '"') {
		return stringLiteral(s[1:])
	}
	return numberLiteral(s)
}

func stringLiteral(s string) (string, bool) {
	q := s[0]
	if len(s) < 2 || s[len(s)-1] != q {
		return "", false
	}
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == q {
			return "", false // the quote ends early: not one literal
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(body) {
			return "", false
		}
		switch e := body[i]; e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '0':
			b.WriteByte(0)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return b.String(), true
}

func numberLiteral(s string) (string, bool) {
	neg := false
	body := s
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if body == "" || !validUnderscores(body) {
		return "", false
	}
	digits := strings.ReplaceAll(body, "_", "")
	lower := strings.ToLower(digits)
	var n big.Int
	switch {
	case strings.HasPrefix(lower, "0x"), strings.HasPrefix(lower, "0o"), strings.HasPrefix(lower, "0b"):
		base := map[byte]int{'x': 16, 'o': 8, 'b': 2}[lower[1]]
		if _, ok := n.SetString(lower[2:], base); !ok || lower[2:] == "" {
			return "", false
		}
	case strings.Trim(digits, "0123456789") == "":
		if len(digits) > 1 && digits[0] == '0' && strings.Trim(digits, "0") != "" {
			return "", false // Python 3 rejects leading zeros
		}
		n.SetString(digits, 10)
	default:
		if !floatLiteral.MatchString(digits) {
			return "", false
		}
		f, err := strconv.ParseFloat(digits, 64)
		if err != nil {
			return "", false
		}
		if neg {
			f = -f
		}
		return Float(f), true
	}
	if neg {
		n.Neg(&n)
	}
	return n.String(), true
}

var floatLiteral = regexp.MustCompile(`^(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

func validUnderscores(s string) bool {
	if s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	return true
}
