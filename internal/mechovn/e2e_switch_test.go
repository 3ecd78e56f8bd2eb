package mechovn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// dnsQuery asks for name's A records at server (UDP 53) from a namespace and prints the addresses
// of the answer, one per line (a minimal resolver: the lab has no dig).
const dnsQuery = `import socket, struct, sys
name, server = sys.argv[1], sys.argv[2]
q = struct.pack(">HHHHHH", 0x4e54, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, (server, 53))
r = s.recv(1500)
n, off = struct.unpack(">H", r[6:8])[0], len(q)
for _ in range(n):
    off += 2 if r[off] >= 0xc0 else r.index(b"\x00", off) + 1 - off
    typ, _, _, size = struct.unpack(">HHIH", r[off:off + 10])
    off += 10
    if typ == 1:
        print(socket.inet_ntoa(r[off:off + 4]))
    off += size
`

// TestDataplaneSwitchSide checks with packets what the switch side writes: a VM's dhclient gets the
// port's extra DHCP options (MTU and router) over the subnet's, and the classless static route to
// the metadata service through the network's metadata port; another VM gets the subnet's; OVN's
// DNS answers for a port's dns_name from the network's DNS records.
func TestDataplaneSwitchSide(t *testing.T) {
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-sw")
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	conf["ovn.ovn_metadata_enabled"] = "true"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	e := &e2e{t: t, url: srv.URL, lab: lab}
	net := e.post("network", "networks", map[string]any{"name": "sw"})
	e.post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.40.0.0/24", "ip_version": 4,
		"dns_nameservers": []string{"10.40.0.53"}})
	vm := func(name string, attrs map[string]any) map[string]any {
		attrs["name"], attrs["network_id"], attrs["binding:host_id"] = name, net["id"], lab.Chassis
		attrs["device_owner"], attrs["device_id"] = "compute:nova", "instance-"+name
		p := e.post("port", "ports", attrs)
		if err := lab.VM(name, p["id"].(string), p["mac_address"].(string)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, name+" ACTIVE", func() bool { return e.port(p["id"].(string))["status"] == "ACTIVE" })
		return p
	}
	vm1 := vm("vm1", map[string]any{"port_security_enabled": false, "dns_name": "web", "extra_dhcp_opts": []any{
		map[string]any{"opt_name": "mtu", "opt_value": "1400"}, map[string]any{"opt_name": "router", "opt_value": "10.40.0.254"}}})
	vm("vm2", map[string]any{"port_security_enabled": false})
	meta := metadataPortOf(t, srv.URL, net["id"])
	metaIP := meta["fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
	route := "32 169 254 169 254 " + strings.ReplaceAll(metaIP, ".", " ")
	for name, want := range map[string][2]string{"vm1": {"1400", "10.40.0.254"}, "vm2": {"1442", "10.40.0.1"}} {
		lease, err := lab.DHCP(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s lease %v", name, lease)
		// the routes have spaces: read from dhclient's log line
		logs, _ := filepath.Glob(filepath.Join(lab.Dir, "log", "dhclient-*"+name+".log"))
		var line []byte
		if len(logs) == 1 {
			line, _ = os.ReadFile(logs[0])
		}
		if lease["mtu"] != want[0] || lease["routers"] != want[1] || !strings.Contains(string(line), "routes="+route+" ") {
			t.Errorf("%s: lease %v (%s), want mtu %s, router %s, routes from %q", name, lease, line, want[0], want[1], route)
		}
	}
	// vm2 asks OVN's DNS (it answers any query sent from the switch) for vm1's name
	if _, err := lab.Exec("vm2", "ip", "neigh", "replace", "10.40.0.53", "lladdr", "02:00:00:00:00:53", "dev", "eth0", "nud", "permanent"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web.example.org", "web"} {
		var out string
		waitFor(t, 10*time.Second, "an answer for "+name, func() bool {
			out, _ = lab.Exec("vm2", "python3", "-c", dnsQuery, name, "10.40.0.53")
			return strings.TrimSpace(out) == fixedIP(vm1)
		})
	}
}
