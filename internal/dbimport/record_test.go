package dbimport_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// recordURL, when set, makes TestRecordReference fill that (empty,
// noauth) reference Neutron with the scenario below and record its
// answers into testdata/answers.json; testdata/record.sh then dumps its
// database next to them.
var recordURL = flag.String("record", "", "fill this reference Neutron (noauth, empty database) and record its answers into testdata/answers.json")

// The projects of the scenario (noauth: the project is the body's
// project_id; requests without one are the admin's fake_project_id).
const (
	projA     = "4a1f0c9e2b7d4e18a3c5d6e7f8091a2b"
	projB     = "5b2e1d0f3c8e4f29b4d6e7f8091a2b3c"
	projC     = "6c3f2e1a4d9f4a3ac5e7f8091a2b3c4d"
	projAdmin = "fake_project_id"
)

// refClient drives the reference's API in the recording.
type refClient struct {
	t    *testing.T
	base string
}

func (c refClient) do(method, path string, body any, want int) map[string]any {
	c.t.Helper()
	r := testutil.Do(c.t, method, c.base+path, body)
	if r.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

// post creates one resource and returns its id.
func (c refClient) post(path, key string, obj map[string]any) string {
	c.t.Helper()
	b := c.do("POST", path, map[string]any{key: obj}, 201)
	m, _ := b[key].(map[string]any)
	id, _ := m["id"].(string)
	return id
}

func (c refClient) put(path, key string, obj map[string]any) map[string]any {
	c.t.Helper()
	return c.do("PUT", path, map[string]any{key: obj}, 200)
}

func (c refClient) tags(collection, id string, tags ...string) {
	c.t.Helper()
	c.do("PUT", "/v2.0/"+collection+"/"+id+"/tags", map[string]any{"tags": tags}, 200)
}

func (c refClient) rbac(objType, id, project, target, action string) {
	c.t.Helper()
	c.post("/v2.0/rbac-policies", "rbac_policy", map[string]any{"object_type": objType, "object_id": id,
		"project_id": project, "target_tenant": target, "action": action})
}

// TestRecordReference fills the reference Neutron given by -record with a
// fixed scenario (every resource kind the import handles, and the L3, QoS
// and trunk resources later importers will handle, in several projects)
// and records the answers of GET list and show of every resource.
func TestRecordReference(t *testing.T) {
	if *recordURL == "" {
		t.Skip("recording only: -record URL (see testdata/record.sh)")
	}
	c := refClient{t: t, base: strings.TrimSuffix(*recordURL, "/")}
	fillScopes(c)
	nets := fillNetworks(c)
	subs := fillSubnets(c, nets)
	sgs := fillSecurityGroups(c)
	ports := fillPorts(c, nets, subs, sgs)
	fillServices(c, nets, subs, ports)
	c.put("/v2.0/quotas/"+projA, "quota", map[string]any{"network": 20, "port": 100, "security_group_rule": 200, "router": 5})
	c.put("/v2.0/quotas/"+projB, "quota", map[string]any{"subnet": 7})
	// let the servers finish what they do after answering (bindings)
	time.Sleep(3 * time.Second)
	answers := recordAnswers(c)
	data, err := json.MarshalIndent(map[string]any{
		"recorded_from": "OpenStack Neutron 21 (Zed), noauth, ML2/openvswitch, neutron-up.sh's configuration",
		"answers":       answers,
	}, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "answers.json"), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d answers", len(answers))
}

var scopes struct{ as4, as6, sp4, sp6, spShared string }

func fillScopes(c refClient) {
	scopes.as4 = c.post("/v2.0/address-scopes", "address_scope", map[string]any{"name": "as-v4", "ip_version": 4, "project_id": projA})
	scopes.as6 = c.post("/v2.0/address-scopes", "address_scope", map[string]any{"name": "as-v6", "ip_version": 6, "project_id": projA})
	c.post("/v2.0/address-scopes", "address_scope", map[string]any{"name": "as-shared", "ip_version": 4, "shared": true})
	c.rbac("address_scope", scopes.as4, projA, projB, "access_as_shared")
	scopes.sp4 = c.post("/v2.0/subnetpools", "subnetpool", map[string]any{"name": "sp-v4", "prefixes": []string{"10.100.0.0/16"},
		"default_prefixlen": 24, "min_prefixlen": 20, "max_prefixlen": 28, "address_scope_id": scopes.as4,
		"project_id": projA, "description": "tenant pool"})
	scopes.sp6 = c.post("/v2.0/subnetpools", "subnetpool", map[string]any{"name": "sp-v6", "prefixes": []string{"2001:db8:1000::/48"},
		"default_prefixlen": 64, "address_scope_id": scopes.as6, "project_id": projA, "default_quota": 50})
	scopes.spShared = c.post("/v2.0/subnetpools", "subnetpool", map[string]any{"name": "sp-shared",
		"prefixes": []string{"172.16.0.0/16", "172.17.0.0/16"}, "default_prefixlen": 26, "shared": true, "is_default": true})
	c.rbac("subnetpool", scopes.sp4, projA, projB, "access_as_shared")
	c.tags("subnetpools", scopes.sp4, "pool", "v4")
	c.put("/v2.0/subnetpools/"+scopes.sp6, "subnetpool", map[string]any{"description": "v6 pool"})
}

type netIDs struct{ a1, a2, vlan, ext, shared, b1 string }

func fillNetworks(c refClient) netIDs {
	var n netIDs
	net := func(obj map[string]any) string { return c.post("/v2.0/networks", "network", obj) }
	n.a1 = net(map[string]any{"name": "net-a1", "project_id": projA, "description": "first", "dns_domain": "example.org."})
	n.a2 = net(map[string]any{"name": "net-a2", "project_id": projA, "port_security_enabled": false, "mtu": 1400, "admin_state_up": false})
	n.vlan = net(map[string]any{"name": "net-vlan", "provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 150})
	net(map[string]any{"name": "net-vlan-auto", "provider:network_type": "vlan", "provider:physical_network": "physnet1"})
	net(map[string]any{"name": "net-flat", "provider:network_type": "flat", "provider:physical_network": "physnet2"})
	net(map[string]any{"name": "net-geneve", "provider:network_type": "geneve", "provider:segmentation_id": 77})
	net(map[string]any{"name": "net-multi", "segments": []any{
		map[string]any{"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 160},
		map[string]any{"provider:network_type": "vxlan", "provider:segmentation_id": 5000}}})
	n.ext = net(map[string]any{"name": "net-ext", "router:external": true, "is_default": true,
		"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 170})
	ext2 := net(map[string]any{"name": "net-ext2"})
	c.rbac("network", ext2, projAdmin, projC, "access_as_external")
	n.shared = net(map[string]any{"name": "net-shared", "shared": true, "description": "for everyone"})
	n.b1 = net(map[string]any{"name": "net-b1", "project_id": projB})
	net(map[string]any{"name": "net-c", "project_id": projC, "availability_zone_hints": []string{}})
	gone := net(map[string]any{"name": "net-gone", "project_id": projC})
	c.do("DELETE", "/v2.0/networks/"+gone, nil, 204)
	c.rbac("network", n.a1, projA, projB, "access_as_shared")
	c.tags("networks", n.a1, "red", "blue")
	c.tags("networks", n.shared, "shared")
	c.put("/v2.0/networks/"+n.a1, "network", map[string]any{"description": "first network"})
	c.put("/v2.0/networks/"+n.b1, "network", map[string]any{"name": "net-b1-renamed"})
	c.put("/v2.0/networks/"+n.b1, "network", map[string]any{"name": "net-b1"})
	return n
}

type subnetIDs struct{ a1, a1v6, a1v6s, a2, b1, ext, vlan string }

func fillSubnets(c refClient, n netIDs) subnetIDs {
	var s subnetIDs
	sub := func(obj map[string]any) string { return c.post("/v2.0/subnets", "subnet", obj) }
	s.a1 = sub(map[string]any{"name": "sub-a1", "network_id": n.a1, "cidr": "10.1.0.0/24", "ip_version": 4, "project_id": projA,
		"description": "v4", "allocation_pools": []any{
			map[string]any{"start": "10.1.0.100", "end": "10.1.0.150"}, map[string]any{"start": "10.1.0.10", "end": "10.1.0.20"}},
		"dns_nameservers": []string{"8.8.8.8", "1.1.1.1"},
		"host_routes": []any{map[string]any{"destination": "10.2.0.0/16", "nexthop": "10.1.0.254"},
			map[string]any{"destination": "10.3.0.0/16", "nexthop": "10.1.0.253"}}})
	s.a1v6 = sub(map[string]any{"name": "sub-a1-v6", "network_id": n.a1, "cidr": "2001:db8:1::/64", "ip_version": 6,
		"ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac", "project_id": projA})
	s.a1v6s = sub(map[string]any{"name": "sub-a1-v6-stateful", "network_id": n.a1, "cidr": "2001:db8:2::/64", "ip_version": 6,
		"ipv6_ra_mode": "dhcpv6-stateful", "ipv6_address_mode": "dhcpv6-stateful", "project_id": projA,
		"dns_nameservers": []string{"2001:4860:4860::8888"}})
	s.a2 = sub(map[string]any{"name": "sub-a2", "network_id": n.a2, "subnetpool_id": scopes.sp4, "prefixlen": 26, "ip_version": 4, "project_id": projA})
	sub(map[string]any{"name": "sub-a2-v6", "network_id": n.a2, "subnetpool_id": scopes.sp6, "ip_version": 6,
		"ipv6_address_mode": "slaac", "project_id": projA})
	sub(map[string]any{"name": "sub-shared", "network_id": n.shared, "cidr": "192.168.50.0/24", "ip_version": 4,
		"gateway_ip": nil, "enable_dhcp": false})
	s.ext = sub(map[string]any{"name": "sub-ext", "network_id": n.ext, "cidr": "203.0.113.0/24", "ip_version": 4, "enable_dhcp": false})
	s.b1 = sub(map[string]any{"name": "sub-b1", "network_id": n.b1, "cidr": "10.1.0.0/24", "ip_version": 4, "project_id": projB,
		"service_types": []string{"compute:nova"}})
	s.vlan = sub(map[string]any{"name": "sub-vlan", "network_id": n.vlan, "use_default_subnetpool": true, "ip_version": 4})
	c.tags("subnets", s.a1, "v4")
	c.put("/v2.0/subnets/"+s.a1, "subnet", map[string]any{"description": "v4 subnet"})
	return s
}

type sgIDs struct{ web, stateless, b string }

func fillSecurityGroups(c refClient) sgIDs {
	var g sgIDs
	g.web = c.post("/v2.0/security-groups", "security_group", map[string]any{"name": "web", "description": "web servers", "project_id": projA})
	g.stateless = c.post("/v2.0/security-groups", "security_group", map[string]any{"name": "stateless", "stateful": false, "project_id": projA})
	g.b = c.post("/v2.0/security-groups", "security_group", map[string]any{"name": "b-group", "project_id": projB})
	rule := func(obj map[string]any) {
		c.post("/v2.0/security-group-rules", "security_group_rule", obj)
	}
	rule(map[string]any{"security_group_id": g.web, "direction": "ingress", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
		"remote_ip_prefix": "0.0.0.0/0", "project_id": projA})
	rule(map[string]any{"security_group_id": g.web, "direction": "ingress", "protocol": "tcp", "port_range_min": 443, "port_range_max": 443,
		"remote_ip_prefix": "10.0.0.0/8", "project_id": projA, "description": "https inside"})
	rule(map[string]any{"security_group_id": g.web, "direction": "ingress", "protocol": "icmp", "remote_group_id": g.web, "project_id": projA})
	rule(map[string]any{"security_group_id": g.web, "direction": "ingress", "ethertype": "IPv6", "protocol": "tcp",
		"port_range_min": 22, "port_range_max": 22, "remote_ip_prefix": "2001:db8::/32", "project_id": projA, "description": "ssh v6"})
	rule(map[string]any{"security_group_id": g.stateless, "direction": "egress", "protocol": "udp", "port_range_min": 53,
		"port_range_max": 53, "remote_ip_prefix": "192.0.2.53/32", "project_id": projA})
	rule(map[string]any{"security_group_id": g.b, "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
		"port_range_max": 22, "remote_group_id": g.b, "project_id": projB})
	c.rbac("security_group", g.web, projA, projB, "access_as_shared")
	c.tags("security-groups", g.web, "web")
	c.put("/v2.0/security-groups/"+g.b, "security_group", map[string]any{"description": "project b's group"})
	// project C's default group (created on its first security group read)
	c.do("GET", "/v2.0/security-groups?project_id="+projC, nil, 200)
	return g
}

type portIDs struct{ a1, a1b, trunkParent, trunkSub string }

func fillPorts(c refClient, n netIDs, s subnetIDs, g sgIDs) portIDs {
	var p portIDs
	port := func(obj map[string]any) string { return c.post("/v2.0/ports", "port", obj) }
	p.a1 = port(map[string]any{"name": "port-a1", "network_id": n.a1, "project_id": projA, "mac_address": "fa:16:3e:11:22:33",
		"fixed_ips":             []any{map[string]any{"subnet_id": s.a1, "ip_address": "10.1.0.15"}, map[string]any{"subnet_id": s.a1v6s}},
		"allowed_address_pairs": []any{map[string]any{"ip_address": "10.1.0.200"}, map[string]any{"ip_address": "10.9.0.0/24", "mac_address": "fa:16:3e:00:00:01"}},
		"extra_dhcp_opts": []any{map[string]any{"opt_name": "tftp-server", "opt_value": "10.1.0.1"},
			map[string]any{"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
			map[string]any{"opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6}},
		"security_groups": []string{g.web}, "binding:host_id": "compute-1", "binding:profile": map[string]any{"foo": "bar"},
		"device_id": "9b1b4a5e-3f0e-4c1d-8a2b-0c9d8e7f6a51", "device_owner": "compute:nova", "description": "the first port",
		"dns_name": "web-1"})
	p.a1b = port(map[string]any{"name": "port-a1-stateless", "network_id": n.a1, "project_id": projA,
		"security_groups": []string{g.stateless}, "fixed_ips": []any{map[string]any{"subnet_id": s.a1}}})
	port(map[string]any{"name": "port-a2", "network_id": n.a2, "project_id": projA})
	port(map[string]any{"name": "port-a3", "network_id": n.a1, "project_id": projA, "port_security_enabled": false,
		"security_groups": []string{}, "fixed_ips": []any{}})
	b1 := port(map[string]any{"name": "port-b1", "network_id": n.b1, "project_id": projB, "device_owner": "compute:nova", "device_id": "vm-b"})
	port(map[string]any{"name": "port-b-on-a1", "network_id": n.a1, "project_id": projB, "security_groups": []string{g.web}})
	port(map[string]any{"name": "port-c-shared-net", "network_id": n.shared, "project_id": projC})
	port(map[string]any{"name": "port-direct", "network_id": n.vlan, "binding:vnic_type": "direct", "binding:host_id": "compute-2",
		"binding:profile": map[string]any{"pci_slot": "0000:05:00.1", "physical_network": "physnet1"}})
	p.trunkParent = port(map[string]any{"name": "trunk-parent", "network_id": n.a1, "project_id": projA})
	p.trunkSub = port(map[string]any{"name": "trunk-sub", "network_id": n.a2, "project_id": projA})
	c.tags("ports", p.a1, "frontend", "a")
	c.put("/v2.0/ports/"+p.a1, "port", map[string]any{"description": "the first port, updated"})
	c.put("/v2.0/ports/"+b1, "port", map[string]any{"admin_state_up": false})
	return p
}

// fillServices creates the resources of the L3, QoS, trunk and address
// group plugins, for the importers that will handle them.
func fillServices(c refClient, n netIDs, s subnetIDs, p portIDs) {
	r := c.post("/v2.0/routers", "router", map[string]any{"name": "router-a", "project_id": projA,
		"external_gateway_info": map[string]any{"network_id": n.ext}})
	c.do("PUT", "/v2.0/routers/"+r+"/add_router_interface", map[string]any{"subnet_id": s.a1}, 200)
	c.post("/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": n.ext, "project_id": projA,
		"port_id": p.a1, "fixed_ip_address": "10.1.0.15", "description": "web"})
	fip2 := c.post("/v2.0/floatingips", "floatingip", map[string]any{"floating_network_id": n.ext, "project_id": projA})
	b := c.do("GET", "/v2.0/ports/"+p.a1b, nil, 200)
	ip := b["port"].(map[string]any)["fixed_ips"].([]any)[0].(map[string]any)["ip_address"]
	c.post("/v2.0/floatingips/"+fip2+"/port_forwardings", "port_forwarding", map[string]any{"internal_port_id": p.a1b,
		"internal_ip_address": ip, "internal_port": 22, "external_port": 2222, "protocol": "tcp", "description": "ssh"})
	q := c.post("/v2.0/qos/policies", "policy", map[string]any{"name": "qos-a", "project_id": projA, "description": "10 Mbit/s"})
	c.post("/v2.0/qos/policies/"+q+"/bandwidth_limit_rules", "bandwidth_limit_rule", map[string]any{"max_kbps": 10000, "max_burst_kbps": 1000})
	c.put("/v2.0/networks/"+n.a2, "network", map[string]any{"qos_policy_id": q})
	c.post("/v2.0/trunks", "trunk", map[string]any{"name": "trunk-a", "port_id": p.trunkParent, "project_id": projA,
		"sub_ports": []any{map[string]any{"port_id": p.trunkSub, "segmentation_type": "vlan", "segmentation_id": 101}}})
	c.post("/v2.0/address-groups", "address_group", map[string]any{"name": "ag-a", "project_id": projA,
		"addresses": []string{"10.0.0.0/24", "192.0.2.7/32"}})
}

// recorded is one GET and the reference's answer.
type recorded struct {
	Path   string         `json:"path"`
	Status int            `json:"status"`
	Body   map[string]any `json:"body"`
}

// collections are recorded as a list and a show of each member.
var collections = []struct{ path, key string }{
	{"networks", "networks"}, {"subnets", "subnets"}, {"ports", "ports"},
	{"security-groups", "security_groups"}, {"security-group-rules", "security_group_rules"},
	{"address-scopes", "address_scopes"}, {"subnetpools", "subnetpools"}, {"rbac-policies", "rbac_policies"},
	{"network-ip-availabilities", "network_ip_availabilities"}, {"segments", "segments"},
	{"routers", "routers"}, {"floatingips", "floatingips"}, {"qos/policies", "policies"},
	{"trunks", "trunks"}, {"address-groups", "address_groups"},
}

func recordAnswers(c refClient) []recorded {
	var out []recorded
	get := func(path string) map[string]any {
		r := testutil.Do(c.t, "GET", c.base+path, nil)
		out = append(out, recorded{Path: path, Status: r.Status, Body: r.Body})
		return r.Body
	}
	for _, col := range collections {
		body := get("/v2.0/" + col.path)
		list, _ := body[col.key].([]any)
		var ids []string
		for _, e := range list {
			m, _ := e.(map[string]any)
			id, _ := m["id"].(string)
			if id == "" {
				id, _ = m["network_id"].(string)
			}
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			get("/v2.0/" + col.path + "/" + id)
			if col.path == "floatingips" {
				get(fmt.Sprintf("/v2.0/floatingips/%s/port_forwardings", id))
			}
			if col.path == "qos/policies" {
				get(fmt.Sprintf("/v2.0/qos/policies/%s/bandwidth_limit_rules", id))
			}
		}
	}
	get("/v2.0/quotas")
	for _, p := range []string{projA, projB, projC, projAdmin} {
		get("/v2.0/quotas/" + p)
		get("/v2.0/quotas/" + p + "/details")
	}
	return out
}
