package rpc_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// reporter keeps fake agents alive: their state reports every 300 ms
// until stopped by host.
type reporter struct {
	mu      sync.Mutex
	states  map[string]map[string]any
	stopped chan struct{}
}

func report(t *testing.T, agent *rpctest.Agent, states ...map[string]any) *reporter {
	r := &reporter{states: map[string]map[string]any{}, stopped: make(chan struct{})}
	for _, st := range states {
		in := st["agent_state"].(map[string]any)["agent_state"].(map[string]any)
		r.states[in["agent_type"].(string)+"/"+in["host"].(string)] = st
		agent.Call(t, rpc.TopicReports, "1.2", "report_state", st)
		in["start_flag"] = false
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-r.stopped:
				return
			case <-time.After(300 * time.Millisecond):
			}
			r.mu.Lock()
			for _, st := range r.states {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_, _ = agent.T.Call(ctx, oslo.AdminContext(), oslo.Target{Topic: rpc.TopicReports, Version: "1.2"}, "report_state", st)
				cancel()
			}
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { close(r.stopped); <-done })
	return r
}

// kill stops an agent's reports (it dies).
func (r *reporter) kill(key string) {
	r.mu.Lock()
	delete(r.states, key)
	r.mu.Unlock()
}

func state(base map[string]any, host string, conf map[string]any) map[string]any {
	in := base["agent_state"].(map[string]any)["agent_state"].(map[string]any)
	in["host"] = host
	for k, v := range conf {
		in["configurations"].(map[string]any)[k] = v
	}
	return base
}

// TestAgentFailover: with agent_down_time 2 s, the networks of a DHCP
// agent silent for 4 s go to the live DHCP agent (network_create_end),
// its DHCP port reserved (device_id reserved_dhcp_port) for the new agent
// to take over with update_dhcp_port (the dead agent gets NetworkNotFound); the network
// had gone to the least loaded agent (by its reported networks count), a
// network with availability zone hints to the agent of its zone;
// with allow_automatic_l3agent_failover the router of a dead L3 agent goes
// to the live one (router_removed_from_agent to the dead agent's queue,
// router_added_to_agent to the live one); removing the network from the
// live agent through the API reserves its port again. On every engine.
func TestAgentFailover(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) { testAgentFailover(t, e.URL(t)) })
	}
}

func testAgentFailover(t *testing.T, dbURL string) {
	url := rpctest.Vhost(t)
	set := map[string]string{"DEFAULT.service_plugins": "router", "DEFAULT.agent_down_time": "2", "DEFAULT.allow_automatic_l3agent_failover": "true"}
	for k, v := range ovsConfig {
		set[k] = v
	}
	srv := rpctest.Start(t, url, testutil.Options{DB: dbURL, Set: set})
	agent := rpctest.NewAgent(t, url)
	castsA, dhcpB := agent.Listen(t, rpc.TopicDHCPAgent, "host-a"), agent.Listen(t, rpc.TopicDHCPAgent, "host-b")
	l3A, l3B := agent.Listen(t, rpc.TopicL3Agent, "host-a"), agent.Listen(t, rpc.TopicL3Agent, "host-b")
	// host-a (zone az2) reports more networks than host-b: host-b gets the
	// network, host-a one whose hints name az2
	dhcpA := state(dhcpState(), "host-a", map[string]any{"networks": 3})
	dhcpA["agent_state"].(map[string]any)["agent_state"].(map[string]any)["availability_zone"] = "az2"
	rep := report(t, agent, dhcpA, state(dhcpState(), "host-b", map[string]any{"networks": 0}),
		state(l3State(), "host-a", nil), state(l3State(), "host-b", nil))
	zoned := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "zoned", "availability_zone_hints": []any{"az2"}})["id"].(string)
	apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": zoned, "cidr": "10.1.0.0/24", "ip_version": 4})
	castsA.Wait(t, "network_create_end of the zoned network on host-a", payloadIs("network_create_end", `{"network":{"id":"`+zoned+`"},"priority":0}`))
	net := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "n"})
	netID := net["id"].(string)
	sub := apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": netID, "cidr": "10.0.0.0/24", "ip_version": 4})
	dhcpB.Wait(t, "network_create_end on host-b", payloadIs("network_create_end", `{"network":{"id":"`+netID+`"},"priority":0}`))
	var port map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "create_dhcp_port", map[string]any{"host": "host-b", "port": map[string]any{"port": map[string]any{
		"admin_state_up": true, "device_id": dhcpDevice("host-b", netID), "fixed_ips": []any{map[string]any{"subnet_id": sub["id"]}},
		"name": "", "network_id": netID, "project_id": net["project_id"]}}}), &port)
	// the router goes to host-a (both host none: host order)
	r := apiPostURL(t, srv.URL, "routers", "router", map[string]any{"name": "r"})["id"].(string)
	l3A.Wait(t, "routers_updated on host-a", method("routers_updated"))

	rep.kill("DHCP agent/host-b")
	rep.kill("L3 agent/host-a")
	castsA.Wait(t, "network_create_end on host-a", payloadIs("network_create_end", `{"network":{"id":"`+netID+`"},"priority":0}`))
	if got := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+port["id"].(string), nil).Expect(t, 200).Obj("port")["device_id"]; got != "reserved_dhcp_port" {
		t.Fatalf("DHCP port of the dead agent: device_id %v", got)
	}
	for _, q := range dhcpB.All() {
		if q.Method == "network_delete_end" {
			t.Fatal("the dead agent was told of the removal")
		}
	}
	upd := func(host string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return agent.T.Call(ctx, oslo.AdminContext(), oslo.Target{Topic: rpc.TopicPlugin, Version: "1.1"}, "update_dhcp_port", map[string]any{"host": host, "port_id": port["id"],
			"port": map[string]any{"port": map[string]any{"network_id": netID, "device_id": dhcpDevice(host, netID), "fixed_ips": []any{map[string]any{"subnet_id": sub["id"]}}}}})
	}
	if got, err := upd("host-b"); err == nil || !strings.Contains(err.Error(), "NetworkNotFound") {
		t.Fatalf("update_dhcp_port from the agent no longer hosting the network: %s %v", got, err)
	}
	var taken map[string]any
	raw, err := upd("host-a")
	if err != nil {
		t.Fatal(err)
	}
	decode(t, raw, &taken)
	if taken["device_id"] != dhcpDevice("host-a", netID) || taken["binding:host_id"] != "host-a" || taken["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] != port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"] {
		t.Fatalf("reserved port taken over: %v", taken)
	}
	l3A.Wait(t, "router_removed_from_agent on host-a", payloadIs("router_removed_from_agent", `{"router_id":"`+r+`"}`))
	if q := l3B.Wait(t, "router_added_to_agent on host-b", payloadIs("router_added_to_agent", `["`+r+`"]`)); !q.IsCall {
		t.Fatal("router_added_to_agent is no call")
	}
	agents := testutil.Do(t, "GET", srv.URL+"/v2.0/routers/"+r+"/l3-agents", nil).Expect(t, 200).List("agents")
	if len(agents) != 1 || agents[0]["host"] != "host-b" {
		t.Fatalf("router's agents after failover: %v", agents)
	}
	// the API's removal reserves the port too
	var aID string
	for _, a := range testutil.Do(t, "GET", srv.URL+"/v2.0/networks/"+netID+"/dhcp-agents", nil).Expect(t, 200).List("agents") {
		aID = a["id"].(string)
		if a["host"] != "host-a" {
			t.Fatalf("network's agents after failover: %v", a)
		}
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/agents/"+aID+"/dhcp-networks/"+netID, nil).Expect(t, 204)
	if got := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+port["id"].(string), nil).Expect(t, 200).Obj("port")["device_id"]; got != "reserved_dhcp_port" {
		t.Fatalf("DHCP port after the API's removal: device_id %v", got)
	}
}
