package mechovn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestRouterPortOptions: the LRP options of Zed's _gen_router_port_options. By default a router
// port on a VLAN network has reside-on-redirect-chassis "true" and the gateway port none; with
// enable_distributed_floating_ip and ovn_emit_need_to_frag, a router whose interfaces are all on
// VLAN (or flat) networks has reside-on-redirect-chassis "false" and its gateway port
// redirect-type "bridged", until a Geneve interface joins; the gateway port has gateway_mtu when an
// interface network's MTU is larger than the gateway network's, and follows the gateway network's
// MTU; ovn-db-sync repairs lost options. Before, no LRP had options.
func TestRouterPortOptions(t *testing.T) {
	for _, c := range []struct {
		name  string
		extra map[string]string
		// the vlan interface's and the gateway's options, before and after the Geneve interface
		vlan, gw [2]map[string]string
	}{
		{"defaults", nil,
			[2]map[string]string{{"reside-on-redirect-chassis": "true"}, {"reside-on-redirect-chassis": "true"}},
			[2]map[string]string{nil, nil}},
		{"distributed", map[string]string{"ovn.enable_distributed_floating_ip": "true", "ovn.ovn_emit_need_to_frag": "true"},
			[2]map[string]string{{"reside-on-redirect-chassis": "false"}, {"reside-on-redirect-chassis": "true"}},
			[2]map[string]string{{"redirect-type": "bridged", "gateway_mtu": "1400"}, {"gateway_mtu": "1400"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			nbRemote, sbRemote, nb, _ := memOVN(t)
			conf := ovnConfig(nbRemote, sbRemote)
			conf["DEFAULT.service_plugins"] = "router"
			for k, v := range c.extra {
				conf[k] = v
			}
			srv := testutil.StartServer(t, testutil.Options{Set: conf})
			post := poster(t, srv.URL)
			ext := post("network", "networks", map[string]any{"router:external": true, "mtu": 1400,
				"provider:network_type": "flat", "provider:physical_network": "provider"})
			post("subnet", "subnets", map[string]any{"network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4})
			vlan := post("network", "networks", map[string]any{"provider:network_type": "vlan", "provider:physical_network": "provider"})
			vsub := post("subnet", "subnets", map[string]any{"network_id": vlan["id"], "cidr": "10.1.0.0/24", "ip_version": 4})
			gen := post("network", "networks", map[string]any{})
			gsub := post("subnet", "subnets", map[string]any{"network_id": gen["id"], "cidr": "10.2.0.0/24", "ip_version": 4})
			r := post("router", "routers", map[string]any{"external_gateway_info": map[string]any{"network_id": ext["id"]}})
			// options of the router's LRPs by network
			options := func() map[string]map[string]string {
				var lrps []nbdb.LogicalRouterPort
				_ = nb.List(context.Background(), &lrps)
				out := map[string]map[string]string{}
				for _, p := range lrps {
					if p.ExternalIDs["neutron:router_name"] == r["id"] {
						out[p.ExternalIDs["neutron:network_name"]] = p.Options
					}
				}
				return out
			}
			expect := func(i int, lrps int) {
				t.Helper()
				var got map[string]map[string]string
				ok := poll(5*time.Second, func() bool {
					got = options()
					return len(got) == lrps && equalJSON(got["neutron-"+vlan["id"].(string)], c.vlan[i]) &&
						equalJSON(got["neutron-"+ext["id"].(string)], c.gw[i]) && len(got["neutron-"+gen["id"].(string)]) == 0
				}) == nil
				if !ok {
					t.Errorf("step %d: LRP options %v, want vlan %v, gateway %v, geneve none", i, got, c.vlan[i], c.gw[i])
				}
			}
			testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface", map[string]any{"subnet_id": vsub["id"]}).Expect(t, 200)
			expect(0, 2)
			testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface", map[string]any{"subnet_id": gsub["id"]}).Expect(t, 200)
			expect(1, 3)
			if c.extra == nil {
				return
			}
			// the external network's MTU changes: the gateway's gateway_mtu follows
			testutil.Do(t, "PUT", srv.URL+"/v2.0/networks/"+ext["id"].(string), body("network", map[string]any{"mtu": 1300})).Expect(t, 200)
			c.gw[1] = map[string]string{"gateway_mtu": "1300"}
			expect(1, 3)
			// options lost behind neutrino's back: ovn-db-sync finds and repairs them
			var lrps []nbdb.LogicalRouterPort
			_ = nb.List(context.Background(), &lrps)
			for _, p := range lrps {
				if p.ExternalIDs["neutron:network_name"] == "neutron-"+ext["id"].(string) {
					p.Options = nil
					if _, err := nb.Txn().Update(&p, &p.Options).Commit(context.Background()); err != nil {
						t.Fatal(err)
					}
				}
			}
			var out strings.Builder
			if _, err := driverOf(t, srv).DBSync(context.Background(), true, &out); err != nil || !strings.Contains(out.String(), "options of router port") {
				t.Fatalf("ovn-db-sync: %v:\n%s", err, out.String())
			}
			expect(1, 3)
			out.Reset()
			if _, err := driverOf(t, srv).DBSync(context.Background(), false, &out); err != nil || strings.Contains(out.String(), "options of router port") {
				t.Errorf("ovn-db-sync after the repair: %v:\n%s", err, out.String())
			}
		})
	}
}
