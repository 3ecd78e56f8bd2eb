package l3_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestRouterRevisionsByFlavour: the router revisions of one sequence of calls with the router
// plugin (Neutron's L3RouterPlugin, whose DVR and HA create hooks give a new router revision 1)
// and with ovn-router (Neutron's OVNL3RouterPlugin: revision 0). The OVN numbers are the
// reference's (Zed 21.0.0, ML2/OVN, service_plugins ovn-router), the others the routers-gateway
// conformance golden's.
func TestRouterRevisionsByFlavour(t *testing.T) {
	for _, c := range []struct {
		plugins string
		want    []int64 // no gateway; with a gateway; after an interface; snat off; gateway moved; removed
	}{
		{"router", []int64{1, 3, 4, 5, 9, 12}},
		{"ovn-router", []int64{0, 2, 3, 4, 8, 11}},
		{"neutron.services.ovn_l3.plugin.OVNL3RouterPlugin", []int64{0, 2, 3, 4, 8, 11}},
	} {
		t.Run(c.plugins, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"DEFAULT.service_plugins": c.plugins}})
			u := s.URL + "/v2.0"
			var ext [2]any
			for i, cidr := range []string{"198.51.100.0/24", "203.0.113.0/24"} {
				ext[i] = post(t, u+"/networks", "network", map[string]any{"name": "ext", "router:external": true}).Expect(t, 201).Obj("network")["id"]
				post(t, u+"/subnets", "subnet", map[string]any{"network_id": ext[i], "cidr": cidr, "ip_version": 4}).Expect(t, 201)
			}
			net := post(t, u+"/networks", "network", map[string]any{"name": "int"}).Expect(t, 201).Obj("network")["id"]
			sub := post(t, u+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4}).Expect(t, 201).Obj("subnet")["id"]
			var got []int64
			rev := func(r *testutil.Response) {
				got = append(got, int64(r.Obj("router")["revision_number"].(float64)))
			}
			rev(post(t, u+"/routers", "router", map[string]any{"name": "r0"}).Expect(t, 201))
			r := post(t, u+"/routers", "router", map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext[0]}}).Expect(t, 201)
			rev(r)
			ru := u + "/routers/" + r.Obj("router")["id"].(string)
			testutil.Do(t, "PUT", ru+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
			rev(testutil.Do(t, "GET", ru, nil).Expect(t, 200))
			rev(testutil.Do(t, "PUT", ru, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": ext[0], "enable_snat": false}}}).Expect(t, 200))
			rev(testutil.Do(t, "PUT", ru, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{"network_id": ext[1]}}}).Expect(t, 200))
			rev(testutil.Do(t, "PUT", ru, map[string]any{"router": map[string]any{"external_gateway_info": map[string]any{}}}).Expect(t, 200))
			for i := range c.want {
				if i >= len(got) || got[i] != c.want[i] {
					t.Fatalf("revisions %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestOVNFlavourAPI: with ovn-router the router API is the OVN L3 plugin's, as the reference
// (Zed, ML2/OVN) answers: no dvr, l3-ha, l3-flavors, l3_agent_scheduler, extraroute-atomic,
// router-admin-state-down-before-update or l3-port-ip-change-not-allowed; distributed, ha and
// flavor_id are unknown attributes; the l3-agents sub-resource and the add_extraroutes and
// remove_extraroutes actions (extraroute-atomic's) are not served. With the router
// plugin and enable_dvr = false only dvr, router-admin-state-down-before-update (Zed's
// disable_dvr_extension_by_config drops both) and distributed go.
func TestOVNFlavourAPI(t *testing.T) {
	gone := []string{"dvr", "l3-ha", "l3-flavors", "l3_agent_scheduler", "extraroute-atomic",
		"router-admin-state-down-before-update", "l3-port-ip-change-not-allowed"}
	for _, c := range []struct {
		name  string
		set   map[string]string
		gone  []string
		attrs []string // unknown router attributes
	}{
		{"ovn-router", map[string]string{"DEFAULT.service_plugins": "ovn-router"}, gone, []string{"distributed", "ha", "flavor_id"}},
		{"router without dvr", map[string]string{"DEFAULT.service_plugins": "router", "DEFAULT.enable_dvr": "false"},
			[]string{"dvr", "router-admin-state-down-before-update"}, []string{"distributed"}},
		{"router", map[string]string{"DEFAULT.service_plugins": "router"}, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{Set: c.set})
			u := s.URL + "/v2.0"
			have := map[string]bool{}
			for _, e := range testutil.Do(t, "GET", u+"/extensions", nil).Expect(t, 200).List("extensions") {
				have[e["alias"].(string)] = true
			}
			for _, a := range gone {
				if want := !slices.Contains(c.gone, a); have[a] != want {
					t.Errorf("alias %s listed %v, want %v", a, have[a], want)
				}
			}
			for _, a := range []string{"router", "ext-gw-mode", "extraroute", "router_availability_zone", "fip-port-details", "floatingip-pools"} {
				if !have[a] {
					t.Errorf("alias %s not listed", a)
				}
			}
			r := post(t, u+"/routers", "router", map[string]any{"name": "r"}).Expect(t, 201).Obj("router")
			for _, attr := range []string{"distributed", "ha", "flavor_id"} {
				unknown := slices.Contains(c.attrs, attr)
				if _, shown := r[attr]; shown == unknown {
					t.Errorf("router attribute %s shown %v", attr, shown)
				}
				if unknown {
					post(t, u+"/routers", "router", map[string]any{attr: nil}).Expect(t, 400)
				}
			}
			status := 200
			if !have["l3_agent_scheduler"] {
				status = 404
			}
			testutil.Do(t, "GET", u+"/routers/"+r["id"].(string)+"/l3-agents", nil).Expect(t, status)
			// extraroute-atomic's actions
			status = 200
			if !have["extraroute-atomic"] {
				status = 404
			}
			for _, action := range []string{"add_extraroutes", "remove_extraroutes"} {
				testutil.Do(t, "PUT", u+"/routers/"+r["id"].(string)+"/"+action, map[string]any{"router": map[string]any{"routes": []any{}}}).Expect(t, status)
			}
		})
	}
}

// TestOVNFlavourRouterPortIPs: Neutron's OVN L3 plugin has no IP_UPDATE_NOT_ALLOWED_LIST (only
// L3RouterPlugin does), so with ovn-router the port API may change a router interface port's fixed
// IPs; it refuses only an update leaving a router port without any (ServicePortInUse, its
// _port_update BEFORE_UPDATE check, bug 1948457). With the router plugin the change stays a 400.
func TestOVNFlavourRouterPortIPs(t *testing.T) {
	for _, c := range []struct {
		plugins string
		change  int
	}{{"router", 400}, {"ovn-router", 200}} {
		t.Run(c.plugins, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"DEFAULT.service_plugins": c.plugins}})
			u := s.URL + "/v2.0"
			net := post(t, u+"/networks", "network", map[string]any{"name": "int"}).Expect(t, 201).Obj("network")["id"]
			sub := post(t, u+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4}).Expect(t, 201).Obj("subnet")["id"]
			r := post(t, u+"/routers", "router", map[string]any{"name": "r"}).Expect(t, 201).Obj("router")["id"].(string)
			pid := testutil.Do(t, "PUT", u+"/routers/"+r+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200).Body["port_id"].(string)
			ips := []any{map[string]any{"subnet_id": sub, "ip_address": "10.0.0.77"}}
			res := testutil.Do(t, "PUT", u+"/ports/"+pid, map[string]any{"port": map[string]any{"fixed_ips": ips}}).Expect(t, c.change)
			if c.change == 200 {
				if got := res.Obj("port")["fixed_ips"].([]any); len(got) != 1 || got[0].(map[string]any)["ip_address"] != "10.0.0.77" {
					t.Errorf("fixed_ips after the change %v", got)
				}
			}
			res = testutil.Do(t, "PUT", u+"/ports/"+pid, map[string]any{"port": map[string]any{"fixed_ips": []any{}}})
			if c.change == 200 && (res.Status != 409 || res.ErrorType() != "ServicePortInUse" ||
				!strings.Contains(string(res.Raw), "Router port must have at least one IP.")) {
				t.Errorf("router port left without IPs: %d %s", res.Status, res.Raw)
			}
			if c.change == 400 {
				res.Expect(t, 400)
			}
		})
	}
}
