package mechovn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// l3Lab is a neutrino with the ovn driver and the router and port forwarding plugins on a fresh
// OVN lab (extra: more options), an "external" namespace at 172.24.4.1 on the flat external
// network, a tenant network with a subnet, an open security group and a router with its gateway
// and an interface on the subnet.
type l3Lab struct {
	*e2e
	ext, net, sub, sg map[string]any
	rid, gwIP         string
}

func newL3Lab(t *testing.T, dir string, extra map[string]string) *l3Lab {
	lab := ovnlab.Start(t, dir)
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	conf["DEFAULT.service_plugins"] = "router,segments,port_forwarding"
	for k, v := range extra {
		conf[k] = v
	}
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	e := &e2e{t: t, url: srv.URL, lab: lab}
	t.Cleanup(func() {
		if t.Failed() { // what the NB held
			for _, args := range [][]string{{"show"}, {"list", "NAT"}, {"list", "Logical_Router_Port"}} {
				out, _ := lab.NBCtl(args...)
				t.Logf("ovn-nbctl %v:\n%s", args, out)
			}
		}
	})
	if err := lab.External("ext", "172.24.4.1/24"); err != nil {
		t.Fatal(err)
	}
	l := &l3Lab{e2e: e}
	l.ext = e.post("network", "networks", map[string]any{"name": "public", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": lab.Physnet})
	e.post("subnet", "subnets", map[string]any{"network_id": l.ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4,
		"gateway_ip": "172.24.4.1", "enable_dhcp": false,
		"allocation_pools": []map[string]any{{"start": "172.24.4.100", "end": "172.24.4.200"}}})
	l.net = e.post("network", "networks", map[string]any{"name": "private"})
	l.sub = e.post("subnet", "subnets", map[string]any{"network_id": l.net["id"], "cidr": "10.30.0.0/24", "ip_version": 4})
	l.sg = e.post("security_group", "security-groups", map[string]any{"name": "open"})
	for _, proto := range []string{"icmp", "tcp"} {
		e.post("security_group_rule", "security-group-rules", map[string]any{"security_group_id": l.sg["id"],
			"direction": "ingress", "ethertype": "IPv4", "protocol": proto, "remote_ip_prefix": "0.0.0.0/0"})
	}
	r := e.post("router", "routers", map[string]any{"name": "r1", "external_gateway_info": map[string]any{"network_id": l.ext["id"]}})
	l.rid = r["id"].(string)
	testutil.Do(t, "PUT", e.url+"/v2.0/routers/"+l.rid+"/add_router_interface", map[string]any{"subnet_id": l.sub["id"]}).Expect(t, 200)
	r = testutil.Do(t, "GET", e.url+"/v2.0/routers/"+l.rid, nil).Expect(t, 200).Obj("router")
	l.gwIP = r["external_gateway_info"].(map[string]any)["external_fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
	return l
}

// peerFrom checks that a TCP connection from namespace ns to addr:port is seen from want.
func (l *l3Lab) peerFrom(ns, addr string, port int, want string) {
	t := l.t
	t.Helper()
	var peer string
	var err error
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(300 * time.Millisecond) {
		if peer, err = l.lab.TCPPeer(ns, addr, port); err == nil && (peer == want || strings.HasPrefix(peer, want+":")) {
			t.Logf("%s → %s:%d seen from %s", ns, addr, port, peer)
			return
		}
	}
	t.Errorf("%s → %s:%d: seen from %q (%v), want %s", ns, addr, port, peer, err, want)
	for _, args := range [][]string{{"show"}, {"list", "NAT"}, {"list", "Logical_Router"}} {
		out, _ := l.lab.NBCtl(args...)
		t.Logf("ovn-nbctl %v:\n%s", args, out)
	}
}

// teardown deletes the VM, the router and checks that the NB holds no router nor load balancer.
func (l *l3Lab) teardown(vm map[string]any) {
	t := l.t
	_ = l.lab.Unplug("vm1")
	l.del("ports/" + vm["id"].(string))
	testutil.Do(t, "PUT", l.url+"/v2.0/routers/"+l.rid+"/remove_router_interface", map[string]any{"subnet_id": l.sub["id"]}).Expect(t, 200)
	l.del("routers/" + l.rid)
	nb := nbClient(t, l.lab.NBTCP())
	waitFor(t, 10*time.Second, "no router in the NB", func() bool {
		var lrs []nbdb.LogicalRouter
		_ = nb.List(context.Background(), &lrs)
		var lbs []nbdb.LoadBalancer
		_ = nb.List(context.Background(), &lbs)
		return len(lrs) == 0 && len(lbs) == 0
	})
}

// TestDataplaneL3 drives OVN's L3 through the API: a router with a gateway on a flat external
// network (the lab's provider bridge, with an "external" namespace as the upstream at 172.24.4.1)
// and an interface on a tenant subnet. A VM reaches the outside through SNAT (seen as the router's
// gateway address), a floating IP makes it reachable from outside (ping and TCP, seen from the
// external address) and is its source address once associated; deleting it all leaves no router in
// the NB. The router's gateway port is bound to the chassis that claims its chassisredirect port.
// A port forwarding of a floating IP without a port (a Load_Balancer row) takes TCP to the
// VM's internal port.
func TestDataplaneL3(t *testing.T) {
	l := newL3Lab(t, "/tmp/neutrino-ovn-l3", nil)
	e, lab, ext, net, sg, gwIP, peerFrom := l.e2e, l.lab, l.ext, l.net, l.sg, l.gwIP, l.peerFrom
	vm := e.vm("vm1", net, sg["id"])
	if lease, err := lab.DHCP("vm1"); err != nil || lease["routers"] != "10.30.0.1" {
		t.Fatalf("lease %v %v", lease, err)
	}
	stopExt, err := lab.Serve("ext", 8000)
	if err != nil {
		t.Fatal(err)
	}
	defer stopExt()
	peerFrom("vm1", "172.24.4.1", 8000, gwIP) // SNAT
	// the chassis claimed the gateway's chassisredirect port: the gateway port is bound to its host
	host, _ := lab.SBCtl("--bare", "--columns=hostname", "list", "Chassis")
	var gwPort map[string]any
	if err := poll(10*time.Second, func() bool {
		for _, p := range testutil.Do(t, "GET", e.url+"/v2.0/ports?device_owner=network:router_gateway", nil).Expect(t, 200).List("ports") {
			gwPort = p
			return p["binding:host_id"] == strings.TrimSpace(host) && p["status"] == "ACTIVE"
		}
		return false
	}); err != nil {
		t.Errorf("gateway port: host %q, status %v; want host %q, ACTIVE", gwPort["binding:host_id"], gwPort["status"], strings.TrimSpace(host))
	}

	fip := e.post("floatingip", "floatingips", map[string]any{"floating_network_id": ext["id"], "port_id": vm["id"]})
	fipIP := fip["floating_ip_address"].(string)
	stopVM, err := lab.Serve("vm1", 7000)
	if err != nil {
		t.Fatal(err)
	}
	defer stopVM()
	peerFrom("ext", fipIP, 7000, "172.24.4.1") // DNAT of the floating IP
	if err := lab.Ping("ext", fipIP); err != nil {
		t.Errorf("ping of the floating IP from outside: %v", err)
	}
	peerFrom("vm1", "172.24.4.1", 8000, fipIP) // the floating IP is the VM's source address now

	e.del("floatingips/" + fip["id"].(string))

	// port forwarding: TCP to the floating IP's external port reaches the VM's internal port
	pfip := e.post("floatingip", "floatingips", map[string]any{"floating_network_id": ext["id"]})
	pfURL := e.url + "/v2.0/floatingips/" + pfip["id"].(string) + "/port_forwardings"
	pf := testutil.Do(t, "POST", pfURL, body("port_forwarding", map[string]any{"protocol": "tcp",
		"internal_port_id": vm["id"], "internal_ip_address": fixedIP(vm), "internal_port": 7000, "external_port": 2222})).
		Expect(t, 201).Obj("port_forwarding")
	peerFrom("ext", pfip["floating_ip_address"].(string), 2222, "172.24.4.1")
	if st := testutil.Do(t, "GET", e.url+"/v2.0/floatingips/"+pfip["id"].(string), nil).Expect(t, 200).Obj("floatingip")["status"]; st != "ACTIVE" {
		t.Errorf("floating IP with a port forwarding: status %v, want ACTIVE", st)
	}
	testutil.Do(t, "DELETE", pfURL+"/"+pf["id"].(string), nil).Expect(t, 204)
	e.del("floatingips/" + pfip["id"].(string))
	l.teardown(vm)
}

// TestDataplaneDistributedFIP: with [ovn] enable_distributed_floating_ip, the floating IP's NAT
// rule gets external_mac once the VM's port is up, and the floating IP works in both directions
// (from outside to the VM, the VM's source address to the outside).
func TestDataplaneDistributedFIP(t *testing.T) {
	l := newL3Lab(t, "/tmp/neutrino-ovn-dfip", map[string]string{"ovn.enable_distributed_floating_ip": "true"})
	vm := l.vm("vm1", l.net, l.sg["id"])
	if _, err := l.lab.DHCP("vm1"); err != nil {
		t.Fatal(err)
	}
	fip := l.post("floatingip", "floatingips", map[string]any{"floating_network_id": l.ext["id"], "port_id": vm["id"]})
	fipIP := fip["floating_ip_address"].(string)
	nb := nbClient(t, l.lab.NBTCP())
	waitFor(t, 10*time.Second, "external_mac on the floating IP's NAT rule", func() bool {
		var nats []nbdb.NAT
		_ = nb.List(context.Background(), &nats)
		for _, n := range nats {
			if n.ExternalIP == fipIP && n.ExternalMAC != nil && *n.ExternalMAC == n.ExternalIDs["neutron:fip_external_mac"] &&
				n.LogicalPort != nil && *n.LogicalPort == vm["id"] {
				return true
			}
		}
		return false
	})
	for _, ns := range []struct {
		name string
		port int
	}{{"vm1", 7000}, {"ext", 8000}} {
		stop, err := l.lab.Serve(ns.name, ns.port)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
	}
	l.peerFrom("ext", fipIP, 7000, "172.24.4.1")
	l.peerFrom("vm1", "172.24.4.1", 8000, fipIP)
	l.del("floatingips/" + fip["id"].(string))
	l.teardown(vm)
}
