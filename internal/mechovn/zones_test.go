package mechovn_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestAvailabilityZonesFromNB: with ML2/OVN, network and router hints may name the zones of the
// gateway chassis (not those of other chassis), and a network's or router's availability_zones
// are the hints written on its Logical_Switch or Logical_Router, as Zed's
// get_network_availability_zones and the OVN L3 plugin's get_router_availability_zones (before,
// network hints were refused and both lists stayed empty: no DHCP or L3 agent hosts anything). The
// create answers have none yet, as Neutron's, built before the NB write.
func TestAvailabilityZonesFromNB(t *testing.T) {
	nbRemote, sbRemote, _, sb := memOVN(t)
	addChassis(t, sb, "gwaz", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az1:az2")
	addChassis(t, sb, "comp", "provider:br-ex", "availability-zones=az9")
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "router,segments"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	post := poster(t, srv.URL)
	waitZone(t, srv.URL, "az2")
	zonesOf := func(path string, want ...string) {
		t.Helper()
		waitFor(t, 5*time.Second, path+" in "+fmt.Sprint(want), func() bool {
			r := testutil.Do(t, "GET", srv.URL+"/v2.0/"+path, nil).Expect(t, 200)
			for _, o := range r.Body {
				got, ok := o.(map[string]any)["availability_zones"].([]any) // present, even when empty
				return ok && fmt.Sprint(got) == fmt.Sprint(want)
			}
			return false
		})
	}
	net := post("network", "networks", map[string]any{"availability_zone_hints": []string{"az2", "az1"}})
	zonesOf("networks/"+net["id"].(string), "az2", "az1")
	plain := post("network", "networks", map[string]any{})
	zonesOf("networks/" + plain["id"].(string))
	router := post("router", "routers", map[string]any{"availability_zone_hints": []string{"az1"}})
	zonesOf("routers/"+router["id"].(string), "az1")
	// the create answers are built before the NB write, as Neutron's: no zones yet
	if fmt.Sprint(net["availability_zones"], router["availability_zones"]) != "[] []" {
		t.Errorf("create answers: network zones %v, router zones %v", net["availability_zones"], router["availability_zones"])
	}
	zonesOf("routers/" + post("router", "routers", map[string]any{})["id"].(string))
	for _, kind := range []string{"network", "router"} {
		for _, hints := range [][]string{{"az9"}, {"az1", "nowhere"}} {
			testutil.Do(t, "POST", srv.URL+"/v2.0/"+kind+"s", body(kind, map[string]any{"availability_zone_hints": hints})).Expect(t, 404)
		}
	}
}
