package mechovn_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestGatewayScheduling: a router's gateway port goes to the gateway chassis that map the external
// network's physical network (not to a compute chassis with the mapping, nor to a gateway chassis
// without it), priorities from the number of chassis down to one, the least loaded chassis first;
// with availability zone hints (the gateway chassis' zones are offered as router zones), only to
// the chassis of those zones; on a network without a physical network, to every gateway chassis.
func TestGatewayScheduling(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	ctx := context.Background()
	// chassis1 (memOVN): gateway, provider:br-ex, no zone
	addChassis(t, sb, "gw2", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az1")
	addChassis(t, sb, "gw3", "other:br-other", "enable-chassis-as-gw")
	addChassis(t, sb, "comp", "provider:br-ex", "")
	addChassis(t, sb, "gwaz2", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az2:az3")
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "router,segments"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	post := poster(t, srv.URL)
	flat := post("network", "networks", map[string]any{"name": "public", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "provider"})
	post("subnet", "subnets", map[string]any{"network_id": flat["id"], "cidr": "172.24.4.0/24", "ip_version": 4})
	tunnel := post("network", "networks", map[string]any{"name": "public2", "router:external": true})
	post("subnet", "subnets", map[string]any{"network_id": tunnel["id"], "cidr": "172.24.5.0/24", "ip_version": 4})
	waitZone(t, srv.URL, "az2")
	// the gateway's chassis by priority, highest first
	gateway := func(net map[string]any, hints ...string) []string {
		t.Helper()
		attrs := map[string]any{"external_gateway_info": map[string]any{"network_id": net["id"]}}
		if hints != nil {
			attrs["availability_zone_hints"] = hints
		}
		r := post("router", "routers", attrs)
		var out []string
		waitFor(t, 5*time.Second, "the gateway port's chassis", func() bool {
			var lrps []nbdb.LogicalRouterPort
			_ = nb.List(ctx, &lrps)
			for _, p := range lrps {
				if p.ExternalIDs["neutron:router_name"] != r["id"] || len(p.GatewayChassis) == 0 {
					continue
				}
				var gcs []nbdb.GatewayChassis
				for _, u := range p.GatewayChassis {
					gc := nbdb.GatewayChassis{UUID: u}
					if nb.Get(ctx, &gc) == nil {
						gcs = append(gcs, gc)
					}
				}
				sort.Slice(gcs, func(i, j int) bool { return gcs[i].Priority > gcs[j].Priority })
				for i, gc := range gcs {
					if gc.Priority != len(gcs)-i || gc.Name != p.Name+"_"+gc.ChassisName {
						t.Errorf("Gateway_Chassis %s priority %d (of %d)", gc.Name, gc.Priority, len(gcs))
					}
					out = append(out, gc.ChassisName)
				}
				return true
			}
			return false
		})
		return out
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: chassis %v, want %v", what, got, want)
			return
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: chassis %v, want %v", what, got, want)
				return
			}
		}
	}
	check("first router", gateway(flat), "chassis1", "gw2", "gwaz2")
	check("router in az3", gateway(flat, "az3"), "gwaz2")
	// loads: gwaz2 holds priorities 1 and 1, gw2 2, chassis1 3
	check("least loaded", gateway(flat), "gwaz2", "gw2", "chassis1")
	check("no physical network", gateway(tunnel), "gw3", "gw2", "chassis1", "gwaz2")
	testutil.Do(t, "POST", srv.URL+"/v2.0/routers", body("router", map[string]any{"availability_zone_hints": []string{"nowhere"}})).Expect(t, 404)
}

// TestGatewayRescheduling: the maintenance task schedules a gateway again when its chassis change,
// as Neutron's schedule_unhosted_gateways: a new gateway chassis with the physical network joins
// below the primary, a chassis that goes leaves, and a gateway no chassis can host stays where it is.
func TestGatewayRescheduling(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	ctx := context.Background()
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "router,segments"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	top := newL3Topology(t, srv.URL)
	rid := top.router["id"].(string)
	// chassis of the gateway port, by priority
	chassis := func() string {
		var lrps []nbdb.LogicalRouterPort
		_ = nb.List(ctx, &lrps)
		for _, p := range lrps {
			if p.ExternalIDs["neutron:router_name"] != rid || len(p.GatewayChassis) == 0 {
				continue
			}
			byPrio := map[int]string{}
			for _, u := range p.GatewayChassis {
				gc := nbdb.GatewayChassis{UUID: u}
				if nb.Get(ctx, &gc) == nil {
					byPrio[gc.Priority] = gc.ChassisName
				}
			}
			out := ""
			for prio := len(byPrio); prio > 0; prio-- {
				out += byPrio[prio] + " "
			}
			return out
		}
		return ""
	}
	expect := func(what, want string) {
		t.Helper()
		if err := poll(10*time.Second, func() bool { return chassis() == want }); err != nil {
			t.Errorf("%s: gateway chassis %q, want %q", what, chassis(), want)
		}
	}
	expect("scheduled", "chassis1 ")
	gw2 := addChassis(t, sb, "gw2", "provider:br-ex", "enable-chassis-as-gw")
	expect("a new gateway chassis", "chassis1 gw2 ")
	ch1 := &sbdb.Chassis{Name: "chassis1"}
	if err := sb.Get(ctx, ch1); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Txn().Delete(ch1).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	expect("the primary gone", "gw2 ")
	gw2.OtherConfig = map[string]string{"ovn-bridge-mappings": "other:br-ex", "ovn-cms-options": "enable-chassis-as-gw"}
	if _, err := sb.Txn().Update(gw2, &gw2.OtherConfig).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // two maintenance ticks
	expect("no chassis for the physical network", "gw2 ")
}

// TestGatewayPortBinding: when a chassis claims a router's chassisredirect port (SB Port_Binding
// cr-lrp-<gateway port>), the gateway port is bound to that chassis' host and turns ACTIVE, as
// ML2/OVN's PortBindingChassisEvent does.
func TestGatewayPortBinding(t *testing.T) {
	nbRemote, sbRemote, _, sb := memOVN(t)
	ctx := context.Background()
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "router,segments"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	newL3Topology(t, srv.URL)
	gw := testutil.Do(t, "GET", srv.URL+"/v2.0/ports?device_owner=network:router_gateway", nil).Expect(t, 200).List("ports")[0]
	if gw["binding:host_id"] != "" || gw["status"] == "ACTIVE" {
		t.Fatalf("gateway port before any chassis claims it: host %v, status %v", gw["binding:host_id"], gw["status"])
	}
	ch := &sbdb.Chassis{Name: "chassis1"}
	if err := sb.Get(ctx, ch); err != nil {
		t.Fatal(err)
	}
	dp := &sbdb.DatapathBinding{UUID: "udp", TunnelKey: 7}
	pb := &sbdb.PortBinding{UUID: "upb", LogicalPort: "cr-lrp-" + gw["id"].(string), Type: "chassisredirect", Datapath: "udp", TunnelKey: 2}
	if _, err := sb.Txn().Create(dp, pb).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sb.Get(ctx, pb); err != nil {
		t.Fatal(err)
	}
	pb.Chassis = &ch.UUID
	if _, err := sb.Txn().Update(pb, &pb.Chassis).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the gateway port bound to chassis1 and ACTIVE", func() bool {
		p := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+gw["id"].(string), nil).Expect(t, 200).Obj("port")
		return p["binding:host_id"] == "chassis1" && p["status"] == "ACTIVE"
	})
}

// TestGatewayWithoutAddress: a router whose gateway is on an external network without a subnet
// (its gateway port has no address) is written to the NB with its interfaces; the gateway port,
// which the NB would refuse without networks, is left out. Before, the whole NB transaction
// failed and the router never reached the NB.
func TestGatewayWithoutAddress(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "router"})
	ctx := context.Background()
	post := poster(t, srv.URL)
	ext := post("network", "networks", map[string]any{"name": "public", "router:external": true})
	r := post("router", "routers", map[string]any{"external_gateway_info": map[string]any{"network_id": ext["id"]}})
	net := post("network", "networks", map[string]any{"name": "inside"})
	sub := post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.9.0.0/24", "ip_version": 4})
	testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface",
		map[string]any{"subnet_id": sub["id"]}).Expect(t, 200)
	waitFor(t, 5*time.Second, "the router and its interface port in the NB", func() bool {
		var lrs []nbdb.LogicalRouter
		_ = nb.List(ctx, &lrs)
		for _, lr := range lrs {
			if lr.Name == "neutron-"+r["id"].(string) && len(lr.Ports) == 1 {
				return true
			}
		}
		return false
	})
	var lrps []nbdb.LogicalRouterPort
	_ = nb.List(ctx, &lrps)
	for _, p := range lrps {
		if len(p.Networks) == 0 {
			t.Fatalf("router port %s without networks", p.Name)
		}
	}
}

// poster posts one resource to the API at base and returns the created object (201 expected).
// addChassis adds a chassis (named after its host) with bridge mappings and ovn-cms-options to the SB.
func addChassis(t *testing.T, sb *ovn.Client, name, mappings, cms string) *sbdb.Chassis {
	t.Helper()
	c := &sbdb.Chassis{UUID: "u" + name, Name: name, Hostname: name,
		OtherConfig: map[string]string{"ovn-bridge-mappings": mappings, "ovn-cms-options": cms}}
	if _, err := sb.Txn().Create(c).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitZone waits until the server at base lists zone as a router availability zone.
func waitZone(t *testing.T, base, zone string) {
	t.Helper()
	waitFor(t, 5*time.Second, zone+" as a router zone", func() bool {
		for _, z := range testutil.Do(t, "GET", base+"/v2.0/availability_zones", nil).Expect(t, 200).List("availability_zones") {
			if z["name"] == zone && z["resource"] == "router" {
				return true
			}
		}
		return false
	})
}

func poster(t *testing.T, base string) func(kind, path string, attrs map[string]any) map[string]any {
	return func(kind, path string, attrs map[string]any) map[string]any {
		t.Helper()
		return testutil.Do(t, "POST", base+"/v2.0/"+path, body(kind, attrs)).Expect(t, 201).Obj(kind)
	}
}
