package qos_test

import (
	"fmt"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestUnknownMarkerPagesFromTheStart: Neutron lists QoS policies and rules
// through an OVO Pager, which reads the marker with the caller's context
// and pages as if there were none when it finds nothing (Tempest's
// test_list_pagination_with_href_links follows a next link as a project
// that cannot see the marker). No 404 QosPolicyNotFound.
func TestUnknownMarkerPagesFromTheStart(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: qosConfig}).URL
	pol := post(t, s+"/v2.0/qos/policies", "policy", map[string]any{"name": "a"}).Expect(t, 201).Obj("policy")
	post(t, s+"/v2.0/qos/policies", "policy", map[string]any{"name": "b"}).Expect(t, 201)
	missing := "6e2f3fd4-0b8f-4f55-9d6c-2f0d7a1f0c11"
	r := testutil.Do(t, "GET", s+"/v2.0/qos/policies?limit=1&sort_key=name&sort_dir=asc&marker="+missing, nil).Expect(t, 200)
	got := r.Body["policies"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["name"] != "a" {
		t.Fatalf("first page for an unknown marker: %s", r.Raw)
	}
	rules := fmt.Sprintf("%s/v2.0/qos/policies/%s/bandwidth_limit_rules", s, pol["id"])
	testutil.Do(t, "POST", rules, map[string]any{"bandwidth_limit_rule": map[string]any{"max_kbps": 100}}).Expect(t, 201)
	r = testutil.Do(t, "GET", rules+"?limit=1&marker="+missing, nil).Expect(t, 200)
	if n := len(r.Body["bandwidth_limit_rules"].([]any)); n != 1 {
		t.Fatalf("rules for an unknown marker: %s", r.Raw)
	}
}
