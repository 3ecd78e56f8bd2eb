package conformance

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// maxDiffsPerStep bounds the differences listed for one step.
const maxDiffsPerStep = 12

// StepDiff lists the differences of one step.
type StepDiff struct {
	Index int // 1-based
	Title string
	Line  string
	Diffs []string
}

// Compare compares a transcript with the golden one for sc. A nil result
// means they agree.
func Compare(sc *Scenario, golden, got *Transcript) []StepDiff {
	var out []StepDiff
	if len(golden.Steps) != len(sc.Steps) {
		return []StepDiff{{Title: "golden file", Diffs: []string{fmt.Sprintf(
			"golden file has %d steps, the scenario %d: re-record it", len(golden.Steps), len(sc.Steps))}}}
	}
	for i, s := range sc.Steps {
		exp, act := golden.Steps[i], got.Steps[i]
		d := StepDiff{Index: i + 1, Title: s.Title(), Line: s.Line()}
		if exp.Request != s.Line() || exp.As != s.Persona() {
			d.Diffs = append(d.Diffs, fmt.Sprintf("golden file records %q as %q here: re-record it", exp.Request, exp.As))
			out = append(out, d)
			continue
		}
		if s.KnownDifference != "" {
			continue
		}
		d.Diffs = compareAnswer(exp, act, mergeHints(sc, s))
		if len(d.Diffs) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func compareAnswer(exp, got *Answer, h *stepHints) []string {
	var d []string
	if exp.Error != got.Error {
		d = append(d, fmt.Sprintf("error: expected %q, got %q", exp.Error, got.Error))
	}
	if exp.Status != got.Status {
		d = append(d, fmt.Sprintf("status: expected %d, got %d", exp.Status, got.Status))
	}
	if exp.ContentType != got.ContentType {
		d = append(d, fmt.Sprintf("content type: expected %q, got %q", exp.ContentType, got.ContentType))
	}
	switch {
	case exp.hasBody && got.hasBody:
		c := &differ{h: h}
		c.diff(exp.Body, got.Body, nil)
		d = append(d, c.out...)
		if c.more > 0 {
			d = append(d, fmt.Sprintf("... and %d more differences", c.more))
		}
	case exp.hasBody:
		d = append(d, fmt.Sprintf("body: expected JSON %s, got %s", render(exp.Body), renderText(got.Text)))
	case got.hasBody:
		d = append(d, fmt.Sprintf("body: expected %s, got JSON %s", renderText(exp.Text), render(got.Body)))
	default:
		if exp.Text != got.Text {
			d = append(d, fmt.Sprintf("body: expected %s, got %s", renderText(exp.Text), renderText(got.Text)))
		}
	}
	return d
}

type differ struct {
	h    *stepHints
	out  []string
	more int
}

func (c *differ) add(path []string, format string, args ...any) {
	if len(c.out) >= maxDiffsPerStep {
		c.more++
		return
	}
	c.out = append(c.out, pathString(path)+": "+fmt.Sprintf(format, args...))
}

func pathString(path []string) string {
	if len(path) == 0 {
		return "body"
	}
	return strings.Join(path, ".")
}

func (c *differ) diff(exp, got any, path []string) {
	switch e := exp.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			c.add(path, "expected %s, got %s", render(exp), render(got))
			return
		}
		keys := map[string]bool{}
		for k := range e {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := append(path[:len(path):len(path)], k)
			ev, eok := e[k]
			gv, gok := g[k]
			switch {
			case !gok:
				c.add(p, "missing (expected %s)", render(ev))
			case !eok:
				c.add(p, "unexpected key (got %s)", render(gv))
			default:
				c.diff(ev, gv, p)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			c.add(path, "expected %s, got %s", render(exp), render(got))
			return
		}
		list := e
		if len(list) == 0 {
			list = g
		}
		if c.h.unorderedList(path, list) {
			c.diffMultiset(e, g, path)
			return
		}
		if len(e) != len(g) {
			c.add(path, "expected %d elements, got %d: expected %s, got %s", len(e), len(g), render(exp), render(got))
			return
		}
		for i := range e {
			c.diff(e[i], g[i], append(path[:len(path):len(path)], strconv.Itoa(i)))
		}
	default:
		if scalarKey(exp) != scalarKey(got) {
			c.add(path, "expected %s, got %s", render(exp), render(got))
		}
	}
}

// diffMultiset matches equal elements in any order and reports the rest.
func (c *differ) diffMultiset(e, g []any, path []string) {
	used := make([]bool, len(g))
	var missing []int
	for i, ev := range e {
		found := false
		for j, gv := range g {
			if !used[j] && c.equal(ev, gv, append(path[:len(path):len(path)], strconv.Itoa(i))) {
				used[j], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, i)
		}
	}
	var extra []int
	for j := range g {
		if !used[j] {
			extra = append(extra, j)
		}
	}
	if len(missing) == 1 && len(extra) == 1 {
		// one element differs: show how
		c.diff(e[missing[0]], g[extra[0]], append(path[:len(path):len(path)], strconv.Itoa(missing[0])))
		return
	}
	for _, i := range missing {
		c.add(path, "(unordered) missing element %s", render(e[i]))
	}
	for _, j := range extra {
		c.add(path, "(unordered) unexpected element %s", render(g[j]))
	}
}

func (c *differ) equal(a, b any, path []string) bool {
	sub := &differ{h: c.h}
	sub.diff(a, b, path)
	return len(sub.out) == 0 && sub.more == 0
}

func scalarKey(v any) string {
	switch x := v.(type) {
	case json.Number:
		return "n:" + x.String()
	case string:
		return "s:" + x
	case bool:
		return "b:" + strconv.FormatBool(x)
	case nil:
		return "null"
	}
	return fmt.Sprintf("?:%v", v)
}

// render is a value for reports: compact JSON, shortened.
func render(v any) string {
	b, err := marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b))
}

func renderText(s string) string {
	if s == "" {
		return "an empty body"
	}
	return "text " + shorten(strconv.Quote(s))
}

func shorten(s string) string {
	const max = 400
	if len(s) > max {
		return s[:max] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// Report renders step differences for a test failure. A difference found
// in three steps or more (a missing attribute, say) is listed once, and
// steps with the same remaining differences are listed together.
func Report(sc *Scenario, diffs []StepDiff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d steps differ from the reference (golden/%s.json):\n", sc.Name, len(diffs), len(sc.Steps), sc.Name)
	key := func(l string) string { return indexRE.ReplaceAllString(l, ".N.") }
	steps := map[string][]int{}
	var order []string
	for _, d := range diffs {
		seen := map[string]bool{}
		for _, l := range d.Diffs {
			k := key(l)
			if seen[k] || d.Index == 0 || strings.HasPrefix(l, "... and ") {
				continue
			}
			seen[k] = true
			if steps[k] == nil {
				order = append(order, k)
			}
			steps[k] = append(steps[k], d.Index)
		}
	}
	common := map[string]bool{}
	for _, k := range order {
		if len(steps[k]) >= 3 {
			common[k] = true
			fmt.Fprintf(&b, "  in %d steps (%s):\n      %s\n", len(steps[k]), joinInts(steps[k]), k)
		}
	}
	// the rest, steps with identical differences together
	type group struct {
		titles []string
		lines  []string
	}
	var groups []*group
	byLines := map[string]*group{}
	for _, d := range diffs {
		var lines []string
		for _, l := range d.Diffs {
			if d.Index == 0 || !common[key(l)] {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		title := fmt.Sprintf("%s:", d.Title)
		if d.Index > 0 {
			title = fmt.Sprintf("step %d %q (%s):", d.Index, d.Title, d.Line)
		}
		var ks []string
		for _, l := range lines {
			ks = append(ks, key(l))
		}
		k := strings.Join(ks, "\n")
		if g := byLines[k]; g != nil && d.Index > 0 {
			g.titles = append(g.titles, title)
			continue
		}
		g := &group{titles: []string{title}, lines: lines}
		byLines[k] = g
		groups = append(groups, g)
	}
	for _, g := range groups {
		for _, t := range g.titles {
			fmt.Fprintf(&b, "  %s\n", t)
		}
		for _, l := range g.lines {
			fmt.Fprintf(&b, "      %s\n", l)
		}
	}
	return b.String()
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// indexRE finds list indices in difference paths (networks.0.x).
var indexRE = regexp.MustCompile(`\.[0-9]+\.`)
