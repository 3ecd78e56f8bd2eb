package rpc_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// payloadIs: a request of method whose payload argument encodes as want.
func payloadIs(name, want string) func(*oslo.Request) bool {
	return func(r *oslo.Request) bool { return r.Method == name && string(r.Args["payload"]) == want }
}

// TestAgentSchedulerNotify: the agent scheduler API's manual bindings
// reach the agent's host after the commit: a network added to a DHCP
// agent is network_create_end {"network": {"id"}}, removed
// network_delete_end {"network_id"}; a router added to an L3 agent is the
// call router_added_to_agent [id], removed the cast
// router_removed_from_agent {"router_id"} (auto-scheduling off, so the
// bindings are the API's only).
func TestAgentSchedulerNotify(t *testing.T) {
	url := rpctest.Vhost(t)
	set := map[string]string{"DEFAULT.service_plugins": "router", "DEFAULT.network_auto_schedule": "false", "DEFAULT.router_auto_schedule": "false"}
	for k, v := range ovsConfig {
		set[k] = v
	}
	srv := rpctest.Start(t, url, testutil.Options{Set: set})
	agent := rpctest.NewAgent(t, url)
	dhcpCasts := agent.Listen(t, rpc.TopicDHCPAgent, "net1")
	l3Casts := agent.Listen(t, rpc.TopicL3Agent, "net1")
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", dhcpState())
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", l3State())
	ag := map[string]string{}
	for _, a := range testutil.Do(t, "GET", srv.URL+"/v2.0/agents", nil).Expect(t, 200).List("agents") {
		ag[a["agent_type"].(string)] = a["id"].(string)
	}
	net := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "n"})["id"].(string)
	u := srv.URL + "/v2.0/agents/" + ag["DHCP agent"] + "/dhcp-networks"
	testutil.Do(t, "POST", u, map[string]any{"network_id": net}).Expect(t, 201)
	dhcpCasts.Wait(t, "network_create_end", payloadIs("network_create_end", `{"network":{"id":"`+net+`"},"priority":0}`))
	testutil.Do(t, "DELETE", u+"/"+net, nil).Expect(t, 204)
	dhcpCasts.Wait(t, "network_delete_end", payloadIs("network_delete_end", `{"network_id":"`+net+`","priority":2}`))
	r := apiPostURL(t, srv.URL, "routers", "router", map[string]any{"name": "r"})["id"].(string)
	u = srv.URL + "/v2.0/agents/" + ag["L3 agent"] + "/l3-routers"
	testutil.Do(t, "POST", u, map[string]any{"router_id": r}).Expect(t, 201)
	if q := l3Casts.Wait(t, "router_added_to_agent", payloadIs("router_added_to_agent", `["`+r+`"]`)); !q.IsCall {
		t.Fatal("router_added_to_agent is no call")
	}
	testutil.Do(t, "DELETE", u+"/"+r, nil).Expect(t, 204)
	l3Casts.Wait(t, "router_removed_from_agent", payloadIs("router_removed_from_agent", `{"router_id":"`+r+`"}`))
}
