package dbimport_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// Ids of the recorded reference database's router, floating IP (with a
// port forwarding) and internal network.
const (
	refRouter  = "8b29ac84-1516-41cf-9ba2-0b04d22e71fb"
	refFIP     = "7a13962e-2420-49dd-8140-ee511b74b020"
	refNetwork = "c66536a8-e9f5-460d-a1ba-04f2e6b5506d"
)

// l3Rows give the recorded database QoS policies on the floating IP and
// the router's gateway and an auto-allocated topology (Neutron's schema).
var l3Rows = []string{
	"INSERT INTO qos_fip_policy_bindings (policy_id, fip_id) VALUES ('" + refPolicy + "', '" + refFIP + "')",
	"INSERT INTO qos_router_gw_policy_bindings (policy_id, router_id) VALUES ('" + refPolicy + "', '" + refRouter + "')",
	"INSERT INTO auto_allocated_topologies (project_id, network_id, router_id) VALUES ('" + refProject + "', '" + refNetwork + "', '" + refRouter + "')",
}

// TestImportL3Extras imports the port forwarding, the QoS bindings of a
// floating IP and a router gateway and an auto-allocated topology, and
// reads them back through the API: the policy is in use, the project's
// topology is answered without building one.
func TestImportL3Extras(t *testing.T) {
	url, _, rep := importWithRows(t, l3Rows)
	for _, c := range rep.NotImported {
		t.Errorf("%s (%d rows) not imported", c.Table, c.Rows)
	}
	base := testutil.StartServer(t, testutil.Options{DB: url, Set: testutil.ReferenceConfig()}).URL + "/v2.0"
	fip := testutil.Do(t, "GET", base+"/floatingips/"+refFIP, nil).Expect(t, 200).Obj("floatingip")
	if fip["qos_policy_id"] != refPolicy || len(fip["port_forwardings"].([]any)) != 1 {
		t.Errorf("imported floating IP %v", fip)
	}
	pfs := testutil.Do(t, "GET", base+"/floatingips/"+refFIP+"/port_forwardings", nil).Expect(t, 200).List("port_forwardings")
	if len(pfs) != 1 || pfs[0]["external_port"] != float64(2222) || pfs[0]["internal_port_range"] != "22:22" {
		t.Errorf("imported port forwardings %v", pfs)
	}
	r := testutil.Do(t, "GET", base+"/routers/"+refRouter, nil).Expect(t, 200).Obj("router")
	if gw, _ := r["external_gateway_info"].(map[string]any); gw["qos_policy_id"] != refPolicy {
		t.Errorf("imported router gateway %v", r["external_gateway_info"])
	}
	topo := testutil.Do(t, "GET", base+"/auto-allocated-topology/"+refProject, nil).Expect(t, 200).Obj("auto_allocated_topology")
	if topo["id"] != refNetwork {
		t.Errorf("imported topology %v", topo)
	}
	testutil.Do(t, "DELETE", base+"/qos/policies/"+refPolicy, nil).Expect(t, 409)
}
