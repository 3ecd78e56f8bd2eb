package mechovn_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/golden"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// goldenL3 replays the golden scenario's steps up to stop (but the ones in skip) against neutrino
// with the ovn driver and the router and port forwarding plugins, on an in-memory NB, and returns
// the rows of neutrino's NB by table and key.
func goldenL3(t *testing.T, stop string, skip map[string]bool, extra map[string]string) map[string]map[string]map[string]any {
	return goldenReplay(t, "../ovn/testdata/golden/scenario.yaml", stop, skip, extra)
}

// goldenReplay replays a scenario's steps up to stop (but the ones in skip) as goldenL3 does.
func goldenReplay(t *testing.T, scenario, stop string, skip map[string]bool, extra map[string]string) map[string]map[string]map[string]any {
	_, last := goldenSteps(t, scenario, stop, skip, extra)
	return last
}

// goldenSteps replays a scenario's steps up to stop ("": all) but the ones in skip, and returns
// each step's result (calls and NB dump, by step name) and the rows of neutrino's NB after the
// last one.
func goldenSteps(t *testing.T, scenario, stop string, skip map[string]bool, extra map[string]string) (map[string]golden.Result, map[string]map[string]map[string]any) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	conf := ovnConfig(nbRemote, sbRemote)
	conf["DEFAULT.service_plugins"] = "ovn-router,segments,port_forwarding"
	for k, v := range extra {
		conf[k] = v
	}
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	sc, err := golden.Load(scenario)
	if err != nil {
		t.Fatal(err)
	}
	var steps []golden.Step
	for _, st := range sc.Steps {
		if !skip[st.Name] {
			steps = append(steps, st)
		}
		if st.Name == stop {
			break
		}
	}
	sc.Steps = steps
	all := map[string]golden.Result{}
	var last golden.Dump
	err = golden.Run(context.Background(), sc, golden.Env{API: &golden.API{Base: srv.URL}, NB: nb, Logf: t.Logf,
		Settle: 300 * time.Millisecond}, func(r golden.Result) error {
		last, all[r.Step] = r.Dump, r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, byKey(last)
}

// goldenSkip are the steps the router goldens leave out: what neutrino's API or driver does not do
// the way the reference does yet (QoS), which the router rows do not depend on.
var goldenSkip = map[string]bool{"qos": true}

// TestGoldenNBPortForwarding compares the Load_Balancer rows of a floating IP's port forwarding
// with what Neutron's OVN port forwarding driver wrote (nb/20-fip2-portforwarding.json): the row,
// the router's reference and the references of the router's interface switches (not the
// external network's).
func TestGoldenNBPortForwarding(t *testing.T) {
	got := goldenL3(t, "fip2-portforwarding", goldenSkip, nil)
	want := goldenRows(t, "20-fip2-portforwarding.json")
	same := func(table, key string, fields ...string) {
		t.Helper()
		compareRow(t, table, key, got[table][key], want[table][key], fields...)
	}
	same("Load_Balancer", "pf-floatingip-{{fip2}}-tcp")
	if len(got["Load_Balancer"]) != 1 {
		t.Errorf("%d Load_Balancer rows, want 1", len(got["Load_Balancer"]))
	}
	for _, ls := range []string{"neutron-{{net1}}", "neutron-{{net2}}", "neutron-{{extnet}}", "neutron-{{vlannet}}"} {
		if g, w := got["Logical_Switch"][ls]["load_balancer"], want["Logical_Switch"][ls]["load_balancer"]; !equalJSON(g, w) {
			t.Errorf("%s load_balancer: neutrino %v, Neutron %v", ls, g, w)
		}
	}
	lr := "neutron-{{r1}}"
	if g, w := got["Logical_Router"][lr]["load_balancer"], want["Logical_Router"][lr]["load_balancer"]; !equalJSON(g, w) {
		t.Errorf("router load_balancer: neutrino %v, Neutron %v", g, w)
	}
}

// compareRow reports a row of neutrino's NB (g) that differs from Neutron's (w), but for fields.
func compareRow(t *testing.T, table, key string, g, w map[string]any, fields ...string) {
	t.Helper()
	if g == nil || w == nil {
		t.Errorf("%s %s: neutrino %v, Neutron %v", table, key, g != nil, w != nil)
		return
	}
	if g, w := drop(g, fields...), drop(w, fields...); !equalJSON(g, w) {
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		t.Errorf("%s %s:\nneutrino %s\nNeutron  %s", table, key, gb, wb)
	}
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

// TestGoldenNBRouter compares a router's rows (the router, its ports, routes, gateway chassis,
// SNAT and floating IP NAT rules, the floating IP's mark on its port) with Neutron's
// (nb/20-fip2-portforwarding.json).
func TestGoldenNBRouter(t *testing.T) {
	got := goldenL3(t, "fip2-portforwarding", goldenSkip, nil)
	want := goldenRows(t, "20-fip2-portforwarding.json")
	// the interface ports' revisions differ: Neutron's are one higher because ovn-northd sets their
	// LSP up and the port turns ACTIVE (a bump), and no northd runs here
	ignore := map[string][]string{"Logical_Router_Port": {"external_ids.neutron:revision_number"}}
	for _, table := range []string{"Logical_Router", "Logical_Router_Port", "Logical_Router_Static_Route", "NAT", "Gateway_Chassis"} {
		for key := range want[table] {
			compareRow(t, table, key, got[table][key], want[table][key], ignore[table]...)
		}
		if len(got[table]) != len(want[table]) {
			t.Errorf("%d %s rows, Neutron %d", len(got[table]), table, len(want[table]))
		}
	}
	compareRouterLSPs(t, got, want)
	key := "{{vm1}}"
	if g, w := got["Logical_Switch_Port"][key]["external_ids"], want["Logical_Switch_Port"][key]["external_ids"]; g == nil ||
		g.(map[string]any)["neutron:port_fip"] != w.(map[string]any)["neutron:port_fip"] {
		t.Errorf("vm1's neutron:port_fip: neutrino %v, Neutron %v", g, w)
	}
}

// compareRouterLSPs compares the switch side of the router's ports (type router: the gateway's
// nat-addresses, exclude-lb-vips-from-garp and router-port options, the interfaces') with Neutron's,
// but for up and the interfaces' revisions (see TestGoldenNBRouter).
func compareRouterLSPs(t *testing.T, got, want map[string]map[string]map[string]any) {
	t.Helper()
	n := 0
	for key, w := range want["Logical_Switch_Port"] {
		if w["type"] != "router" {
			continue
		}
		n++
		compareRow(t, "Logical_Switch_Port", key, got["Logical_Switch_Port"][key], w, "up", "external_ids.neutron:revision_number")
	}
	if n == 0 {
		t.Error("no router port in Neutron's rows")
	}
}

// TestGoldenNBQoS compares the QoS row of a port with a bandwidth limit and a DSCP marking rule
// with Neutron's (nb/14-qos.json); the rows then follow the policy's rules, the network's policy
// and the port's deletion.
func TestGoldenNBQoS(t *testing.T) {
	skip := map[string]bool{"vm2-create": true, "sub1-update": true}
	got := goldenL3(t, "qos", skip, map[string]string{"DEFAULT.service_plugins": "ovn-router,segments,port_forwarding,qos",
		"ml2.extension_drivers": "port_security,dns,qos"})
	want := goldenRows(t, "14-qos.json")
	for key := range want["QoS"] {
		compareRow(t, "QoS", key, got["QoS"][key], want["QoS"][key])
	}
	if len(got["QoS"]) != len(want["QoS"]) {
		t.Errorf("%d QoS rows, Neutron %d", len(got["QoS"]), len(want["QoS"]))
	}
	if g, w := got["Logical_Switch"]["neutron-{{net2}}"]["qos_rules"], want["Logical_Switch"]["neutron-{{net2}}"]["qos_rules"]; !equalJSON(g, w) {
		t.Errorf("net2 qos_rules: neutrino %v, Neutron %v", g, w)
	}
}

// TestGoldenNBL3Extras replays the router-side golden scenario (internal/ovn/testdata/golden-l3)
// and compares the QoS rows of a floating IP and of a router gateway, the port forwarding
// Load_Balancer rows of a port range, of UDP and of TCP, the floating IP's NAT rule, and the router,
// its ports (both sides: LRP options, the gateway LSP's) and gateway chassis with what Neutron wrote, with centralized floating IPs (nb/) and distributed ones (dvr/nb/).
func TestGoldenNBL3Extras(t *testing.T) {
	for _, c := range []struct {
		name, dir string
		extra     map[string]string
	}{
		{"centralized", "../../golden-l3/nb/", nil},
		{"distributed", "../../golden-l3/dvr/nb/", map[string]string{"ovn.enable_distributed_floating_ip": "true"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			extra := map[string]string{"DEFAULT.service_plugins": "ovn-router,segments,port_forwarding,qos",
				"ml2.extension_drivers": "port_security,dns,qos"}
			for k, v := range c.extra {
				extra[k] = v
			}
			got := goldenReplay(t, "../ovn/testdata/golden-l3/scenario.yaml", "fip2-forwardings", nil, extra)
			want := goldenRows(t, c.dir+"06-fip2-forwardings.json")
			ignore := map[string][]string{"Logical_Router_Port": {"external_ids.neutron:revision_number"}}
			for _, table := range []string{"QoS", "Load_Balancer", "NAT", "Logical_Router", "Logical_Router_Port", "Gateway_Chassis"} {
				for key := range want[table] {
					compareRow(t, table, key, got[table][key], want[table][key], ignore[table]...)
				}
				if len(got[table]) != len(want[table]) {
					t.Errorf("%d %s rows, Neutron %d", len(got[table]), table, len(want[table]))
				}
			}
			compareRouterLSPs(t, got, want)
			for _, ls := range []string{"neutron-{{net1}}", "neutron-{{extnet}}"} {
				for _, col := range []string{"load_balancer", "qos_rules"} {
					if g, w := got["Logical_Switch"][ls][col], want["Logical_Switch"][ls][col]; !equalJSON(g, w) {
						t.Errorf("%s %s: neutrino %v, Neutron %v", ls, col, g, w)
					}
				}
			}
			// once vm1 is up, Neutron's rule has external_mac (distributed only): the MAC of
			// neutron:fip_external_mac, which TestDistributedFloatingIP checks neutrino sets
			nat := goldenRows(t, c.dir+"07-plug.json")["NAT"]["dnat_and_snat 172.24.4.150 10.0.0.10"]
			mac, _ := nat["external_mac"].(string)
			if ext := nat["external_ids"].(map[string]any)["neutron:fip_external_mac"]; (c.extra != nil) != (mac != "") || mac != "" && mac != ext {
				t.Errorf("Neutron's rule of an up port: external_mac %q, neutron:fip_external_mac %v", mac, ext)
			}
		})
	}
}
