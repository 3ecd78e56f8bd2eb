package rpc_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestSecurityGroupInfo: security_group_info_for_devices gives a port's
// device dict, its default group's rules (remote prefixes as
// source_ip_prefix/dest_ip_prefix) and the addresses with MACs of the
// group's members (both ports); security_group_rules_for_devices gives the
// port with its rules.
func TestSecurityGroupInfo(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := rpctest.Start(t, url, testutil.Options{Set: ovsConfig})
	agent := rpctest.NewAgent(t, url)
	net := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "n"})
	apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	p1 := apiPostURL(t, srv.URL, "ports", "port", map[string]any{"network_id": net["id"]})
	apiPostURL(t, srv.URL, "ports", "port", map[string]any{"network_id": net["id"]})
	sg := p1["security_groups"].([]any)[0].(string)
	var info map[string]map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.2", "security_group_info_for_devices", map[string]any{"devices": []any{p1["id"]}}), &info)
	dev := info["devices"][p1["id"].(string)].(map[string]any)
	if dev["device"] != p1["id"] || len(dev["fixed_ips"].([]any)) != 1 || dev["security_group_source_groups"].([]any)[0] != sg {
		t.Fatalf("device: %v", dev)
	}
	if rules := info["security_groups"][sg].([]any); len(rules) != 4 {
		t.Fatalf("rules of the default group: %v", rules)
	}
	if ips := info["sg_member_ips"][sg].(map[string]any)["IPv4"].([]any); len(ips) != 2 || len(ips[0].([]any)) != 2 {
		t.Fatalf("member IPs: %v", ips)
	}
	var ports map[string]map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "security_group_rules_for_devices", map[string]any{"devices": []any{p1["id"]}}), &ports)
	if rules := ports[p1["id"].(string)]["security_group_rules"].([]any); len(rules) != 4 {
		t.Fatalf("security_group_rules_for_devices: %v", rules)
	}
}
