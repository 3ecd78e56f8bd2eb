package rpc_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func dhcpState() map[string]any {
	return map[string]any{"agent_state": map[string]any{"agent_state": map[string]any{
		"binary": "neutron-dhcp-agent", "host": "net1", "topic": "dhcp_agent", "agent_type": "DHCP agent",
		"availability_zone": "nova", "start_flag": true, "configurations": map[string]any{"dhcp_driver": "neutron.agent.linux.dhcp.Dnsmasq"}}},
		"time": time.Now().UTC().Format("2006-01-02T15:04:05.000000")}
}

// dhcpDevice is the device_id of the DHCP agent on host's port on a
// network, as the agent makes it.
func dhcpDevice(host, netID string) string {
	return "dhcp" + uuid.NewSHA1(uuid.NameSpaceDNS, []byte(host)).String() + "-" + netID
}

func method(name string) func(*oslo.Request) bool {
	return func(r *oslo.Request) bool { return r.Method == name }
}

// TestDHCPAgentFlow: a DHCP subnet schedules its network to the live DHCP
// agent (network_create_end, then subnet_create_end to dhcp_agent.<host>,
// the network's availability zone from the agent); get_network_info and
// get_active_networks_info answer the network with its subnets and ports;
// create_dhcp_port makes a network:dhcp port bound to the agent's host
// (port_create_end follows); release_dhcp_port deletes it
// (port_delete_end); a network delete is network_delete_end on the fanout.
func TestDHCPAgentFlow(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := rpctest.Start(t, url, testutil.Options{Set: ovsConfig})
	agent := rpctest.NewAgent(t, url)
	casts := agent.Listen(t, rpc.TopicDHCPAgent, "net1")
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", dhcpState())
	var nets []map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "get_active_networks_info", map[string]any{"host": "net1", "enable_dhcp_filter": false}), &nets)
	if len(nets) != 0 {
		t.Fatalf("networks of a new agent: %v", nets)
	}
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")
	netID := net["id"].(string)
	sub := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": netID, "cidr": "10.0.0.0/24", "ip_version": 4}}).Expect(t, 201).Obj("subnet")
	casts.Wait(t, "network_create_end", method("network_create_end"))
	casts.Wait(t, "subnet_create_end", method("subnet_create_end"))
	if got := testutil.Do(t, "GET", srv.URL+"/v2.0/networks/"+netID, nil).Obj("network")["availability_zones"].([]any); len(got) != 1 || got[0] != "nova" {
		t.Fatalf("availability_zones: %v", got)
	}
	var info map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.0", "get_network_info", map[string]any{"network_id": netID, "host": "net1"}), &info)
	if info["id"] != netID || len(info["subnets"].([]any)) != 1 {
		t.Fatalf("get_network_info: %v", info)
	}
	var port map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "create_dhcp_port", map[string]any{"host": "net1", "port": map[string]any{"port": map[string]any{
		"admin_state_up": true, "device_id": "dhcp-x-" + netID, "fixed_ips": []any{map[string]any{"subnet_id": sub["id"]}},
		"name": "", "network_id": netID, "project_id": net["project_id"]}}}), &port)
	if port["device_owner"] != "network:dhcp" || port["binding:host_id"] != "net1" || len(port["fixed_ips"].([]any)) != 1 {
		t.Fatalf("create_dhcp_port: %v", port)
	}
	casts.Wait(t, "port_create_end", method("port_create_end"))
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "get_active_networks_info", map[string]any{"host": "net1", "enable_dhcp_filter": false}), &nets)
	if len(nets) != 1 || len(nets[0]["ports"].([]any)) != 1 {
		t.Fatalf("get_active_networks_info: %v", nets)
	}
	// computed attributes travel as the API writes them (the agent reads dns_assignment)
	assign := nets[0]["ports"].([]any)[0].(map[string]any)["dns_assignment"].([]any)
	if len(assign) != 1 || assign[0].(map[string]any)["ip_address"] == nil {
		t.Fatalf("dns_assignment: %v", assign)
	}
	agent.Call(t, rpc.TopicPlugin, "1.5", "dhcp_ready_on_ports", map[string]any{"port_ids": []any{port["id"]}})
	agent.Call(t, rpc.TopicPlugin, "1.0", "release_dhcp_port", map[string]any{"network_id": netID, "device_id": "dhcp-x-" + netID, "host": "net1"})
	testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+port["id"].(string), nil).Expect(t, 404)
	casts.Wait(t, "port_delete_end", method("port_delete_end"))
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/networks/"+netID, nil).Expect(t, 204)
	casts.Wait(t, "network_delete_end", method("network_delete_end"))
}
