package rpc_test

import (
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func l3State() map[string]any {
	return map[string]any{"agent_state": map[string]any{"agent_state": map[string]any{
		"binary": "neutron-l3-agent", "host": "net1", "topic": "l3_agent", "agent_type": "L3 agent",
		"availability_zone": "nova", "start_flag": true, "configurations": map[string]any{"agent_mode": "legacy"}}},
		"time": time.Now().UTC().Format("2006-01-02T15:04:05.000000")}
}

// TestL3AgentFlow: a router with a gateway and an interface is scheduled
// to the live L3 agent (get_router_ids); sync_routers answers it with its
// gateway port and interfaces and binds those ports to the agent's host;
// a floating IP casts routers_updated to l3_agent.<host>;
// update_floatingip_statuses makes it ACTIVE; get_host_ha_router_count
// counts the HA routers the host's agent hosts; a router delete is
// router_deleted on the fanout.
func TestL3AgentFlow(t *testing.T) {
	url := rpctest.Vhost(t)
	set := map[string]string{"DEFAULT.service_plugins": "router"}
	for k, v := range ovsConfig {
		set[k] = v
	}
	srv := rpctest.Start(t, url, testutil.Options{Set: set})
	agent := rpctest.NewAgent(t, url)
	casts := agent.Listen(t, rpc.TopicL3Agent, "net1")
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", l3State())
	ext := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "ext", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "extnet"})
	apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": ext["id"], "cidr": "172.31.251.0/24", "ip_version": 4, "enable_dhcp": false})
	net := apiPostURL(t, srv.URL, "networks", "network", map[string]any{"name": "in"})
	sub := apiPostURL(t, srv.URL, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	r := apiPostURL(t, srv.URL, "routers", "router", map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext["id"]}})
	rid := r["id"].(string)
	testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+rid+"/add_router_interface", map[string]any{"subnet_id": sub["id"]}).Expect(t, 200)
	casts.Wait(t, "routers_updated", method("routers_updated"))
	var ids []string
	decode(t, agent.Call(t, rpc.TopicL3Plugin, "1.9", "get_router_ids", map[string]any{"host": "net1"}), &ids)
	if len(ids) != 1 || ids[0] != rid {
		t.Fatalf("get_router_ids: %v", ids)
	}
	var routers []map[string]any
	decode(t, agent.Call(t, rpc.TopicL3Plugin, "1.0", "sync_routers", map[string]any{"host": "net1", "router_ids": ids}), &routers)
	if len(routers) != 1 || routers[0]["gw_port"] == nil || len(routers[0]["_interfaces"].([]any)) != 1 {
		t.Fatalf("sync_routers: %v", routers)
	}
	// get_host_ha_router_count counts the host's HA routers only
	haCount := func() string {
		return string(agent.Call(t, rpc.TopicL3Plugin, "1.11", "get_host_ha_router_count", map[string]any{"host": "net1"}))
	}
	if got := haCount(); got != "0" {
		t.Fatalf("get_host_ha_router_count without HA routers: %s", got)
	}
	ha := apiPostURL(t, srv.URL, "routers", "router", map[string]any{"name": "ha", "ha": true})["id"].(string)
	agent.Call(t, rpc.TopicL3Plugin, "1.9", "get_router_ids", map[string]any{"host": "net1"})
	if got := haCount(); got != "1" {
		t.Fatalf("get_host_ha_router_count with an HA router: %s", got)
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/routers/"+ha, nil).Expect(t, 204)
	gw := routers[0]["gw_port"].(map[string]any)["id"].(string)
	if h := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+gw, nil).Obj("port")["binding:host_id"]; h != "net1" {
		t.Fatalf("gateway port bound to %v", h)
	}
	vm := apiPostURL(t, srv.URL, "ports", "port", map[string]any{"network_id": net["id"]})
	n := len(casts.All())
	fip := apiPostURL(t, srv.URL, "floatingips", "floatingip", map[string]any{"floating_network_id": ext["id"], "port_id": vm["id"]})
	casts.Wait(t, "routers_updated for the floating IP", func(*oslo.Request) bool { return len(casts.All()) > n })
	agent.Call(t, rpc.TopicL3Plugin, "1.1", "update_floatingip_statuses", map[string]any{"router_id": rid,
		"fip_statuses": map[string]any{fip["id"].(string): "ACTIVE"}})
	if st := testutil.Do(t, "GET", srv.URL+"/v2.0/floatingips/"+fip["id"].(string), nil).Obj("floatingip")["status"]; st != "ACTIVE" {
		t.Fatalf("floating IP status %v", st)
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/floatingips/"+fip["id"].(string), nil).Expect(t, 204)
	testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+rid+"/remove_router_interface", map[string]any{"subnet_id": sub["id"]}).Expect(t, 200)
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/routers/"+rid, nil).Expect(t, 204)
	casts.Wait(t, "router_deleted", method("router_deleted"))
}

func apiPostURL(t *testing.T, base, coll, key string, body map[string]any) map[string]any {
	t.Helper()
	return testutil.Do(t, "POST", base+"/v2.0/"+coll, map[string]any{key: body}).Expect(t, 201).Obj(key)
}
