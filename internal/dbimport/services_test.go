package dbimport_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// Ids of the recorded reference database.
const (
	refProject = "4a1f0c9e2b7d4e18a3c5d6e7f8091a2b"
	refPolicy  = "c44e94af-eef0-4456-a189-e37f941ef071"
	refGroup   = "f03e16a1-7e58-4774-abc6-08c7cdb6de82"
	refPort    = "3694827c-7c43-45e3-a0ad-b66cb1039f19"
)

// serviceRows add to the recorded database what its scenario did not make
// (Neutron's schema, Neutron's values): a default QoS policy, more rule
// types, a port's policy, QoS and address group RBAC entries, metering.
var serviceRows = []string{
	"INSERT INTO qos_policies_default (qos_policy_id, project_id) VALUES ('" + refPolicy + "', '" + refProject + "')",
	"INSERT INTO qos_dscp_marking_rules (id, qos_policy_id, dscp_mark) VALUES ('5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e01', '" + refPolicy + "', 26)",
	"INSERT INTO qos_minimum_packet_rate_rules (id, qos_policy_id, min_kpps, direction) VALUES ('5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e02', '" + refPolicy + "', 100, 'any')",
	"INSERT INTO qos_port_policy_bindings (policy_id, port_id) VALUES ('" + refPolicy + "', '" + refPort + "')",
	"INSERT INTO qospolicyrbacs (id, project_id, target_project, action, object_id) VALUES ('5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e03', '" + refProject + "', 'other', 'access_as_shared', '" + refPolicy + "')",
	"INSERT INTO addressgrouprbacs (id, project_id, target_project, action, object_id) VALUES ('5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e04', '" + refProject + "', '*', 'access_as_shared', '" + refGroup + "')",
	"INSERT INTO meteringlabels (project_id, id, name, description, shared) VALUES ('" + refProject + "', '5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e05', 'm', 'd', 1)",
	"INSERT INTO meteringlabelrules (id, direction, remote_ip_prefix, metering_label_id, excluded, source_ip_prefix, destination_ip_prefix) VALUES ('5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e06', 'egress', NULL, '5e0f4bd6-6f30-4d3d-9b57-1a2b3c4d5e05', 0, '10.0.0.0/8', NULL)",
}

// TestImportServices imports QoS, trunks, address groups and metering rows
// of every kind the importers handle and reads them back through the API.
func TestImportServices(t *testing.T) {
	url, _, rep := importWithRows(t, serviceRows)
	for _, c := range rep.NotImported {
		switch c.Table {
		case "qos_policies", "trunks", "address_groups", "meteringlabels", "qospolicyrbacs", "addressgrouprbacs":
			t.Errorf("%s not imported", c.Table)
		}
	}
	set := testutil.ReferenceConfig()
	set["DEFAULT.service_plugins"] += ",metering"
	base := testutil.StartServer(t, testutil.Options{DB: url, Set: set}).URL
	pol := testutil.Do(t, "GET", base+"/v2.0/qos/policies/"+refPolicy, nil).Expect(t, 200).Obj("policy")
	if pol["is_default"] != true || len(pol["rules"].([]any)) != 3 {
		t.Errorf("imported policy %v", pol)
	}
	port := testutil.Do(t, "GET", base+"/v2.0/ports/"+refPort, nil).Expect(t, 200).Obj("port")
	if port["qos_policy_id"] != refPolicy || port["qos_network_policy_id"] != refPolicy || port["resource_request"] == nil {
		t.Errorf("imported port %v %v %v", port["qos_policy_id"], port["qos_network_policy_id"], port["resource_request"])
	}
	r := testutil.Do(t, "GET", base+"/v2.0/rbac-policies?object_id="+refPolicy, nil).Expect(t, 200).List("rbac_policies")
	if len(r) != 1 || r[0]["object_type"] != "qos_policy" {
		t.Errorf("qos RBAC %v", r)
	}
	r = testutil.Do(t, "GET", base+"/v2.0/rbac-policies?object_id="+refGroup, nil).Expect(t, 200).List("rbac_policies")
	if len(r) != 1 || r[0]["object_type"] != "address_group" {
		t.Errorf("address group RBAC %v", r)
	}
	rules := testutil.Do(t, "GET", base+"/v2.0/metering/metering-label-rules", nil).Expect(t, 200).List("metering_label_rules")
	if len(rules) != 1 || rules[0]["source_ip_prefix"] != "10.0.0.0/8" {
		t.Errorf("metering rules %v", rules)
	}
	// the imported state keeps working: the policy is in use, the trunk
	// parent cannot go
	testutil.Do(t, "DELETE", base+"/v2.0/qos/policies/"+refPolicy, nil).Expect(t, 409)
	trunks := testutil.Do(t, "GET", base+"/v2.0/trunks", nil).Expect(t, 200).List("trunks")
	if len(trunks) != 1 {
		t.Fatalf("trunks %v", trunks)
	}
	testutil.Do(t, "DELETE", base+"/v2.0/ports/"+trunks[0]["port_id"].(string), nil).Expect(t, 409)
}
