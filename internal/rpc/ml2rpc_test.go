package rpc_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

var ovsConfig = map[string]string{"ml2.mechanism_drivers": "openvswitch", "ml2.type_drivers": "flat,vlan,vxlan",
	"ml2.tenant_network_types": "vxlan", "ml2_type_vxlan.vni_ranges": "1:1000", "ml2_type_flat.flat_networks": "*"}

// payloadArgs: a request of method whose arguments encode as want.
func payloadArgs(name, want string) func(*oslo.Request) bool {
	return func(r *oslo.Request) bool {
		b, _ := json.Marshal(r.Args)
		return r.Method == name && string(b) == want
	}
}

func decode(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

func data(o map[string]any) map[string]any {
	d, _ := o["versioned_object.data"].(map[string]any)
	return d
}

// TestOVSAgentFlow: the openvswitch driver binds a port on the host of a
// live OVS agent (vif_type ovs, bridge_name and datapath_type from the
// agent's configuration); the port's creation, binding and status changes
// are pushed as Port 1.7 primitives on neutron-vo-Port-1.7_fanout;
// bulk_pull answers the port with its binding level and segment and the
// network with its segments; get_devices_details_list gives the wiring;
// update_device_list makes the port ACTIVE and DOWN (no port_update for
// those, one for an admin's change; security_groups_member_updated for
// the new port's group); tunnel_sync registers the endpoint and casts
// tunnel_update (tunnel_delete for a host's former address); a port on a host without
// a live agent fails to bind.
func TestOVSAgentFlow(t *testing.T) {
	url := rpctest.Vhost(t)
	srv := rpctest.Start(t, url, testutil.Options{Set: ovsConfig})
	agent := rpctest.NewAgent(t, url)
	pushes := agent.Listen(t, rpc.ResourceTopic("Port", "1.7"), "compute1")
	tunnelUpdates := agent.Listen(t, rpc.TopicTunnelUpdate, "compute1")
	if got := string(agent.Call(t, rpc.TopicReports, "1.2", "report_state", ovsState(true))); got != `"new"` {
		t.Fatalf("report_state: %s", got)
	}
	var tun map[string][]map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.4", "tunnel_sync", map[string]any{"tunnel_ip": "127.0.0.1", "tunnel_type": "vxlan", "host": "compute1"}), &tun)
	if len(tun["tunnels"]) != 1 || tun["tunnels"][0]["ip_address"] != "127.0.0.1" || tun["tunnels"][0]["udp_port"] != 4789.0 {
		t.Fatalf("tunnel_sync: %v", tun)
	}
	tunnelUpdates.Wait(t, "tunnel_update", func(r *oslo.Request) bool { return r.Method == "tunnel_update" })
	// the host's address changes: the old endpoint goes, on a tunnel_delete fanout
	tunnelDeletes := agent.Listen(t, rpc.TopicTunnelDelete, "compute2")
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.4", "tunnel_sync", map[string]any{"tunnel_ip": "127.0.0.2", "tunnel_type": "vxlan", "host": "compute1"}), &tun)
	if len(tun["tunnels"]) != 1 || tun["tunnels"][0]["ip_address"] != "127.0.0.2" {
		t.Fatalf("tunnel_sync from a new address: %v", tun)
	}
	tunnelDeletes.Wait(t, "tunnel_delete", payloadArgs("tunnel_delete", `{"tunnel_ip":"127.0.0.1","tunnel_type":"vxlan"}`))
	tunnelDeletes.OnRequest(func(r *oslo.Request) { t.Errorf("unexpected %s", r.Method) })
	// another host taking an address over removes the first one's, untold
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.4", "tunnel_sync", map[string]any{"tunnel_ip": "127.0.0.2", "tunnel_type": "vxlan", "host": "compute2"}), &tun)
	if len(tun["tunnels"]) != 1 || tun["tunnels"][0]["host"] != "compute2" {
		t.Fatalf("tunnel_sync of an address another host had: %v", tun)
	}
	tunnelDeletes.OnRequest(nil)

	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}).Expect(t, 201)
	portUpdates, sgUpdates := agent.Listen(t, rpc.TopicPortUpdate, "compute1"), agent.Listen(t, rpc.TopicSecurityGroup, "compute1")
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net["id"],
		"binding:host_id": "compute1", "device_owner": "compute:nova", "device_id": "vm1"}}).Expect(t, 201).Obj("port")
	if port["binding:vif_type"] != "ovs" {
		t.Fatalf("binding: %v", port)
	}
	det := port["binding:vif_details"].(map[string]any)
	if det["bridge_name"] != "br-int" || det["datapath_type"] != "netdev" || det["port_filter"] != true || det["connectivity"] != "l2" {
		t.Fatalf("vif_details: %v", det)
	}
	id := port["id"].(string)
	pushed := pushes.Wait(t, "Port push", func(r *oslo.Request) bool {
		var list []map[string]any
		_, _ = r.Args.Get("resource_list", &list)
		return r.Method == "push" && len(list) == 1 && data(list[0])["id"] == id
	})
	if pushed.Version != "1.1" {
		t.Fatalf("push version %s", pushed.Version)
	}

	checkPulls(t, agent, id, net["id"])

	var details []map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.5", "get_devices_details_list", map[string]any{"devices": []any{id, "nope"}, "agent_id": "a", "host": "compute1"}), &details)
	if len(details) != 2 || details[0]["network_type"] != "vxlan" || details[0]["port_id"] != id || len(details[1]) != 1 {
		t.Fatalf("details: %v", details)
	}
	var res map[string][]string
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.9", "update_device_list", map[string]any{"devices_up": []any{id}, "devices_down": []any{},
		"agent_id": "a", "host": "compute1", "refresh_tunnels": true}), &res)
	if len(res["devices_up"]) != 1 || len(res["failed_devices_up"]) != 0 {
		t.Fatalf("update_device_list: %v", res)
	}
	got := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Expect(t, 200).Obj("port")
	if got["status"] != "ACTIVE" {
		t.Fatalf("status after device up: %v", got["status"])
	}
	pushes.Wait(t, "ACTIVE push", func(r *oslo.Request) bool {
		var list []map[string]any
		_, _ = r.Args.Get("resource_list", &list)
		return len(list) == 1 && data(list[0])["status"] == "ACTIVE"
	})
	// port_update: not for the agent's status reports, for an admin's change
	if len(portUpdates.All()) != 0 {
		t.Fatalf("port_update for a status change: %v", portUpdates.All()[0].Method)
	}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+id, map[string]any{"port": map[string]any{"admin_state_up": false}}).Expect(t, 200)
	upd := portUpdates.Wait(t, "port_update", method("port_update"))
	var updPort map[string]any
	if _, err := upd.Args.Get("port", &updPort); err != nil || updPort["id"] != id || updPort["admin_state_up"] != false || string(upd.Args["network_type"]) != `"vxlan"` {
		t.Fatalf("port_update: %v %v %s", updPort, err, upd.Args["network_type"])
	}
	sgUpdates.Wait(t, "security_groups_member_updated", payloadArgs("security_groups_member_updated", `{"security_groups":["`+port["security_groups"].([]any)[0].(string)+`"]}`))
	var down map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.9", "update_device_down", map[string]any{"device": id, "agent_id": "a", "host": "compute1"}), &down)
	if down["exists"] != true || testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Obj("port")["status"] != "DOWN" {
		t.Fatalf("update_device_down: %v", down)
	}

	// the agent dies: no binding on its host any more
	k := agents.From(srv.App.Env)
	k.Now = func() time.Time { return time.Now().Add(time.Hour) }
	dead := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net["id"], "binding:host_id": "compute1"}}).Expect(t, 201).Obj("port")
	if dead["binding:vif_type"] != "binding_failed" {
		t.Fatalf("bound to a dead agent: %v", dead["binding:vif_type"])
	}
}

// checkPulls: bulk_pull answers the port with its binding level and
// segment, the network with its segments.
func checkPulls(t *testing.T, agent *rpctest.Agent, id string, netID any) {
	var ports []map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "bulk_pull", map[string]any{"resource_type": "Port", "version": "1.7",
		"filter_kwargs": map[string]any{"id": []any{id}}}), &ports)
	if len(ports) != 1 || ports[0]["versioned_object.version"] != "1.7" {
		t.Fatalf("bulk_pull: %v", ports)
	}
	levels := data(ports[0])["binding_levels"].([]any)
	seg := data(data(levels[0].(map[string]any))["segment"].(map[string]any))
	if seg["network_type"] != "vxlan" || seg["segmentation_id"] == nil {
		t.Fatalf("binding level: %v", levels)
	}
	var nets []map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "bulk_pull", map[string]any{"resource_type": "Network", "version": "1.1",
		"filter_kwargs": map[string]any{"id": []any{netID}}}), &nets)
	if len(nets) != 1 || len(data(nets[0])["segments"].([]any)) != 1 {
		t.Fatalf("bulk_pull Network: %v", nets)
	}

}
