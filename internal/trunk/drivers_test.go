package trunk_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
	"github.com/neutrino-os/neutrino/internal/trunk"
)

// TestTrunkDrivers: a bound parent port can be trunked (and its trunk deleted) only when the one
// trunk driver serving its VIF type (an agent-based one only with its agent on the port's host)
// can trunk bound ports, as TrunkPortValidator.can_be_trunked_or_untrunked; two such drivers are
// a 409 TrunkPluginDriverConflict.
func TestTrunkDrivers(t *testing.T) {
	srv := testutil.StartServer(t, testutil.Options{Set: trunkConfig})
	tp := srv.App.Env.Plugin("trunk").(*trunk.Plugin)
	net := post(t, srv.URL+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
	bound := post(t, srv.URL+"/v2.0/ports", "port", map[string]any{"network_id": net, "binding:host_id": "h1"}).Expect(t, 201).Obj("port")
	vif := bound["binding:vif_type"].(string)
	create := func() *testutil.Response {
		return post(t, srv.URL+"/v2.0/trunks", "trunk", map[string]any{"port_id": bound["id"]})
	}
	if r := create(); r.Status != 409 || r.ErrorType() != "ParentPortInUse" {
		t.Fatalf("bound parent without drivers: %d %s", r.Status, r.Raw)
	}
	tp.RegisterDriver(trunk.Driver{Name: "agent", Interfaces: []string{vif}, SegmentationTypes: []string{"vlan"},
		AgentType: "Open vSwitch agent", CanTrunkBoundPort: true})
	if r := create(); r.Status != 409 || r.ErrorType() != "ParentPortInUse" {
		t.Fatalf("bound parent, the driver's agent not on the host: %d %s", r.Status, r.Raw)
	}
	tp.RegisterDriver(trunk.Driver{Name: "agentless", Interfaces: []string{vif}, SegmentationTypes: []string{"vlan"}, CanTrunkBoundPort: true})
	tr := create().Expect(t, 201).Obj("trunk")
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/trunks/"+tr["id"].(string), nil).Expect(t, 204)
	tp.RegisterDriver(trunk.Driver{Name: "other", Interfaces: []string{vif}, SegmentationTypes: []string{"vlan"}})
	if r := create(); r.Status != 409 || r.ErrorType() != "TrunkPluginDriverConflict" {
		t.Fatalf("two drivers for the port: %d %s", r.Status, r.Raw)
	}
}
