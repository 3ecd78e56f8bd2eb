package rpc_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/rpc/rpctest"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// lab runs the agents lab (scripts/harness/agents-lab.sh) of one test.
type lab struct {
	t   *testing.T
	env []string
}

func (l *lab) run(args ...string) (string, error) {
	cmd := exec.Command("../../scripts/harness/agents-lab.sh", args...)
	cmd.Env = append(os.Environ(), l.env...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

func (l *lab) must(args ...string) string {
	l.t.Helper()
	out, err := l.run(args...)
	if err != nil {
		l.t.Fatalf("agents-lab.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually retries f for up to d.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// startLab starts neutrino with RPC on a vhost of the test's own and the
// three Debian agents (Open vSwitch on the userspace datapath) against it;
// it skips without the agents' packages unless CI is set, and without
// root.
func startLab(t *testing.T) (*rpctest.Server, *lab, string) {
	return startLabOn(t, "")
}

// startLabOn is startLab on the broker of url ("": a vhost of the test's
// own on the local RabbitMQ).
func startLabOn(t *testing.T, url string) (*rpctest.Server, *lab, string) {
	return startLabWith(t, url, nil)
}

// startLabWith is startLabOn with more server options.
func startLabWith(t *testing.T, url string, extra map[string]string) (*rpctest.Server, *lab, string) {
	if _, err := exec.LookPath("neutron-openvswitch-agent"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("neutron-openvswitch-agent not installed (scripts/harness/agents-lab.sh install)")
		}
		t.Fatal("neutron-openvswitch-agent not installed under CI=true")
	}
	if os.Geteuid() != 0 {
		t.Skip("the agents lab needs root (namespaces, Open vSwitch)")
	}
	if url == "" {
		url = rpctest.Vhost(t)
	}
	set := map[string]string{"ml2.extension_drivers": "port_security", "DEFAULT.service_plugins": "router"}
	for k, v := range ovsConfig {
		set[k] = v
	}
	for k, v := range extra {
		set[k] = v
	}
	srv := rpctest.Start(t, url, testutil.Options{Set: set})
	host, _ := os.Hostname()
	// dnsmasq drops to an unprivileged user and re-reads its host file
	// under LAB: the test's directories (0700) must be traversable
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l := &lab{t: t, env: []string{"TRANSPORT_URL=" + url, "SERVER_URL=" + srv.URL, "LAB=" + dir,
		"VHOST_SETUP=0", "OVS_LOCK_WAIT=900", "AGENT_HOST=" + host}}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("bash", "-c", "for n in $(ip netns list | awk '/qrouter/{print $1}'); do echo $n; ip -n $n -o -4 addr; ip -n $n route; done; "+
				"grep -h 'ERROR\\|routers_updated\\|Finished a router update' "+strings.TrimPrefix(l.env[2], "LAB=")+"/log/l3-agent.log | cut -c1-200 | tail -n 20; "+
				"tail -n 40 "+strings.TrimPrefix(l.env[2], "LAB=")+"/log/*.log").CombinedOutput()
			t.Logf("agents' logs:\n%s", out)
		}
		if out, err := l.run("down"); err != nil {
			t.Logf("agents-lab.sh down: %v\n%s", err, out)
		}
	})
	// another lab (the OVN one) may hold the Open vSwitch lock: wait for it
	deadline := time.Now().Add(15 * time.Minute)
	for {
		out, err := l.run("up")
		if err == nil {
			break
		}
		if !strings.Contains(out, "could not get") || time.Now().After(deadline) {
			t.Fatalf("agents-lab.sh up: %v\n%s", err, out)
		}
		time.Sleep(5 * time.Second)
	}
	return srv, l, host
}

// waitDnsmasq waits for the network's qdhcp namespace with the DHCP port's
// address and dnsmasq serving it.
func waitDnsmasq(t *testing.T, netID any, addr string) {
	t.Helper()
	ns := fmt.Sprint("qdhcp-", netID)
	eventually(t, 60*time.Second, "dnsmasq in "+ns, func() bool {
		out, _ := exec.Command("ip", "-n", ns, "-4", "-o", "addr").CombinedOutput()
		return strings.Contains(string(out), " "+addr+"/") && exec.Command("pgrep", "-f", "dnsmasq.*"+fmt.Sprint(netID)).Run() == nil
	})
}

func apiPost(t *testing.T, srv *rpctest.Server, coll, key string, body map[string]any) map[string]any {
	t.Helper()
	return testutil.Do(t, "POST", srv.URL+"/v2.0/"+coll, map[string]any{key: body}).Expect(t, 201).Obj(key)
}

// TestAgentsEndToEnd: Debian's Zed agents against neutrino: the three are
// alive in /v2.0/agents; a subnet gets a qdhcp namespace with dnsmasq on
// the DHCP port's address; two VM ports plugged into the integration
// bridge go ACTIVE and dhclient gets their addresses; the VMs ping and
// talk TCP only as their security groups allow (vm1's group lets in ICMP
// and TCP 8080; vm2's lets in nothing); a port deleted and unplugged is
// cleaned up.
func TestAgentsEndToEnd(t *testing.T) {
	start := time.Now()
	srv, l, host := startLab(t)
	list := testutil.Do(t, "GET", srv.URL+"/v2.0/agents?alive=true&host="+host, nil).Expect(t, 200).List("agents")
	if len(list) != 3 {
		t.Fatalf("alive agents: %v", list)
	}
	net := apiPost(t, srv, "networks", "network", map[string]any{"name": "e2e"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.98.0.0/24", "ip_version": 4})
	waitDnsmasq(t, net["id"], "10.98.0.2")
	eventually(t, 60*time.Second, "DHCP port ACTIVE", func() bool {
		ps := testutil.Do(t, "GET", srv.URL+"/v2.0/ports?device_owner=network:dhcp&network_id="+net["id"].(string), nil).List("ports")
		return len(ps) == 1 && ps[0]["status"] == "ACTIVE"
	})
	web := apiPost(t, srv, "security-groups", "security_group", map[string]any{"name": "web"})
	for _, r := range []map[string]any{{"protocol": "icmp"}, {"protocol": "tcp", "port_range_min": 8080, "port_range_max": 8080}} {
		r["security_group_id"], r["direction"], r["ethertype"] = web["id"], "ingress", "IPv4"
		apiPost(t, srv, "security-group-rules", "security_group_rule", r)
	}
	closed := apiPost(t, srv, "security-groups", "security_group", map[string]any{"name": "closed"})
	ips := map[string]string{}
	for name, sg := range map[string]any{"vm1": web["id"], "vm2": closed["id"]} {
		ips[name] = plugVM(t, srv, l, host, name, net["id"], sg)
	}
	probe := func(from, cmd string) bool { _, err := l.run("vm", "exec", from, "bash", "-c", cmd); return err == nil }
	ping := func(from, to string) bool { return probe(from, "ping -c1 -W1 "+ips[to]) }
	tcp := func(from, to string, port int) bool {
		return probe(from, fmt.Sprintf("timeout 3 bash -c 'exec 3<>/dev/tcp/%s/%d'", ips[to], port))
	}
	// vm1 listens on 8080 and 9090
	for _, p := range []int{8080, 9090} {
		cmd := exec.Command("ip", "netns", "exec", "ntvm-vm1", "python3", "-m", "http.server", "-b", "0.0.0.0", fmt.Sprint(p))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	eventually(t, 30*time.Second, "vm2 pings vm1", func() bool { return ping("vm2", "vm1") })
	eventually(t, 15*time.Second, "vm2 reaches vm1:8080", func() bool { return tcp("vm2", "vm1", 8080) })
	if tcp("vm2", "vm1", 9090) {
		t.Error("vm2 reached vm1:9090, which vm1's security group does not open")
	}
	if ping("vm1", "vm2") {
		t.Error("vm1 pinged vm2, whose security group lets nothing in")
	}
	routing(t, srv, l, host, net["id"], ips)
	t.Logf("end to end in %s", time.Since(start).Round(time.Second))
}

// routing: a router between the VMs' subnet and a second one, with a
// gateway on a flat external network (the lab's ntvm-ext namespace is the
// external host, 172.31.251.1): vm3 on the second subnet pings vm1 through
// the router, vm1 reaches the external host through SNAT, and the
// external host reaches vm1 at its floating IP.
func routing(t *testing.T, srv *rpctest.Server, l *lab, host string, netID any, ips map[string]string) {
	l.must("ext", "up")
	t.Cleanup(func() { _, _ = l.run("ext", "down") })
	ext := apiPost(t, srv, "networks", "network", map[string]any{"name": "ext", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "extnet"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": ext["id"], "cidr": "172.31.251.0/24", "ip_version": 4,
		"gateway_ip": "172.31.251.1", "enable_dhcp": false, "allocation_pools": []any{map[string]any{"start": "172.31.251.10", "end": "172.31.251.99"}}})
	net2 := apiPost(t, srv, "networks", "network", map[string]any{"name": "e2e-2"})
	sub2 := apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net2["id"], "cidr": "10.99.0.0/24", "ip_version": 4})
	sub1 := testutil.Do(t, "GET", srv.URL+"/v2.0/subnets?network_id="+netID.(string), nil).List("subnets")[0]
	r := apiPost(t, srv, "routers", "router", map[string]any{"name": "e2e", "external_gateway_info": map[string]any{"network_id": ext["id"]}})
	for _, sub := range []any{sub1["id"], sub2["id"]} {
		testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	}
	ips["vm3"] = plugVM(t, srv, l, host, "vm3", net2["id"], nil)
	probe := func(from, cmd string) bool { _, err := l.run("vm", "exec", from, "bash", "-c", cmd); return err == nil }
	eventually(t, 180*time.Second, "vm3 pings vm1 through the router", func() bool { return probe("vm3", "ping -c1 -W1 "+ips["vm1"]) })
	eventually(t, 30*time.Second, "vm1 pings the external host (SNAT)", func() bool { return probe("vm1", "ping -c1 -W1 172.31.251.1") })
	vm1 := testutil.Do(t, "GET", srv.URL+"/v2.0/ports?name=vm1", nil).List("ports")[0]
	fip := apiPost(t, srv, "floatingips", "floatingip", map[string]any{"floating_network_id": ext["id"], "port_id": vm1["id"]})
	addr := fip["floating_ip_address"].(string)
	eventually(t, 120*time.Second, "the external host pings vm1 at "+addr, func() bool { return probe("ext", "ping -c1 -W1 "+addr) })
	eventually(t, 30*time.Second, "floating IP ACTIVE", func() bool {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/floatingips/"+fip["id"].(string), nil).Obj("floatingip")["status"] == "ACTIVE"
	})
}

// plugVM creates a port bound to host in a security group, plugs it as
// Nova would, waits for ACTIVE (at most a minute) and gets its address with
// dhclient.
func plugVM(t *testing.T, srv *rpctest.Server, l *lab, host, name string, netID, sg any) string {
	t.Helper()
	return plugVMWithin(t, 60*time.Second, srv, l, host, name, netID, sg)
}

// plugVMWithin is plugVM waiting at most active for ACTIVE.
func plugVMWithin(t *testing.T, active time.Duration, srv *rpctest.Server, l *lab, host, name string, netID, sg any) string {
	t.Helper()
	dev := "5a10e000-0000-4000-8000-00000000000" + name[len(name)-1:]
	body := map[string]any{"network_id": netID, "binding:host_id": host, "device_owner": "compute:nova", "device_id": dev, "name": name}
	if sg != nil {
		body["security_groups"] = []any{sg}
	}
	port := apiPost(t, srv, "ports", "port", body)
	id := port["id"].(string)
	if port["binding:vif_type"] != "ovs" {
		t.Fatalf("%s: binding %v", name, port["binding:vif_type"])
	}
	l.must("vm", "plug", name, id, port["mac_address"].(string), dev)
	eventually(t, active, name+" ACTIVE", func() bool {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Obj("port")["status"] == "ACTIVE"
	})
	want := port["fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
	if out, err := l.run("vm", "dhcp", name); err != nil {
		lab := strings.TrimPrefix(l.env[2], "LAB=")
		diag, _ := exec.Command("bash", "-c", "export OVS_RUNDIR="+lab+"/ovs; ovs-ofctl dump-flows nt-int | grep -v n_packets=0; "+
			"cat "+lab+"/state/dhcp/*/host "+lab+"/state/dhcp/*/opts; ps -o args= -C dnsmasq; ip -n ntvm-"+name+" addr; "+
			"ip netns exec ntvm-"+name+" ethtool -k eth0 | grep tx-checksumming").CombinedOutput()
		t.Fatalf("dhclient in %s: %v\n%s\n%s", name, err, out, diag)
	}
	if got := l.must("vm", "ip", name); got != want {
		t.Fatalf("%s: dhclient got %q, want %s", name, got, want)
	}
	return want
}
