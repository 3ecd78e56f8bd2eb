package mechovn_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// e2e is a neutrino with the ovn driver on the OVN lab.
type e2e struct {
	t   *testing.T
	url string
	lab *ovnlab.Lab
}

func (e *e2e) post(kind, path string, attrs map[string]any) map[string]any {
	e.t.Helper()
	return testutil.Do(e.t, "POST", e.url+"/v2.0/"+path, body(kind, attrs)).Expect(e.t, 201).Obj(kind)
}

func (e *e2e) del(path string) {
	e.t.Helper()
	testutil.Do(e.t, "DELETE", e.url+"/v2.0/"+path, nil).Expect(e.t, 204)
}

func (e *e2e) port(id string) map[string]any {
	return testutil.Do(e.t, "GET", e.url+"/v2.0/ports/"+id, nil).Expect(e.t, 200).Obj("port")
}

// vm creates a port bound to the lab's chassis, plugs a namespace for it and waits until it is ACTIVE.
func (e *e2e) vm(name string, net map[string]any, sgs ...any) map[string]any {
	e.t.Helper()
	p := e.post("port", "ports", map[string]any{"name": name, "network_id": net["id"], "binding:host_id": e.lab.Chassis,
		"device_owner": "compute:nova", "device_id": "instance-" + name, "security_groups": sgs})
	start := time.Now()
	if err := e.lab.VM(name, p["id"].(string), p["mac_address"].(string)); err != nil {
		e.t.Fatal(err)
	}
	waitFor(e.t, 30*time.Second, name+" ACTIVE", func() bool { return e.port(p["id"].(string))["status"] == "ACTIVE" })
	e.t.Logf("%s ACTIVE %v after plugging", name, time.Since(start).Round(time.Millisecond))
	return p
}

func fixedIP(p map[string]any) string {
	return p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
}

// TestDataplaneE2E drives the OVN lab through the API only: two networks with DHCP subnets, a
// security group, ports bound to chassis1 plugged as namespaces. Ports turn ACTIVE, dhclient gets
// the port's address, the gateway and the MTU from OVN's DHCP, ping and TCP pass or not as the
// group's rules say (and follow rule changes), an NB outage is repaired without a restart, and
// deleting everything leaves the NB without any of it.
func TestDataplaneE2E(t *testing.T) {
	dir := "/tmp/neutrino-ovn-e2e"
	if os.Getenv("NEUTRINO_OVN_LAB_DIR") != "" {
		dir = os.Getenv("NEUTRINO_OVN_LAB_DIR")
	}
	lab := ovnlab.Start(t, dir)
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	conf["ovn.ovsdb_retry_max_interval"] = "1"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	e := &e2e{t: t, url: srv.URL, lab: lab}

	// the chassis is an agent, alive (it follows nb_cfg), a gateway chassis in the lab
	waitFor(t, 10*time.Second, "chassis1 as an alive OVN agent", func() bool {
		for _, a := range testutil.Do(t, "GET", e.url+"/v2.0/agents?host=chassis1", nil).Expect(t, 200).List("agents") {
			if a["id"] == lab.Chassis && a["agent_type"] == "OVN Controller Gateway agent" && a["alive"] == true &&
				a["binary"] == "ovn-controller" {
				return true
			}
		}
		return false
	})
	net1 := e.post("network", "networks", map[string]any{"name": "net1"})
	sub1 := e.post("subnet", "subnets", map[string]any{"name": "sub1", "network_id": net1["id"], "cidr": "10.10.0.0/24", "ip_version": 4})
	net2 := e.post("network", "networks", map[string]any{"name": "net2"})
	e.post("subnet", "subnets", map[string]any{"name": "sub2", "network_id": net2["id"], "cidr": "10.20.0.0/24", "ip_version": 4,
		"dns_nameservers": []string{"192.0.2.53"}})
	sg := e.post("security_group", "security-groups", map[string]any{"name": "sg1"})
	icmp := e.post("security_group_rule", "security-group-rules", map[string]any{"security_group_id": sg["id"],
		"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp"})

	vm1, vm2, vm3 := e.vm("vm1", net1, sg["id"]), e.vm("vm2", net1, sg["id"]), e.vm("vm3", net2, sg["id"])
	for _, vm := range []map[string]any{vm1, vm2, vm3} {
		name := vm["name"].(string)
		lease, err := lab.DHCP(name)
		if err != nil {
			t.Fatal(err)
		}
		gw := map[string]string{"vm1": "10.10.0.1", "vm2": "10.10.0.1", "vm3": "10.20.0.1"}[name]
		if lease["ip"] != fixedIP(vm) || lease["routers"] != gw || lease["mtu"] != "1442" {
			t.Errorf("%s: lease %v, want ip %s router %s mtu 1442", name, lease, fixedIP(vm), gw)
		}
	}
	ip2 := fixedIP(vm2)
	stop, err := lab.Serve("vm2", 7000)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	// a rule change reaches the chassis through northd and ovn-controller: the check is repeated
	// for up to 10 s until it gives the expected answer
	expect := func(what string, ok bool, try func() error) {
		t.Helper()
		start := time.Now()
		err := try()
		for ok != (err == nil) && time.Since(start) < 10*time.Second {
			time.Sleep(200 * time.Millisecond)
			err = try()
		}
		if ok != (err == nil) {
			t.Errorf("%s: allowed=%v, got error %v", what, ok, err)
		} else {
			t.Logf("%s: allowed=%v (%v)", what, ok, time.Since(start).Round(time.Millisecond))
		}
	}
	ping := func() error { return lab.Ping("vm1", ip2) }
	peer := ""
	tcp7000 := func() (err error) { peer, err = lab.TCPPeer("vm1", ip2, 7000); return err }
	expect("ping vm1→vm2 (icmp rule)", true, ping)
	if _, err := lab.TCPPeer("vm1", ip2, 7000); err == nil {
		t.Error("tcp vm1→vm2:7000 passes without a rule")
	}
	tcp := e.post("security_group_rule", "security-group-rules", map[string]any{"security_group_id": sg["id"],
		"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 7000, "port_range_max": 7000,
		"remote_group_id": sg["id"]})
	expect("tcp vm1→vm2:7000 (rule from sg1)", true, tcp7000)
	if peer != "" && !strings.HasPrefix(peer, fixedIP(vm1)) {
		t.Errorf("vm2 saw the connection from %s, want %s", peer, fixedIP(vm1))
	}
	e.del("security-group-rules/" + icmp["id"].(string))
	expect("ping vm1→vm2 (icmp rule deleted)", false, ping)

	nbOutage(t, e, net1, sub1)

	for _, vm := range []map[string]any{vm1, vm2, vm3} {
		_ = lab.Unplug(vm["name"].(string))
		e.del("ports/" + vm["id"].(string))
	}
	e.del("security-group-rules/" + tcp["id"].(string))
	e.del("security-groups/" + sg["id"].(string))
	for _, n := range []map[string]any{net1, net2} {
		e.del("networks/" + n["id"].(string))
	}
	for _, g := range testutil.Do(t, "GET", e.url+"/v2.0/security-groups", nil).Expect(t, 200).List("security_groups") {
		e.del("security-groups/" + g["id"].(string)) // the project's default group
	}
	nb := nbClient(t, lab.NBTCP())
	waitFor(t, 10*time.Second, "an NB without neutrino's rows", func() bool { return nbLeft(nb) == "" })
}

// nbOutage stops the NB server, changes things through the API (a new port, a renamed network, a
// subnet update) and starts it again: the NB converges and the new port turns ACTIVE.
func nbOutage(t *testing.T, e *e2e, net, sub map[string]any) {
	if _, err := e.lab.Run("nb-stop"); err != nil {
		t.Fatal(err)
	}
	p := e.post("port", "ports", map[string]any{"name": "late", "network_id": net["id"], "binding:host_id": e.lab.Chassis})
	testutil.Do(t, "PUT", e.url+"/v2.0/networks/"+net["id"].(string), body("network", map[string]any{"name": "net1-renamed"})).Expect(t, 200)
	testutil.Do(t, "PUT", e.url+"/v2.0/subnets/"+sub["id"].(string), body("subnet", map[string]any{"dns_nameservers": []string{"192.0.2.99"}})).Expect(t, 200)
	if _, err := e.lab.Run("nb-start"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	nb := nbClient(t, e.lab.NBTCP())
	ctx := context.Background()
	waitFor(t, 30*time.Second, "the NB to catch up", func() bool {
		var ls []nbdb.LogicalSwitch
		_ = nb.List(ctx, &ls)
		renamed := false
		for _, s := range ls {
			renamed = renamed || s.ExternalIDs["neutron:network_name"] == "net1-renamed"
		}
		var dhcp []nbdb.DHCPOptions
		_ = nb.List(ctx, &dhcp)
		dns := false
		for _, o := range dhcp {
			dns = dns || o.Options["dns_server"] == "{192.0.2.99}"
		}
		return renamed && dns && nb.Get(ctx, &nbdb.LogicalSwitchPort{Name: p["id"].(string)}) == nil
	})
	t.Logf("NB caught up %v after it came back", time.Since(start).Round(time.Millisecond))
	if err := e.lab.VM("late", p["id"].(string), p["mac_address"].(string)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "late ACTIVE", func() bool { return e.port(p["id"].(string))["status"] == "ACTIVE" })
	_ = e.lab.Unplug("late")
	e.del("ports/" + p["id"].(string))
}

// nbLeft describes the rows of Neutron resources still in the NB ("" when none).
func nbLeft(nb interface {
	List(ctx context.Context, result any) error
}) string {
	ctx := context.Background()
	var ls []nbdb.LogicalSwitch
	var lsp []nbdb.LogicalSwitchPort
	var dhcp []nbdb.DHCPOptions
	var pgs []nbdb.PortGroup
	_ = nb.List(ctx, &ls)
	_ = nb.List(ctx, &lsp)
	_ = nb.List(ctx, &dhcp)
	_ = nb.List(ctx, &pgs)
	var left []string
	if len(ls)+len(lsp)+len(dhcp) > 0 {
		left = append(left, fmt.Sprintf("%d switches, %d ports, %d DHCP options", len(ls), len(lsp), len(dhcp)))
	}
	for _, pg := range pgs {
		if pg.Name != "neutron_pg_drop" {
			left = append(left, "port group "+pg.Name)
		}
	}
	return strings.Join(left, "; ")
}
