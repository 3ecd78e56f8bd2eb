package az_test

import (
	"context"
	"testing"

	"github.com/neutrino-os/neutrino/internal/az"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// agents is a zone source as the agents table will provide one.
type agents struct{}

func (agents) Zones(context.Context, db.Querier) ([]az.Zone, error) {
	return []az.Zone{{Name: "nova", Resource: "network", Available: true}, {Name: "zone2", Resource: "router"}}, nil
}

func (agents) Hosting(_ context.Context, _ db.Querier, _ string, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, id := range ids {
		out[id] = []string{"nova"}
	}
	return out, nil
}

// TestZonesFromASource: with a source, zones are listed (and filtered),
// hints are checked against the zones of the resource's agents, and
// networks show their hosting zones.
func TestZonesFromASource(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	az.SetSource(s.App.Env, agents{})
	l := testutil.Do(t, "GET", s.URL+"/v2.0/availability_zones?resource=network", nil).Expect(t, 200).List("availability_zones")
	if len(l) != 1 || l[0]["name"] != "nova" || l[0]["state"] != "available" {
		t.Fatalf("zones %v", l)
	}
	n := testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{
		"name": "n", "availability_zone_hints": []any{"nova"}}}).Expect(t, 201).Obj("network")
	if hz := n["availability_zone_hints"].([]any); len(hz) != 1 || hz[0] != "nova" {
		t.Fatalf("hints %v", n["availability_zone_hints"])
	}
	if z := n["availability_zones"].([]any); len(z) != 1 {
		t.Fatalf("zones of the network %v", z)
	}
	r := testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{
		"name": "m", "availability_zone_hints": []any{"zone2"}}}).Expect(t, 404)
	if r.ErrorType() != "AvailabilityZoneNotFound" {
		t.Fatalf("router zone as a network hint: %s", r.Raw)
	}
	testutil.Do(t, "GET", s.URL+"/v2.0/availability_zones/nova", nil).Expect(t, 404)
}

// TestZonesNeitherSortedNorPaged: Neutron's zone list allows neither
// sorting nor pagination, so their parameters are ignored, even invalid
// ones (checked on the reference): every zone, in the source's order,
// and no links.
func TestZonesNeitherSortedNorPaged(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	az.SetSource(s.App.Env, agents{})
	for _, q := range []string{"limit=1&sort_key=name&sort_dir=desc", "limit=abc&marker=x&sort_key=bogus&sort_dir=sideways&page_reverse=true"} {
		r := testutil.Do(t, "GET", s.URL+"/v2.0/availability_zones?"+q, nil).Expect(t, 200)
		l := r.List("availability_zones")
		if len(l) != 2 || l[0]["name"] != "nova" || l[1]["name"] != "zone2" {
			t.Fatalf("%s: %s", q, r.Raw)
		}
		if _, ok := r.Body["availability_zones_links"]; ok {
			t.Fatalf("%s: links %s", q, r.Raw)
		}
	}
}
