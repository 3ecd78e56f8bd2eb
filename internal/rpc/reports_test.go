package rpc_test

import (
	"context"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func ovsState(start bool) map[string]any {
	return map[string]any{"agent_state": map[string]any{"agent_state": map[string]any{
		"binary": "neutron-openvswitch-agent", "host": "compute1", "topic": "N/A", "agent_type": "Open vSwitch agent",
		"start_flag": start, "configurations": map[string]any{"bridge_mappings": map[string]any{}, "datapath_type": "netdev",
			"integration_bridge": "br-int", "tunnel_types": []any{"vxlan"}, "tunneling_ip": "127.0.0.1", "ovs_hybrid_plug": false},
		"resource_versions": map[string]any{"Port": "1.7", "Network": "1.1", "Subnet": "1.1", "SecurityGroup": "1.5",
			"SecurityGroupRule": "1.2", "AddressGroup": "1.2"}}},
		"time": time.Now().UTC().Format("2006-01-02T15:04:05.000000")}
}

// TestReportState: an agent's report_state over RabbitMQ registers it
// (new, then alive), /v2.0/agents shows it alive, has_alive_neutron_server
// answers true, its resource versions are tracked from the report and from
// report_agent_resource_versions casts, and a report older than the
// server's start gets null.
func TestReportState(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := rpctest.Start(t, url, testutil.Options{})
	agent := rpctest.NewAgent(t, url)
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "has_alive_neutron_server", nil)); got != "true" {
		t.Fatalf("has_alive_neutron_server: %s", got)
	}
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "report_state", ovsState(true))); got != `"new"` {
		t.Fatalf("first report_state: %s", got)
	}
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "report_state", ovsState(false))); got != `"alive"` {
		t.Fatalf("second report_state: %s", got)
	}
	stale := ovsState(false)
	stale["time"] = "2020-01-01T00:00:00.000000"
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "report_state", stale)); got != "null" {
		t.Fatalf("stale report_state: %s", got)
	}
	list := testutil.Do(t, "GET", srv.URL+"/v2.0/agents", nil).Expect(t, 200).List("agents")
	if len(list) != 1 || list[0]["alive"] != true || list[0]["host"] != "compute1" || list[0]["binary"] != "neutron-openvswitch-agent" {
		t.Fatalf("agents: %v", list)
	}
	if v := srv.RPC.Versions.Of("Port"); len(v) != 1 || v[0] != "1.7" {
		t.Fatalf("Port versions: %v", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := agent.T.Cast(ctx, oslo.AdminContext(), oslo.Target{Topic: rpc.TopicResourceVersions, Fanout: true, Version: "1.0"},
		"report_agent_resource_versions", map[string]any{"agent_type": "DHCP agent", "agent_host": "h2", "version_map": map[string]any{"Port": "1.6"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.RPC.Versions.Of("Port")) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("versions after the cast: %v", srv.RPC.Versions.Of("Port"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
