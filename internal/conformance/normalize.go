package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

var (
	uuidRE      = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	requestIDRE = regexp.MustCompile(`(?i)req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timestampRE = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?`)
	macRE       = regexp.MustCompile(`(?i)\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b`)
	// pending marks a UUID that has no placeholder yet (numbered in a
	// second pass, in a server-independent order).
	pendingRE = regexp.MustCompile("\x00([0-9a-fA-F-]{36})\x00")
	// pendingJSON is pendingRE inside marshalled JSON.
	pendingJSON = regexp.MustCompile(`\\u0000[0-9a-fA-F-]{36}\\u0000`)
)

// Default hints every step gets: tag lists have no defined order.
var defaultUnordered = []string{"tags", "*.tags", "*.*.tags"}

// normalizer rewrites answers of one scenario execution. UUID placeholders
// are numbered across the whole scenario.
type normalizer struct {
	base   string
	runID  string
	varFor func(string) (string, bool)
	uuids  map[string]int
	// fixed values (Keystone ids) become <name> wherever they occur.
	fixed []NamedValue
	// savedIPs returns the saved variables whose values are IP addresses
	// (allocated addresses differ between servers): each becomes <name>
	// wherever it occurs as a whole address.
	savedIPs func() []NamedValue
}

func newNormalizer(base, runID string, varFor func(string) (string, bool)) *normalizer {
	return &normalizer{base: base, runID: runID, varFor: varFor, uuids: map[string]int{}}
}

// stepHints are the effective hints of one step.
type stepHints struct {
	any                             map[string]string
	unordered, ordered, ignore, own []string
	keepMAC                         bool
	replace                         []replacement
	// collection: a GET without sort_key, whose top-level lists of
	// objects are unordered.
	collection bool
}

func mergeHints(sc *Scenario, s *Step) *stepHints {
	h := &stepHints{any: map[string]string{}}
	for _, src := range []Hints{sc.Hints, s.Hints} {
		for k, v := range src.Any {
			h.any[k] = v
		}
		h.unordered = append(h.unordered, src.Unordered...)
		h.ordered = append(h.ordered, src.Ordered...)
		h.ignore = append(h.ignore, src.Ignore...)
		h.own = append(h.own, src.Own...)
		h.keepMAC = h.keepMAC || src.KeepMAC
		keys := make([]string, 0, len(src.Replace))
		for k := range src.Replace {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			h.replace = append(h.replace, replacement{regexp.MustCompile(k), src.Replace[k]})
		}
	}
	h.unordered = append(h.unordered, defaultUnordered...)
	if s.method == "GET" {
		h.collection = true
		_, q, _ := strings.Cut(s.path, "?")
		for _, kv := range strings.Split(q, "&") {
			if k, v, _ := strings.Cut(kv, "="); k == "sort_key" && v != "" {
				h.collection = false // sorted: the order is defined
			}
		}
	}
	return h
}

type replacement struct {
	re   *regexp.Regexp
	with string
}

// unorderedList reports whether the list at path is compared as a multiset.
func (h *stepHints) unorderedList(path []string, list []any) bool {
	if matchAny(h.ordered, path) {
		return false
	}
	if matchAny(h.unordered, path) {
		return true
	}
	if h.collection && len(path) == 1 && !strings.HasSuffix(path[0], "_links") && len(list) > 0 {
		for _, e := range list {
			if _, ok := e.(map[string]any); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func matchAny(patterns []string, path []string) bool {
	for _, p := range patterns {
		if matchPath(p, path) {
			return true
		}
	}
	return false
}

// matchPath matches a dotted pattern ("networks.*.tags") against a path;
// "*" matches one segment, "." the body itself (a top-level list).
func matchPath(pattern string, path []string) bool {
	if pattern == "." {
		return len(path) == 0
	}
	segs := strings.Split(pattern, ".")
	if len(segs) != len(path) {
		return false
	}
	for i, s := range segs {
		if s != "*" && s != path[i] {
			return false
		}
	}
	return true
}

// body normalises a decoded JSON answer.
func (n *normalizer) body(v any, h *stepHints) any {
	v = n.walk(v, nil, h)
	return n.number(v)
}

// text normalises a non-JSON answer.
func (n *normalizer) text(s string, h *stepHints) string {
	return n.number(n.str(s, h)).(string)
}

func (n *normalizer) walk(v any, path []string, h *stepHints) any {
	if matchAny(h.ignore, path) && len(path) > 0 {
		return "<ignored>"
	}
	for p, typ := range h.any {
		if len(path) > 0 && matchPath(p, path) && hasType(v, typ) {
			return "<" + typ + ">"
		}
	}
	switch x := v.(type) {
	case string:
		return n.str(x, h)
	case []any:
		out := make([]any, 0, len(x))
		own := matchAny(h.own, path)
		for i, e := range x {
			e = n.walk(e, append(path[:len(path):len(path)], strconv.Itoa(i)), h)
			if own && !strings.Contains(canonical(e), "{run}") {
				continue // another run's element of a global collection
			}
			out = append(out, e)
		}
		if h.unorderedList(path, x) {
			sortCanonical(out)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = n.walk(e, append(path[:len(path):len(path)], k), h)
		}
		return out
	}
	return v
}

func hasType(v any, typ string) bool {
	switch typ {
	case "any":
		return true
	case "null":
		return v == nil
	case "bool":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "int":
		num, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := strconv.ParseInt(string(num), 10, 64)
		return err == nil
	case "uuid":
		s, ok := v.(string)
		return ok && len(s) == 36 && uuidRE.MatchString(s)
	case "timestamp":
		s, ok := v.(string)
		return ok && timestampRE.FindString(s) == s && s != ""
	case "list":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// str normalises one string; UUIDs without a variable are left pending.
func (n *normalizer) str(s string, h *stepHints) string {
	if n.base != "" {
		s = strings.ReplaceAll(s, n.base, "<base>")
	}
	if n.runID != "" {
		s = strings.ReplaceAll(s, n.runID, "{run}")
	}
	for _, f := range n.fixed {
		if f.Value != "" && strings.Contains(s, f.Value) {
			s = strings.ReplaceAll(s, f.Value, "<"+f.Name+">")
		}
	}
	s = requestIDRE.ReplaceAllString(s, "<request-id>")
	s = timestampRE.ReplaceAllString(s, "<timestamp>")
	if !h.keepMAC {
		s = macRE.ReplaceAllStringFunc(s, func(m string) string {
			if name, ok := n.varFor(m); ok {
				return "<" + name + ">"
			}
			return "<mac>"
		})
	}
	s = uuidRE.ReplaceAllStringFunc(s, func(m string) string {
		if name, ok := n.varFor(m); ok {
			return "<" + name + ">"
		}
		return "\x00" + m + "\x00"
	})
	if n.savedIPs != nil {
		for _, v := range n.savedIPs() {
			s = replaceAddress(s, v.Value, "<"+v.Name+">")
		}
	}
	for _, r := range h.replace {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// number gives pending UUIDs their <uuid:N> placeholder, in document order
// (object keys sorted, unordered lists already sorted).
func (n *normalizer) number(v any) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "\x00") {
			return x
		}
		return pendingRE.ReplaceAllStringFunc(x, func(m string) string {
			id := strings.ToLower(m[1 : len(m)-1])
			k, ok := n.uuids[id]
			if !ok {
				k = len(n.uuids) + 1
				n.uuids[id] = k
			}
			return fmt.Sprintf("<uuid:%d>", k)
		})
	case []any:
		for i := range x {
			x[i] = n.number(x[i])
		}
		return x
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			x[k] = n.number(x[k])
		}
		return x
	}
	return v
}

// canonical is a sort key: compact JSON with pending UUIDs masked.
func canonical(v any) string {
	b, _ := marshal(v)
	return pendingJSON.ReplaceAllString(string(b), "<uuid>")
}

func sortCanonical(list []any) {
	keys := make([]string, len(list))
	for i, e := range list {
		keys[i] = canonical(e)
	}
	idx := make([]int, len(list))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]any, len(list))
	for i, j := range idx {
		sorted[i] = list[j]
	}
	copy(list, sorted)
}

// replaceAddress replaces every occurrence of the IP address addr in s that
// is a whole address (not part of a longer address or number: the
// characters around it are not hex digits, '.' or ':').
func replaceAddress(s, addr, with string) string {
	if addr == "" || !strings.Contains(s, addr) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, addr)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(addr)
		if (i > 0 && addressByte(s[i-1])) || (end < len(s) && addressByte(s[end])) {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(with)
		s = s[end:]
	}
}

func addressByte(c byte) bool {
	return c == '.' || c == ':' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}
