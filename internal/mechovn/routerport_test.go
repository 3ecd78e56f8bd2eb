package mechovn_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestRouterPortIPChange: with ovn-router a router interface port's fixed IPs may change through
// the port API (Neutron's OVN L3 plugin has no IP_UPDATE_NOT_ALLOWED_LIST), and its LRP follows,
// as the OVN L3 plugin's _port_update (AFTER_UPDATE: update_router_port) rewrites it. Before, the
// LRP kept the old address.
func TestRouterPortIPChange(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "ovn-router,segments"})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	sub := post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	r := post("router", "routers", map[string]any{"name": "r"})
	pid := testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface",
		map[string]any{"subnet_id": sub["id"]}).Expect(t, 200).Body["port_id"].(string)
	networks := func() string {
		lrp := &nbdb.LogicalRouterPort{Name: "lrp-" + pid}
		if nb.Get(context.Background(), lrp) != nil {
			return "no LRP"
		}
		return fmt.Sprint(lrp.Networks)
	}
	waitFor(t, 5*time.Second, "the LRP", func() bool { return networks() == "[10.0.0.1/24]" })
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"fixed_ips": []any{
		map[string]any{"subnet_id": sub["id"], "ip_address": "10.0.0.77"}}})).Expect(t, 200)
	if err := poll(5*time.Second, func() bool { return networks() == "[10.0.0.77/24]" }); err != nil {
		t.Errorf("LRP networks %s after the port's new address, want [10.0.0.77/24]", networks())
	}
}
