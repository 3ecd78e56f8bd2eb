package l3_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestExternalPolicyNarrowedToItsUser: the wildcard access_as_external
// policy of an external network may become a policy for the one project
// whose router has its gateway there (Neutron counts the new target as
// keeping its access; Tempest's test_external_update_policy_from_wildcard_
// to_specific_tenant), but not one for another project (409 RbacPolicyInUse).
func TestExternalPolicyNarrowedToItsUser(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: routerConfig}).URL
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "ext", "router:external": true}).
		Expect(t, 201).Obj("network")["id"]
	post(t, s+"/v2.0/subnets", "subnet", map[string]any{"network_id": net, "cidr": "172.24.4.0/24", "ip_version": 4}).Expect(t, 201)
	post(t, s+"/v2.0/routers", "router", map[string]any{"name": "r", "tenant_id": "proj-b",
		"external_gateway_info": map[string]any{"network_id": net}}).Expect(t, 201)
	pols := testutil.Do(t, "GET", s+"/v2.0/rbac-policies?object_id="+net.(string)+"&action=access_as_external", nil).Expect(t, 200).List("rbac_policies")
	if len(pols) != 1 || pols[0]["target_tenant"] != "*" {
		t.Fatalf("external network's policies: %v", pols)
	}
	id := pols[0]["id"].(string)
	r := testutil.Do(t, "PUT", s+"/v2.0/rbac-policies/"+id, map[string]any{"rbac_policy": map[string]any{"target_tenant": "proj-c"}}).Expect(t, 409)
	if r.Obj("NeutronError")["type"] != "RbacPolicyInUse" {
		t.Fatalf("narrowing to another project: %s", r.Body)
	}
	testutil.Do(t, "PUT", s+"/v2.0/rbac-policies/"+id, map[string]any{"rbac_policy": map[string]any{"target_tenant": "proj-b"}}).Expect(t, 200)
	testutil.Do(t, "DELETE", s+"/v2.0/rbac-policies/"+id, nil).Expect(t, 409)
}
