package mechovn_test

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestQoSFollowsChanges: a port's QoS rows come from its network's policy, then from its own
// policy, follow rule changes (a new ingress limit, a DSCP mark), go when the policy goes; network
// device ports get none; a deleted port's rows go with it.
func TestQoSFollowsChanges(t *testing.T) {
	srv, nb := qosServer(t, nil)
	url := srv.URL + "/v2.0/"
	post := func(kind, path string, attrs map[string]any) map[string]any {
		t.Helper()
		return testutil.Do(t, "POST", url+path, body(kind, attrs)).Expect(t, 201).Obj(kind)
	}
	net1 := post("network", "networks", map[string]any{"name": "n"})
	post("subnet", "subnets", map[string]any{"network_id": net1["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	pol := post("policy", "qos/policies", map[string]any{"name": "p"})
	pol2 := post("policy", "qos/policies", map[string]any{"name": "p2"})
	post("bandwidth_limit_rule", "qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules", map[string]any{"max_kbps": 1000})
	post("dscp_marking_rule", "qos/policies/"+pol2["id"].(string)+"/dscp_marking_rules", map[string]any{"dscp_mark": 18})
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": pol["id"]})).Expect(t, 200)
	port := post("port", "ports", map[string]any{"network_id": net1["id"]})
	dev := post("port", "ports", map[string]any{"network_id": net1["id"], "device_owner": "network:dhcp"})
	id := port["id"].(string)
	ctx := context.Background()
	// rows describes the QoS rows on the switch: "<direction> <match> rate=… burst=… dscp=… port=…"
	rows := func() string {
		var qs []nbdb.QoS
		_ = nb.List(ctx, &qs)
		var out []string
		for _, q := range qs {
			out = append(out, fmt.Sprintf("%s %s %d rate=%d burst=%d dscp=%d port=%v", q.Direction, q.Match, q.Priority,
				q.Bandwidth["rate"], q.Bandwidth["burst"], q.Action["dscp"], q.ExternalIDs["neutron:port_id"] == id))
		}
		sort.Strings(out)
		return strings.Join(out, "; ")
	}
	expect := func(what, want string) {
		t.Helper()
		if err := poll(5*time.Second, func() bool { return rows() == want }); err != nil {
			t.Errorf("%s: QoS rows %q, want %q", what, rows(), want)
		}
	}
	in, out := fmt.Sprintf("inport == %q", id), fmt.Sprintf("outport == %q", id)
	expect("network policy", "from-lport "+in+" 2002 rate=1000 burst=0 dscp=0 port=true")
	post("bandwidth_limit_rule", "qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules", map[string]any{"max_kbps": 2000, "max_burst_kbps": 300, "direction": "ingress"})
	expect("ingress rule", "from-lport "+in+" 2002 rate=1000 burst=0 dscp=0 port=true; to-lport "+out+" 2002 rate=2000 burst=300 dscp=0 port=true")
	testutil.Do(t, "PUT", url+"ports/"+id, body("port", map[string]any{"qos_policy_id": pol2["id"]})).Expect(t, 200)
	expect("port policy", "from-lport "+in+" 2002 rate=0 burst=0 dscp=18 port=true")
	testutil.Do(t, "PUT", url+"ports/"+id, body("port", map[string]any{"qos_policy_id": nil})).Expect(t, 200)
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": nil})).Expect(t, 200)
	expect("no policy", "")
	testutil.Do(t, "PUT", url+"networks/"+net1["id"].(string), body("network", map[string]any{"qos_policy_id": pol2["id"]})).Expect(t, 200)
	expect("network policy again", "from-lport "+in+" 2002 rate=0 burst=0 dscp=18 port=true")
	testutil.Do(t, "DELETE", url+"ports/"+id, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", url+"ports/"+dev["id"].(string), nil).Expect(t, 204)
	expect("port deleted", "")
}

// qosServer starts neutrino with the qos service plugin and extension driver (and the options
// extra) on an in-memory OVN, and returns it with an NB client.
func qosServer(t *testing.T, extra map[string]string) (*testutil.Server, *ovn.Client) {
	conf := map[string]string{"DEFAULT.service_plugins": "segments,qos", "ml2.extension_drivers": "port_security,qos"}
	maps.Copy(conf, extra)
	return memServer(t, conf)
}

// poll waits up to d for cond.
func poll(d time.Duration, cond func() bool) error {
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			return fmt.Errorf("timed out")
		}
	}
	return nil
}

// TestFloatingIPQoS: a floating IP with a policy gets QoS rows on the floating network's switch
// matching the router's gateway port, its address and the chassis of the gateway
// (cr-lrp-<gateway port>), as ML2/OVN's; they follow the policy's rules and go with the floating IP.
// A router gateway with a policy (its own, or its network's) gets rows matching its gateway port.
func TestFloatingIPQoS(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "router,segments,qos", "ml2.extension_drivers": "port_security,qos"})
	url := srv.URL + "/v2.0/"
	top := newL3Topology(t, srv.URL)
	pol := testutil.Do(t, "POST", url+"qos/policies", body("policy", map[string]any{"name": "p"})).Expect(t, 201).Obj("policy")
	testutil.Do(t, "POST", url+"qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules",
		body("bandwidth_limit_rule", map[string]any{"max_kbps": 3000, "max_burst_kbps": 400})).Expect(t, 201)
	fip := testutil.Do(t, "POST", url+"floatingips", body("floatingip", map[string]any{"floating_network_id": top.ext["id"],
		"port_id": top.port["id"], "qos_policy_id": pol["id"]})).Expect(t, 201).Obj("floatingip")
	r := testutil.Do(t, "GET", url+"routers/"+top.router["id"].(string), nil).Expect(t, 200).Obj("router")
	gw := r["gw_port_id"]
	if gw == nil { // not visible to the API: the gateway port is the router's network:router_gateway port
		for _, p := range testutil.Do(t, "GET", url+"ports?device_owner=network:router_gateway", nil).Expect(t, 200).List("ports") {
			gw = p["id"]
		}
	}
	ctx := context.Background()
	rows := func() string {
		var out []string
		var lss []nbdb.LogicalSwitch
		_ = nb.List(ctx, &lss)
		for _, ls := range lss {
			for _, u := range ls.QOSRules {
				q := nbdb.QoS{UUID: u}
				if nb.Get(ctx, &q) == nil {
					out = append(out, fmt.Sprintf("%s %s %s %d rate=%d burst=%d fip=%v router=%v", ls.Name, q.Direction, q.Match, q.Priority,
						q.Bandwidth["rate"], q.Bandwidth["burst"], q.ExternalIDs["neutron:fip_id"] == fip["id"],
						q.ExternalIDs["neutron:router_id"] == top.router["id"]))
				}
			}
		}
		sort.Strings(out)
		return strings.Join(out, "; ")
	}
	want := fmt.Sprintf(`neutron-%s from-lport inport == "%s" && ip4.src == %s && is_chassis_resident("cr-lrp-%s") 2002 rate=3000 burst=400 fip=true router=false`,
		top.ext["id"], gw, fip["floating_ip_address"], gw)
	wantGW := fmt.Sprintf(`neutron-%s from-lport inport == "%s" 2002 rate=3000 burst=400 fip=false router=true`, top.ext["id"], gw)
	if err := poll(5*time.Second, func() bool { return rows() == want }); err != nil {
		t.Errorf("QoS rows %q, want %q", rows(), want)
	}
	testutil.Do(t, "PUT", url+"floatingips/"+fip["id"].(string), body("floatingip", map[string]any{"qos_policy_id": nil})).Expect(t, 200)
	if err := poll(5*time.Second, func() bool { return rows() == "" }); err != nil {
		t.Errorf("policy removed: QoS rows %q", rows())
	}
	rid := top.router["id"].(string)
	testutil.Do(t, "PUT", url+"routers/"+rid, body("router", map[string]any{"external_gateway_info": map[string]any{
		"network_id": top.ext["id"], "qos_policy_id": pol["id"]}})).Expect(t, 200)
	if err := poll(5*time.Second, func() bool { return rows() == wantGW }); err != nil {
		t.Errorf("the router gateway's policy: QoS rows %q, want %q", rows(), wantGW)
	}
	testutil.Do(t, "PUT", url+"routers/"+rid, body("router", map[string]any{"external_gateway_info": map[string]any{
		"network_id": top.ext["id"], "qos_policy_id": nil}})).Expect(t, 200)
	if err := poll(5*time.Second, func() bool { return rows() == "" }); err != nil {
		t.Errorf("the router gateway's policy removed: QoS rows %q", rows())
	}
	testutil.Do(t, "PUT", url+"networks/"+top.ext["id"].(string), body("network", map[string]any{"qos_policy_id": pol["id"]})).Expect(t, 200)
	if err := poll(5*time.Second, func() bool { return rows() == want+"; "+wantGW }); err != nil {
		t.Errorf("the floating network's policy: QoS rows %q, want %q", rows(), want+"; "+wantGW)
	}
	testutil.Do(t, "DELETE", url+"floatingips/"+fip["id"].(string), nil).Expect(t, 204)
	if err := poll(5*time.Second, func() bool { return rows() == wantGW }); err != nil {
		t.Errorf("floating IP deleted: QoS rows %q", rows())
	}
}

// TestDBSyncQoS: ovn-db-sync finds the QoS rows of a port that does not exist and removes them.
func TestDBSyncQoS(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.background_tasks": "false"})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	ctx := context.Background()
	ls := &nbdb.LogicalSwitch{Name: "neutron-" + net["id"].(string)}
	waitFor(t, 5*time.Second, "the switch", func() bool {
		var all []nbdb.LogicalSwitch
		_ = nb.List(ctx, &all)
		for _, l := range all {
			if l.Name == ls.Name {
				*ls = l
				return true
			}
		}
		return false
	})
	stray := &nbdb.QoS{UUID: "ustray", Direction: nbdb.QoSDirectionFromLport, Priority: 2002, Match: `inport == "gone"`,
		Bandwidth: map[string]int{"rate": 100}, ExternalIDs: map[string]string{"neutron:port_id": "00000000-0000-4000-8000-000000000001"}}
	m := &nbdb.LogicalSwitch{UUID: ls.UUID}
	if _, err := nb.Txn().Create(stray).Mutate(m, model.Mutation{Field: &m.QOSRules, Mutator: "insert", Value: []string{"ustray"}}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := driverOf(t, srv)
	var out strings.Builder
	if n, err := d.DBSync(ctx, true, &out); err != nil || n != 1 || !strings.Contains(out.String(), "QoS neutron:port_id=") {
		t.Fatalf("repair: %d differences, %v:\n%s", n, err, out.String())
	}
	waitFor(t, 5*time.Second, "no QoS row", func() bool {
		var qs []nbdb.QoS
		_ = nb.List(ctx, &qs)
		return len(qs) == 0
	})
}
