package mechovn_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// tcpSink accepts one TCP connection on port (argv 1), reads it for secs (argv 2) and prints the
// rate it received, in kbit/s; it then closes the connection (the sender gets a reset).
const tcpSink = `import socket, sys, time
port, secs = int(sys.argv[1]), float(sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("", port))
l.listen(1)
l.settimeout(20)
c, _ = l.accept()
c.settimeout(secs)
n, t0 = 0, time.monotonic()
while time.monotonic() - t0 < secs:
    try:
        b = c.recv(1 << 16)
    except socket.timeout:
        break
    if not b:
        break
    n += len(b)
print(int(n * 8 / (time.monotonic() - t0) / 1000))
`

// tcpSource connects to addr:port (argv 1, 2) and sends as fast as it can for at most secs (argv 3)
// or until the receiver closes.
const tcpSource = `import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
secs = float(sys.argv[3])
s.settimeout(secs)
buf, end = b"x" * (1 << 16), time.monotonic() + secs
try:
    while time.monotonic() < end:
        s.sendall(buf)
except OSError:
    pass
`

// throughput measures TCP from the VM from to the VM to (address addr) for secs, in kbit/s, as
// the receiver counts it.
func throughput(t *testing.T, lab *ovnlab.Lab, from, to, addr string, secs int) int {
	t.Helper()
	const port = 7100
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := lab.Exec(to, "python3", "-c", tcpSink, strconv.Itoa(port), strconv.Itoa(secs))
		done <- result{out, err}
	}()
	waitFor(t, 10*time.Second, "the sink listening", func() bool {
		out, _ := lab.Exec(to, "ss", "-Hltn", fmt.Sprintf("sport = :%d", port))
		return strings.TrimSpace(out) != ""
	})
	if _, err := lab.Exec(from, "python3", "-c", tcpSource, addr, strconv.Itoa(port), strconv.Itoa(secs+5)); err != nil {
		t.Fatalf("sender %s: %v", from, err)
	}
	r := <-done
	kbps, err := strconv.Atoi(strings.TrimSpace(r.out))
	if r.err != nil || err != nil {
		t.Fatalf("receiver %s: %q, %v", to, r.out, r.err)
	}
	return kbps
}

// metered says whether the userspace datapath polices the IPv4 traffic to mac with a meter (the
// datapath flow's actions start with meter(N), which OVN's QoS rows become through set_meter),
// and gives the flow.
func metered(lab *ovnlab.Lab, mac string) (bool, string) {
	flows, _ := lab.Run("appctl", "dpctl/dump-flows")
	for _, f := range strings.Split(flows, "\n") {
		if strings.Contains(f, "dst="+mac+"),eth_type(0x0800)") && strings.Contains(f, "actions:meter(") {
			return true, f
		}
	}
	return false, flows
}

// TestDataplaneQoS measures TCP throughput between two VMs on one network and checks that a
// bandwidth limit rule applied through the API polices it on the userspace datapath (OVN's QoS
// meters): an egress limit on the sender's port and an ingress limit on the receiver's port each
// bring the rate down to about the limit (under twice it), and the rate comes back (over ten
// times the limit) when the rule is deleted or the policy taken off the port. Both directions
// police in the userspace datapath's meters.
func TestDataplaneQoS(t *testing.T) {
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-qos")
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	conf["DEFAULT.service_plugins"] = "segments,qos"
	conf["ml2.extension_drivers"] = "port_security,qos"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	e := &e2e{t: t, url: srv.URL, lab: lab}
	net := e.post("network", "networks", map[string]any{"name": "qos"})
	e.post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.50.0.0/24", "ip_version": 4})
	vm := func(name string) map[string]any {
		p := e.post("port", "ports", map[string]any{"name": name, "network_id": net["id"], "binding:host_id": lab.Chassis,
			"device_owner": "compute:nova", "device_id": "instance-" + name, "port_security_enabled": false})
		if err := lab.VM(name, p["id"].(string), p["mac_address"].(string)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, name+" ACTIVE", func() bool { return e.port(p["id"].(string))["status"] == "ACTIVE" })
		if _, err := lab.DHCP(name); err != nil {
			t.Fatal(err)
		}
		return p
	}
	vm1, vm2 := vm("vm1"), vm("vm2")
	ip2 := fixedIP(vm2)
	const limit, secs = 2000, 3
	measure := func(what string) int {
		if _, err := lab.NBCtl("--wait=hv", "--timeout=20", "sync"); err != nil {
			t.Fatal(err)
		}
		kbps := throughput(t, lab, "vm1", "vm2", ip2, secs)
		t.Logf("%s: %d kbit/s", what, kbps)
		return kbps
	}
	free := measure("no QoS")
	if free < 10*limit {
		t.Fatalf("unlimited rate %d kbit/s: too low to see a %d kbit/s limit", free, limit)
	}
	if ok, flow := metered(lab, vm2["mac_address"].(string)); ok {
		t.Errorf("no QoS: metered datapath flow %s", flow)
	}
	pol := e.post("policy", "qos/policies", map[string]any{"name": "limit"})
	setPolicy := func(port map[string]any, policy any) {
		testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+port["id"].(string), body("port", map[string]any{"qos_policy_id": policy})).Expect(t, 200)
	}
	// egress: the sender's port, the rule deleted after; ingress: the receiver's port, the policy
	// taken off the port after
	for _, c := range []struct {
		dir  string
		port map[string]any
	}{{"egress", vm1}, {"ingress", vm2}} {
		rule := e.post("bandwidth_limit_rule", "qos/policies/"+pol["id"].(string)+"/bandwidth_limit_rules",
			map[string]any{"max_kbps": limit, "direction": c.dir})
		setPolicy(c.port, pol["id"])
		got := measure(c.dir + " limit on " + c.port["name"].(string))
		if ok, flow := metered(lab, vm2["mac_address"].(string)); ok {
			t.Logf("datapath flow: %s", flow)
		} else {
			t.Errorf("%s limit: no metered datapath flow to vm2:\n%s", c.dir, flow)
		}
		if got > 2*limit || got < limit/10 {
			t.Errorf("%s limit %d kbit/s: measured %d kbit/s (unlimited %d)", c.dir, limit, got, free)
		}
		what := "rule deleted"
		if c.dir == "egress" {
			e.del("qos/policies/" + pol["id"].(string) + "/bandwidth_limit_rules/" + rule["id"].(string))
		} else {
			what = "policy unset"
			setPolicy(c.port, nil)
		}
		if back := measure(c.dir + " " + what); back < 10*limit {
			t.Errorf("%s %s: measured %d kbit/s, unlimited %d", c.dir, what, back, free)
		}
	}
}
