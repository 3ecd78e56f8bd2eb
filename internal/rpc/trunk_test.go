package rpc_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// trunkCall calls the trunk RPC as the Open vSwitch agent's TrunkStub does (topic and namespace
// trunk, 1.0).
func trunkCall(t *testing.T, a *rpctest.Agent, method string, args map[string]any) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := a.T.Call(ctx, oslo.AdminContext(), oslo.Target{Topic: rpc.TopicTrunk, Namespace: "trunk", Version: "1.0"}, method, args)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res
}

// TestOVSTrunkRPC: with the openvswitch mechanism driver and the trunk plugin, the Open vSwitch
// trunk driver accepts a trunk on a bound parent; a trunk parent bound afterwards gets its trunk
// bridge tbr-<id> as vif_details bridge_name; trunk and sub-port creates and deletes are pushed
// as Trunk 1.1 / SubPort 1.0 on their fanouts; get_trunk_details (a pull of Trunk by parent port)
// answers the trunk; update_subport_bindings binds the sub-port to the parent's host as a
// trunk:subport, the trunk BUILD, and answers {trunk: [port]}; update_trunk_status sets ACTIVE; a
// sub-port whose binding fails sets the trunk ERROR.
func TestOVSTrunkRPC(t *testing.T) {
	url := rpctest.Vhost(t)
	conf := maps.Clone(ovsConfig)
	conf["DEFAULT.service_plugins"] = "trunk"
	srv := rpctest.Start(t, url, testutil.Options{Set: conf})
	agent := rpctest.NewAgent(t, url)
	trunks := agent.Listen(t, rpc.ResourceTopic("Trunk", "1.1"), "compute1")
	subports := agent.Listen(t, rpc.ResourceTopic("SubPort", "1.0"), "compute1")
	state := ovsState(true)
	rv := state["agent_state"].(map[string]any)["agent_state"].(map[string]any)["resource_versions"].(map[string]any)
	rv["Trunk"], rv["SubPort"] = "1.1", "1.0"
	agent.Call(t, rpc.TopicReports, "1.2", "report_state", state)

	post := func(coll, key string, body map[string]any) map[string]any {
		return testutil.Do(t, "POST", srv.URL+"/v2.0/"+coll, map[string]any{key: body}).Expect(t, 201).Obj(key)
	}
	net := post("networks", "network", map[string]any{"name": "n"})
	net2 := post("networks", "network", map[string]any{"name": "n2"})
	bound := post("ports", "port", map[string]any{"network_id": net["id"], "binding:host_id": "compute1"})
	if bound["binding:vif_type"] != "ovs" {
		t.Fatalf("parent not bound: %v", bound)
	}
	t1 := post("trunks", "trunk", map[string]any{"port_id": bound["id"]}) // refused without the driver
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/trunks/"+t1["id"].(string), nil).Expect(t, 204)
	trunks.Wait(t, "Trunk deleted push", func(r *oslo.Request) bool { return r.Method == "push" && pushEvent(r) == "deleted" })

	parent := post("ports", "port", map[string]any{"network_id": net["id"]})
	sub := post("ports", "port", map[string]any{"network_id": net2["id"]})
	tr := post("trunks", "trunk", map[string]any{"port_id": parent["id"],
		"sub_ports": []any{map[string]any{"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 100}}})
	id := tr["id"].(string)
	push := trunks.Wait(t, "Trunk created push", func(r *oslo.Request) bool {
		return r.Method == "push" && pushEvent(r) == "created" && data(first(r))["id"] == id
	})
	if d := data(first(push)); first(push)["versioned_object.version"] != "1.1" || d["port_id"] != parent["id"] || d["status"] != "DOWN" ||
		len(d["sub_ports"].([]any)) != 1 || data(d["sub_ports"].([]any)[0].(map[string]any))["trunk_id"] != id {
		t.Fatalf("Trunk push: %v", push.Args)
	}
	parent = testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+parent["id"].(string), map[string]any{"port": map[string]any{"binding:host_id": "compute1"}}).
		Expect(t, 200).Obj("port")
	if br := parent["binding:vif_details"].(map[string]any)["bridge_name"]; br != "tbr-"+id[:10] {
		t.Fatalf("trunk parent's bridge_name %v", br)
	}

	var details map[string]any
	decode(t, agent.Call(t, rpc.TopicPlugin, "1.1", "pull", map[string]any{"resource_type": "Trunk", "version": "1.1", "resource_id": parent["id"]}), &details)
	if data(details)["id"] != id {
		t.Fatalf("get_trunk_details: %v", details)
	}
	var bindings map[string][]map[string]any
	decode(t, trunkCall(t, agent, "update_subport_bindings", map[string]any{"subports": data(details)["sub_ports"]}), &bindings)
	if len(bindings[id]) != 1 || bindings[id][0]["id"] != sub["id"] || bindings[id][0]["mac_address"] != sub["mac_address"] {
		t.Fatalf("update_subport_bindings: %v", bindings)
	}
	got := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+sub["id"].(string), nil).Expect(t, 200).Obj("port")
	if got["binding:host_id"] != "compute1" || got["binding:vif_type"] != "ovs" || got["device_owner"] != "trunk:subport" {
		t.Fatalf("sub-port after update_subport_bindings: %v", got)
	}
	trunkStatus := func() any {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/trunks/"+id, nil).Expect(t, 200).Obj("trunk")["status"]
	}
	if s := trunkStatus(); s != "BUILD" {
		t.Fatalf("trunk status after update_subport_bindings: %v", s)
	}
	trunkCall(t, agent, "update_trunk_status", map[string]any{"trunk_id": id, "status": "ACTIVE"})
	if s := trunkStatus(); s != "ACTIVE" {
		t.Fatalf("trunk status after update_trunk_status: %v", s)
	}

	sub2 := post("ports", "port", map[string]any{"network_id": net2["id"]})
	body := map[string]any{"sub_ports": []any{map[string]any{"port_id": sub2["id"], "segmentation_type": "vlan", "segmentation_id": 200}}}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+id+"/add_subports", body).Expect(t, 200)
	for _, ev := range []string{"created", "deleted"} {
		if ev == "deleted" {
			testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+id+"/remove_subports", body).Expect(t, 200)
		}
		p := subports.Wait(t, "SubPort "+ev+" push", func(r *oslo.Request) bool { return r.Method == "push" && pushEvent(r) == ev })
		if o := first(p); o["versioned_object.name"] != "SubPort" || data(o)["port_id"] != sub2["id"] || data(o)["trunk_id"] != id || data(o)["segmentation_id"] != 200.0 {
			t.Fatalf("SubPort %s push: %v", ev, p.Args)
		}
	}

	// a sub-port the host cannot reach fails to bind: the trunk ERROR, nothing answered for it;
	// a trunk gone is left out of the answer
	flat := post("networks", "network", map[string]any{"name": "f", "provider:network_type": "flat", "provider:physical_network": "physnet9", "mtu": 1400})
	bad := post("ports", "port", map[string]any{"network_id": flat["id"]})
	body = map[string]any{"sub_ports": []any{map[string]any{"port_id": bad["id"], "segmentation_type": "vlan", "segmentation_id": 300}}}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+id+"/add_subports", body).Expect(t, 200)
	decode(t, trunkCall(t, agent, "update_subport_bindings", map[string]any{"subports": []any{
		map[string]any{"port_id": bad["id"], "trunk_id": id, "segmentation_type": "vlan", "segmentation_id": 300},
		map[string]any{"port_id": sub["id"], "trunk_id": "5a10e000-0000-4000-8000-00000000dead", "segmentation_type": "vlan", "segmentation_id": 100}}}), &bindings)
	if l, ok := bindings[id]; len(bindings) != 1 || !ok || len(l) != 0 {
		t.Fatalf("update_subport_bindings of an unbindable sub-port: %v", bindings)
	}
	if s := trunkStatus(); s != "ERROR" {
		t.Fatalf("trunk status after a sub-port's binding failed: %v", s)
	}
}

// pushEvent is a push's event_type.
func pushEvent(r *oslo.Request) string {
	var ev string
	_, _ = r.Args.Get("event_type", &ev)
	return ev
}

// first is the first object of a push.
func first(r *oslo.Request) map[string]any {
	var l []map[string]any
	_, _ = r.Args.Get("resource_list", &l)
	if len(l) == 0 {
		return nil
	}
	return l[0]
}
