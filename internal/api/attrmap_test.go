package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// knownDrift are the differences from Neutron Zed's attribute map kept on
// purpose, with their reasons: exactly the table "Attribute map" of
// docs/compat.md (TestAttributeMapMatchesZed checks both ways).
var knownDrift = map[drift]string{
	{"rule_types", "type", "primary_key", "false", "true"}: "Neutron's rule types have no primary key, so a list with a limit (which the plugin ignores) builds its links from id, which rule types lack: a 500 on the reference; neutrino builds them from type",
}

// TestAttributeMapMatchesZed checks every resource a server configured like
// the reference (testutil.ReferenceLike) declares against Neutron Zed's
// attribute map: which attributes exist, and of each allow_post, allow_put,
// is_visible, is_filter, is_sort_key, enforce_policy, required_by_policy,
// primary_key and, where the attribute may be posted, its default (absent:
// required). A difference must be fixed or listed in knownDrift and
// docs/compat.md. Collections of the map neutrino does not serve yet are
// skipped (and named in the log); they are checked once served.
func TestAttributeMapMatchesZed(t *testing.T) {
	zed, subs := loadZed(t)
	srv := testutil.StartServer(t, testutil.Options{Set: testutil.ReferenceLike(nil)})
	served := map[string]bool{}
	found := map[drift]bool{}
	checked := 0
	var shadowed []string
	for _, r := range srv.App.API.Resources {
		served[r.Collection] = true
		z, ok := zed[r.Collection]
		if ok && subs[r.Collection] != (r.Parent != nil) {
			// the dump keys maps by collection: a sub-resource's map
			// shadows a resource of the same collection name
			// (service_profiles of flavors) or the other way round
			shadowed = append(shadowed, r.Collection)
			continue
		}
		if !ok {
			found[drift{r.Collection, "-", "resource", "absent", "served"}] = true
			continue
		}
		for _, d := range compareResource(r.Collection, z, r) {
			found[d] = true
		}
		checked++
	}
	var skipped, empty []string
	for coll, attrs := range zed {
		switch {
		case len(attrs) == 0:
			empty = append(empty, coll) // quotas: its attributes are made per resource
		case !served[coll]:
			skipped = append(skipped, coll)
		}
	}
	sort.Strings(skipped)
	sort.Strings(empty)
	t.Logf("checked %d resources; without attributes in the map: %s; not served by neutrino yet, skipped: %s; shadowed by a map of the other kind (resource / sub-resource) of the same collection: %s",
		checked, strings.Join(empty, ", "), strings.Join(skipped, ", "), strings.Join(shadowed, ", "))
	for _, d := range sortedDrifts(found) {
		if _, ok := knownDrift[d]; !ok {
			t.Errorf("%s: fix neutrino's attribute map, or add the difference with its reason to knownDrift and to the table of docs/compat.md", d)
		}
	}
	for _, d := range sortedDrifts(knownDrift) {
		if !found[d] {
			t.Errorf("%s is no longer a difference: remove it from knownDrift and docs/compat.md", d)
		}
	}
}

// TestCompatTableListsKnownDrift: the table "Attribute map" of
// docs/compat.md is knownDrift, row for row.
func TestCompatTableListsKnownDrift(t *testing.T) {
	rows := compatTable(t)
	for d, why := range knownDrift {
		got, ok := rows[d]
		if !ok {
			t.Errorf("docs/compat.md has no row for %s (%s)", d, why)
		} else if got != why {
			t.Errorf("%s: docs/compat.md says %q, knownDrift %q", d, got, why)
		}
	}
	for d := range rows {
		if _, ok := knownDrift[d]; !ok {
			t.Errorf("docs/compat.md lists %s, which knownDrift does not", d)
		}
	}
}

// zedMap is testdata/attrmap-zed.json: Neutron Zed's attribute map as the
// reference server (neutron-up.sh's configuration) holds it once its
// extensions are loaded, collection → attribute → specification. A
// sub-resource is {"parameters": attributes, "parent": ...}; callables are
// written "<fn:name>" and ATTR_NOT_SPECIFIED "<NOT_SPECIFIED>". Some keys
// are collections of resources the reference does not serve, for which
// only extensions' additions are listed (e.g. "logs", "address-group").
type zedMap map[string]map[string]map[string]any

// loadZed returns the map and the collections whose entry is a
// sub-resource's.
func loadZed(t *testing.T) (zedMap, map[string]bool) {
	data, err := os.ReadFile("testdata/attrmap-zed.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := zedMap{}
	subs := map[string]bool{}
	for coll, attrs := range raw {
		if params, ok := attrs["parameters"]; ok && attrs["parent"] != nil {
			subs[coll] = true
			attrs = nil
			if err := json.Unmarshal(params, &attrs); err != nil {
				t.Fatal(err)
			}
		}
		out[coll] = map[string]map[string]any{}
		for name, spec := range attrs {
			var m map[string]any
			if err := json.Unmarshal(spec, &m); err != nil {
				t.Fatalf("%s %s: %v", coll, name, err)
			}
			out[coll][name] = m
		}
	}
	return out, subs
}

// drift is one difference: a property of an attribute of a resource, as
// Neutron and neutrino have it.
type drift struct {
	Resource, Attr, Prop string
	Neutron, Neutrino    string
}

func (d drift) String() string {
	return fmt.Sprintf("%s %s %s: Neutron %s, neutrino %s", d.Resource, d.Attr, d.Prop, d.Neutron, d.Neutrino)
}

func sortedDrifts[V any](m map[drift]V) []drift {
	out := make([]drift, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

var boolProps = []struct {
	prop string
	get  func(a *api.Attribute) bool
}{
	{"allow_post", func(a *api.Attribute) bool { return a.AllowPost }},
	{"allow_put", func(a *api.Attribute) bool { return a.AllowPut }},
	{"is_visible", func(a *api.Attribute) bool { return a.Visible }},
	{"is_filter", func(a *api.Attribute) bool { return a.IsFilter }},
	{"is_sort_key", func(a *api.Attribute) bool { return a.IsSortKey }},
	{"enforce_policy", func(a *api.Attribute) bool { return a.EnforcePolicy }},
	{"required_by_policy", func(a *api.Attribute) bool { return a.RequiredByPolicy }},
	{"primary_key", func(a *api.Attribute) bool { return a.PrimaryKey }},
}

// compareResource lists the differences between Neutron's attributes of a
// collection and neutrino's declaration.
func compareResource(coll string, zed map[string]map[string]any, res *api.Resource) []drift {
	var out []drift
	declared := map[string]bool{}
	for _, a := range res.Attrs {
		declared[a.Name] = true
		spec, ok := zed[a.Name]
		if !ok {
			out = append(out, drift{coll, a.Name, "declared", "no", "yes"})
			continue
		}
		for _, p := range boolProps {
			z, _ := spec[p.prop].(bool)
			if n := p.get(a); n != z {
				out = append(out, drift{coll, a.Name, p.prop, fmt.Sprint(z), fmt.Sprint(n)})
			}
		}
		// the default matters only where the attribute may be posted
		// (neutrino has no default for the others)
		if z, _ := spec["allow_post"].(bool); z && a.AllowPost {
			if zd, nd := zedDefault(spec), neutrinoDefault(a); zd != nd {
				out = append(out, drift{coll, a.Name, "default", zd, nd})
			}
		}
	}
	for name := range zed {
		if !declared[name] {
			out = append(out, drift{coll, name, "declared", "yes", "no"})
		}
	}
	return out
}

// zedDefault writes a default as compatJSON does; "absent" when there is
// none (a required attribute).
func zedDefault(spec map[string]any) string {
	v, ok := spec["default"]
	if !ok {
		return "absent"
	}
	return compatJSON(v)
}

func neutrinoDefault(a *api.Attribute) string {
	switch {
	case a.Required:
		return "absent"
	case a.Default == api.NotSpecified:
		return compatJSON("<NOT_SPECIFIED>")
	}
	return compatJSON(a.Default)
}

// compatJSON is the JSON of v as the table of docs/compat.md writes it.
func compatJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// compatTable reads the rows of the table under "## Attribute map" in
// docs/compat.md: | resource | attribute | property | Neutron | neutrino | why |
// (cells in backquotes are read without them).
func compatTable(t *testing.T) map[drift]string {
	f, err := os.Open("../../docs/compat.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[drift]string{}
	in, header := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Attribute map"
			continue
		case !in || !strings.HasPrefix(line, "|"):
			continue
		}
		if header++; header <= 2 {
			continue // the header row and its separator
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 6 {
			t.Fatalf("docs/compat.md: attribute map row with %d cells: %s", len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		rows[drift{cells[0], cells[1], cells[2], cells[3], cells[4]}] = cells[5]
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if header == 0 {
		t.Fatal(`docs/compat.md has no "## Attribute map" table`)
	}
	return rows
}
