package rpc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// knownCaptureDiffs are the differences from the reference capture kept
// on purpose; each is in docs/compat.md ("RPC compared with the reference
// capture").
var knownCaptureDiffs = map[string]bool{
	// a rule's remote_group_id is left out when null, as Neutron's objects do:
	// the reference's first rule had one, neutrino's first has none
	"bulk_pull: result[0].versioned_object.data.remote_group_id: missing": true,
}

// apiDictDiffs are the differences of the API dicts (ports, networks) that
// replies and notifications carry: neutrino's API dicts, without
// standard_attr_id (hidden by neutrino's API), with dns_name,
// dns_assignment, ip_allocation and resource_request on ports and
// dns_domain and l2_adjacency on networks, without is_default and a null
// vlan_transparent on networks, segment_id on subnets; no agent reads these.
func apiDictDiff(d string) bool {
	for _, k := range []string{".standard_attr_id: missing", ".dns_assignment: extra", ".dns_name: extra", ".ip_allocation: extra",
		".resource_request: extra", ".dns_domain: extra", ".l2_adjacency: extra", ".is_default: missing", ".vlan_transparent: missing",
		".segment_id: extra"} {
		if strings.HasSuffix(d, k) {
			return true
		}
	}
	// a port's binding details depend on whether it was bound when sent;
	// Neutron's also name the bound drivers (bound_drivers), neutrino's not
	return strings.Contains(d, ".binding:vif_details.")
}

// TestCaptureComparison plays the agents' side of the reference capture's
// phases (agents start, network, subnet, DHCP port, VM port, plug, security
// group rule, router with gateway and interface, floating IP, updates and
// deletes) against neutrino, records every reply and every cast or push
// neutrino sends, and compares them method by method with the reference
// capture (testdata/reference-methods.json): version, and the keys and
// value types of the arguments and results; every method of the
// reference must be exercised. A difference must be fixed or listed in
// knownCaptureDiffs and docs/compat.md.
func TestCaptureComparison(t *testing.T) {
	url := rpctest.Vhost(t)
	set := map[string]string{"DEFAULT.service_plugins": "router", "ml2.extension_drivers": "port_security"}
	for k, v := range ovsConfig {
		set[k] = v
	}
	srv := rpctest.Start(t, url, testutil.Options{Set: set})
	agent := rpctest.NewAgent(t, url)
	rec := &recorder{got: map[string]map[string]any{}}
	listenAll(t, agent, rec)
	api := func(method, path string, body map[string]any) map[string]any {
		var b any
		if body != nil {
			b = body
		}
		r := testutil.Do(t, method, srv.URL+"/v2.0/"+path, b)
		if r.Status >= 300 {
			t.Fatalf("%s %s: %d", method, path, r.Status)
		}
		return r.Body
	}
	c := func(topic, version, method string, args map[string]any) []byte {
		return call(t, agent, rec, topic, version, method, args)
	}
	for _, st := range []map[string]any{ovsState(true), dhcpState(), l3State()} {
		st["agent_state"].(map[string]any)["agent_state"].(map[string]any)["host"] = "vm"
		c(rpc.TopicReports, "1.2", "report_state", st)
	}
	c(rpc.TopicReports, "1.2", "has_alive_neutron_server", nil)
	c(rpc.TopicPlugin, "1.4", "tunnel_sync", map[string]any{"host": "vm", "tunnel_ip": "127.0.0.1", "tunnel_type": "vxlan"})
	c(rpc.TopicPlugin, "1.1", "get_active_networks_info", map[string]any{"host": "vm", "enable_dhcp_filter": false})
	c(rpc.TopicL3Plugin, "1.11", "get_host_ha_router_count", map[string]any{"host": "vm"})
	net := api("POST", "networks", map[string]any{"network": map[string]any{"name": "n"}})["network"].(map[string]any)
	netID := net["id"].(string)
	sub := api("POST", "subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "10.91.0.0/24", "ip_version": 4}})["subnet"].(map[string]any)
	c(rpc.TopicPlugin, "1.0", "get_network_info", map[string]any{"network_id": netID, "host": "vm"})
	c(rpc.TopicPlugin, "1.6", "get_network_details", map[string]any{"network": netID, "agent_id": "ovs-agent-vm", "host": "vm"})
	dhcp := map[string]any{}
	decode(t, c(rpc.TopicPlugin, "1.1", "create_dhcp_port", map[string]any{"host": "vm", "port": map[string]any{"port": map[string]any{
		"admin_state_up": true, "device_id": dhcpDevice("vm", netID), "fixed_ips": []any{map[string]any{"subnet_id": sub["id"]}},
		"name": "", "network_id": netID, "project_id": net["project_id"]}}}), &dhcp)
	c(rpc.TopicPlugin, "1.1", "update_dhcp_port", map[string]any{"host": "vm", "port_id": dhcp["id"], "port": map[string]any{"port": map[string]any{
		"network_id": netID, "fixed_ips": []any{map[string]any{"subnet_id": sub["id"]}}}}})
	c(rpc.TopicPlugin, "1.5", "dhcp_ready_on_ports", map[string]any{"port_ids": []any{dhcp["id"]}})
	port := api("POST", "ports", map[string]any{"port": map[string]any{"network_id": netID, "binding:host_id": "vm",
		"device_owner": "compute:nova", "device_id": "vm1"}})["port"].(map[string]any)
	sg := port["security_groups"].([]any)[0]
	c(rpc.TopicPlugin, "1.1", "bulk_pull", map[string]any{"resource_type": "SecurityGroupRule", "version": "1.2", "filter_kwargs": map[string]any{"security_group_id": []any{sg}}})
	c(rpc.TopicPlugin, "1.9", "update_device_list", map[string]any{"devices_up": []any{port["id"]}, "devices_down": []any{}, "agent_id": "ovs-agent-vm", "host": "vm", "refresh_tunnels": true})
	c(rpc.TopicPlugin, "1.9", "update_device_down", map[string]any{"device": port["id"], "agent_id": "ovs-agent-vm", "host": "vm"})
	api("POST", "security-group-rules", map[string]any{"security_group_rule": map[string]any{"security_group_id": sg, "direction": "ingress", "protocol": "icmp", "remote_ip_prefix": "0.0.0.0/0"}})
	api("POST", "security-groups", map[string]any{"security_group": map[string]any{"name": "sg2"}})
	api("PUT", "networks/"+netID, map[string]any{"network": map[string]any{"name": "n2"}})
	api("PUT", "subnets/"+sub["id"].(string), map[string]any{"subnet": map[string]any{"name": "s2"}})
	api("PUT", "ports/"+port["id"].(string), map[string]any{"port": map[string]any{"name": "vm1"}})
	captureRouters(t, api, c, rec, netID, sub["id"], port["id"])

	api("DELETE", "ports/"+port["id"].(string), nil)
	c(rpc.TopicPlugin, "1.0", "release_dhcp_port", map[string]any{"network_id": netID, "device_id": dhcpDevice("vm", netID), "host": "vm"})
	api("DELETE", "subnets/"+sub["id"].(string), nil)
	api("DELETE", "networks/"+netID, nil)
	for _, a := range api("GET", "agents?agent_type=DHCP+agent", nil)["agents"].([]any) {
		api("PUT", "agents/"+a.(map[string]any)["id"].(string), map[string]any{"agent": map[string]any{"admin_state_up": false}})
	}
	time.Sleep(2 * time.Second) // the last casts
	diffs, missed := compareWithReference(loadReference(t), rec)
	var unknown []string
	for _, d := range diffs {
		if !knownCaptureDiffs[d] && !apiDictDiff(d) {
			unknown = append(unknown, d)
		}
	}
	// every method of the reference is exercised (the casts no Zed agent
	// consumes too: they are sent as the reference sends them)
	for _, m := range missed {
		t.Errorf("neutrino sent or answered no %s", m)
	}
	if len(unknown) > 0 {
		t.Errorf("%d differences from the reference capture:\n%s", len(unknown), strings.Join(unknown, "\n"))
	}
}

// captureRouters: a router with a gateway and an interface, the L3
// agent's sync, a floating IP and its status, then their deletion.
func captureRouters(t *testing.T, api func(string, string, map[string]any) map[string]any, c func(string, string, string, map[string]any) []byte,
	rec *recorder, netID string, subID, portID any) {
	ext := api("POST", "networks", map[string]any{"network": map[string]any{"name": "ext", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "extnet"}})["network"].(map[string]any)
	api("POST", "subnets", map[string]any{"subnet": map[string]any{"network_id": ext["id"], "cidr": "172.31.250.0/24", "ip_version": 4, "enable_dhcp": false}})
	r := api("POST", "routers", map[string]any{"router": map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext["id"]}}})["router"].(map[string]any)
	rid := r["id"].(string)
	api("PUT", "routers/"+rid+"/add_router_interface", map[string]any{"subnet_id": subID})
	var ids []string
	decode(t, c(rpc.TopicL3Plugin, "1.9", "get_router_ids", map[string]any{"host": "vm"}), &ids)
	c(rpc.TopicL3Plugin, "1.0", "sync_routers", map[string]any{"host": "vm", "router_ids": ids})
	// an admin moves the router off its agent and back
	l3 := api("GET", "agents?agent_type=L3+agent", nil)["agents"].([]any)[0].(map[string]any)["id"].(string)
	api("DELETE", "agents/"+l3+"/l3-routers/"+rid, nil)
	api("POST", "agents/"+l3+"/l3-routers", map[string]any{"router_id": rid})
	fip := api("POST", "floatingips", map[string]any{"floatingip": map[string]any{"floating_network_id": ext["id"], "port_id": portID}})["floatingip"].(map[string]any)
	c(rpc.TopicL3Plugin, "1.1", "update_floatingip_statuses", map[string]any{"router_id": rid, "fip_statuses": map[string]any{fip["id"].(string): "ACTIVE"}})
	api("DELETE", "floatingips/"+fip["id"].(string), nil)
	api("PUT", "routers/"+rid+"/remove_router_interface", map[string]any{"subnet_id": subID})
	api("DELETE", "routers/"+rid, nil)
	api("DELETE", "networks/"+ext["id"].(string), nil)
	_ = netID
}
