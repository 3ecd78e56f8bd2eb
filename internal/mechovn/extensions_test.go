package mechovn_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestExtensionsFilteredByDriver: with mechanism_drivers = ovn the core plugin serves only the
// aliases of ML2_SUPPORTED_API_EXTENSIONS (Zed's Ml2Plugin._filter_extensions_by_mech_driver):
// /v2.0/extensions lists openvswitch's list minus exactly eleven aliases, and what those
// extensions declare is gone too: the DHCP agent scheduler's sub-resources and the subnet pool
// actions answer 404, agents have no resources_synced, an empty filter value filters nothing and
// a filter of availability zones is a 400 (Neutron's agents query knows none).
// With openvswitch all of it is there.
func TestExtensionsFilteredByDriver(t *testing.T) {
	nbRemote, sbRemote, _, _ := memOVN(t)
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "router,segments"
	ovnSrv := testutil.StartServer(t, testutil.Options{Set: conf})
	ovsConf := map[string]string{}
	for k, v := range conf {
		ovsConf[k] = v
	}
	ovsConf["ml2.mechanism_drivers"] = "openvswitch"
	ovsSrv := testutil.StartServer(t, testutil.Options{Set: ovsConf})

	aliases := func(url string) map[string]bool {
		out := map[string]bool{}
		for _, e := range testutil.Do(t, "GET", url+"/v2.0/extensions", nil).Expect(t, 200).List("extensions") {
			out[e["alias"].(string)] = true
		}
		return out
	}
	ovn, ovs := aliases(ovnSrv.URL), aliases(ovsSrv.URL)
	var dropped, added []string
	for a := range ovs {
		if !ovn[a] {
			dropped = append(dropped, a)
		}
	}
	for a := range ovn {
		if !ovs[a] {
			added = append(added, a)
		}
	}
	sort.Strings(dropped)
	want := []string{"agent-resources-synced", "availability_zone_filter", "dhcp_agent_scheduler", "empty-string-filtering",
		"ip-substring-filtering", "port-mac-override", "port-security-groups-filtering", "rbac-address-group",
		"rbac-subnetpool", "subnet_onboard", "subnetpool-prefix-ops"}
	if len(added) > 0 || !equal(dropped, want) {
		t.Errorf("ovn lists %d aliases, openvswitch %d: ovn drops %v (want %v), adds %v", len(ovn), len(ovs), dropped, want, added)
	}

	for _, s := range []struct {
		url  string
		gone bool
	}{{ovnSrv.URL, true}, {ovsSrv.URL, false}} {
		post := poster(t, s.url)
		net := post("network", "networks", map[string]any{"name": ""})
		post("network", "networks", map[string]any{"name": "named"})
		pool := post("subnetpool", "subnetpools", map[string]any{"name": "p", "prefixes": []string{"10.0.0.0/16"}})
		status := func(method, path string, body any, want int) {
			t.Helper()
			if s.gone {
				want = 404
			}
			testutil.Do(t, method, s.url+path, body).Expect(t, want)
		}
		status("GET", "/v2.0/networks/"+net["id"].(string)+"/dhcp-agents", nil, 200)
		status("PUT", "/v2.0/subnetpools/"+pool["id"].(string)+"/add_prefixes", map[string]any{"prefixes": []string{"10.1.0.0/16"}}, 200)
		status("PUT", "/v2.0/subnetpools/"+pool["id"].(string)+"/remove_prefixes", map[string]any{"prefixes": []string{"10.1.0.0/16"}}, 200)
		status("PUT", "/v2.0/subnetpools/"+pool["id"].(string)+"/onboard_network_subnets", map[string]any{"network_id": net["id"]}, 200)
		// without availability_zone_filter Neutron hands zone filters to its agents query: 400
		if r := testutil.Do(t, "GET", s.url+"/v2.0/availability_zones?resource=router&name=az1", nil); s.gone {
			r.Expect(t, 400)
			if msg := r.Body["NeutronError"].(map[string]any)["message"]; msg != "Invalid input for operation: 'resource, name' is not supported for filtering." {
				t.Errorf("zone filters: %v", msg)
			}
		} else {
			r.Expect(t, 200)
		}
		// "name=": no filter without empty-string-filtering, else the networks named ""
		nets := testutil.Do(t, "GET", s.url+"/v2.0/networks?name=", nil).Expect(t, 200).List("networks")
		if s.gone && len(nets) != 2 || !s.gone && (len(nets) != 1 || nets[0]["id"] != net["id"]) {
			t.Errorf("%s: name= lists %d networks", s.url, len(nets))
		}
	}
	// chassis1's agent exists, its DHCP networks do not
	waitFor(t, 5e9, "the OVN agent", func() bool {
		return testutil.Do(t, "GET", ovnSrv.URL+"/v2.0/agents/chassis1", nil).Status == 200
	})
	if r := testutil.Do(t, "GET", ovnSrv.URL+"/v2.0/agents/chassis1/dhcp-networks", nil).Expect(t, 404); strings.Contains(string(r.Raw), "AgentNotFound") {
		t.Errorf("dhcp-networks of an OVN agent: %s", r.Raw)
	}
	waitFor(t, 5e9, "the OVN agent", func() bool {
		agents := testutil.Do(t, "GET", ovnSrv.URL+"/v2.0/agents", nil).Expect(t, 200).List("agents")
		for _, a := range agents {
			if _, ok := a["resources_synced"]; ok {
				t.Errorf("OVN agent %v has resources_synced", a["id"])
			}
		}
		return len(agents) > 0
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
