package rpc_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestAgentsTrunk: Debian's Open vSwitch agent wires a trunk against neutrino as Nova and os-vif
// make it: a trunk (one VLAN sub-port on a second network) on an unbound port; the port bound to
// the agent's host gets its trunk bridge tbr-<trunk id[:10]> as vif_details bridge_name; plugged
// into that bridge as a VM, the agent patches it into the integration bridge (tpi-/spi- ports)
// through the trunk RPC: the sub-port is bound to the host (binding:host_id, vif_type ovs,
// device_owner trunk:subport) and ACTIVE, the parent ACTIVE, the trunk ACTIVE (and again after an
// add_subports, which answers DOWN, whose SubPort push the agent wires); the VM gets the
// parent's address by DHCP untagged and the sub-port's on a VLAN 101 interface with its MAC.
func TestAgentsTrunk(t *testing.T) {
	srv, l, host := startLabWith(t, "", map[string]string{"DEFAULT.service_plugins": "router,trunk"})
	get := func(coll, id, key string) map[string]any {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/"+coll+"/"+id, nil).Expect(t, 200).Obj(key)
	}
	net := apiPost(t, srv, "networks", "network", map[string]any{"name": "trunk-parent"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net["id"], "cidr": "10.97.0.0/24", "ip_version": 4})
	net2 := apiPost(t, srv, "networks", "network", map[string]any{"name": "trunk-vlan101"})
	apiPost(t, srv, "subnets", "subnet", map[string]any{"network_id": net2["id"], "cidr": "10.96.0.0/24", "ip_version": 4})
	dev := "5a10e000-0000-4000-8000-0000000000aa"
	parent := apiPost(t, srv, "ports", "port", map[string]any{"network_id": net["id"], "name": "trk", "device_owner": "compute:nova", "device_id": dev})
	sub := apiPost(t, srv, "ports", "port", map[string]any{"network_id": net2["id"], "name": "trk-101"})
	tr := apiPost(t, srv, "trunks", "trunk", map[string]any{"port_id": parent["id"],
		"sub_ports": []any{map[string]any{"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 101}}})
	id := tr["id"].(string)
	parent = testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+parent["id"].(string), map[string]any{"port": map[string]any{"binding:host_id": host}}).
		Expect(t, 200).Obj("port")
	br, _ := parent["binding:vif_details"].(map[string]any)["bridge_name"].(string)
	if parent["binding:vif_type"] != "ovs" || br != "tbr-"+id[:10] {
		t.Fatalf("trunk parent's binding: %v %v", parent["binding:vif_type"], parent["binding:vif_details"])
	}
	l.must("vm", "plug", "trk", parent["id"].(string), parent["mac_address"].(string), dev, br)
	eventually(t, 90*time.Second, "trunk ACTIVE", func() bool { return get("trunks", id, "trunk")["status"] == "ACTIVE" })
	eventually(t, 60*time.Second, "sub-port and parent ACTIVE", func() bool {
		return get("ports", sub["id"].(string), "port")["status"] == "ACTIVE" && get("ports", parent["id"].(string), "port")["status"] == "ACTIVE"
	})
	s := get("ports", sub["id"].(string), "port")
	if s["binding:host_id"] != host || s["binding:vif_type"] != "ovs" || s["device_owner"] != "trunk:subport" {
		t.Fatalf("sub-port: host %v vif_type %v owner %v", s["binding:host_id"], s["binding:vif_type"], s["device_owner"])
	}
	// a sub-port added to the wired trunk: the agent takes the SubPort push and binds it too
	sub2 := apiPost(t, srv, "ports", "port", map[string]any{"network_id": net2["id"], "name": "trk-102"})
	add := map[string]any{"sub_ports": []any{map[string]any{"port_id": sub2["id"], "segmentation_type": "vlan", "segmentation_id": 102}}}
	if got := testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+id+"/add_subports", add).Expect(t, 200).Body["status"]; got != "DOWN" {
		t.Errorf("add_subports answered status %v, want DOWN", got)
	}
	eventually(t, 60*time.Second, "the added sub-port bound and ACTIVE, the trunk ACTIVE again", func() bool {
		p := get("ports", sub2["id"].(string), "port")
		return p["binding:host_id"] == host && p["status"] == "ACTIVE" && get("trunks", id, "trunk")["status"] == "ACTIVE"
	})
	ports := l.ovs(t, "list-ports", "nt-int")
	for _, want := range []string{"tpi-" + parent["id"].(string)[:11], "spi-" + sub["id"].(string)[:11], "spi-" + sub2["id"].(string)[:11]} {
		if !strings.Contains(ports, want) {
			t.Errorf("no %s on the integration bridge: %s", want, ports)
		}
	}
	// the agent took every push and call without an error
	if out, _ := exec.Command("grep", "-hE", "^[-0-9]+ [0-9:.]+ [0-9]+ ERROR |Traceback", strings.TrimPrefix(l.env[2], "LAB=")+"/log/openvswitch-agent.log").CombinedOutput(); len(out) > 0 {
		t.Errorf("the Open vSwitch agent logged errors:\n%s", out)
	}
	if got := l.ovs(t, "list-ports", br); !strings.Contains(got, "tpt-") || !strings.Contains(got, "spt-") {
		t.Errorf("trunk bridge %s ports: %s", br, got)
	}
	waitDnsmasq(t, net["id"], "10.97.0.2")
	waitDnsmasq(t, net2["id"], "10.96.0.2")
	l.must("vm", "dhcp", "trk")
	if got, want := l.must("vm", "ip", "trk"), parent["fixed_ips"].([]any)[0].(map[string]any)["ip_address"]; got != want {
		t.Fatalf("parent's address by DHCP: %q, want %v", got, want)
	}
	// no 8021q in the lab's kernel: the VM sends its VLAN 101 ARP request from the sub-port's MAC
	// and address by hand, and must hear the sub-port network's DHCP port answer
	subIP := sub["fixed_ips"].([]any)[0].(map[string]any)["ip_address"].(string)
	out, err := l.run("vm", "exec", "trk", "python3", "-c", vlanARP, sub["mac_address"].(string), subIP, "10.96.0.2", "101")
	if err != nil {
		t.Fatalf("no ARP answer from 10.96.0.2 on VLAN 101: %v\n%s", err, out)
	}
}

// ovs runs ovs-vsctl on the lab's Open vSwitch.
func (l *lab) ovs(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("ovs-vsctl", args...)
	cmd.Env = append(cmd.Environ(), "OVS_RUNDIR="+strings.TrimPrefix(l.env[2], "LAB=")+"/ovs")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ovs-vsctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// vlanARP (MAC IP TARGET VID) sends 802.1Q-tagged ARP requests on eth0 for up to 20 s and exits 0
// on TARGET's answer to MAC (the tag may arrive stripped into the packet's metadata).
const vlanARP = `
import socket, struct, sys, time
mac, ip, dst, vid = bytes.fromhex(sys.argv[1].replace(":", "")), socket.inet_aton(sys.argv[2]), socket.inet_aton(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("eth0", 0))
s.settimeout(0.5)
arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, mac, ip, bytes(6), dst)
frame = b"\xff" * 6 + mac + struct.pack("!HHH", 0x8100, vid, 0x0806) + arp
deadline = time.time() + 20
while time.time() < deadline:
    s.send(frame)
    end = time.time() + 1
    while time.time() < end:
        try:
            d = s.recv(2048)
        except socket.timeout:
            break
        off = 18 if d[12:14] == b"\x81\x00" else 14
        if d[:6] == mac and d[off-2:off] == b"\x08\x06" and d[off+6:off+8] == b"\x00\x02" and d[off+14:off+18] == dst:
            print(d[off+8:off+14].hex())
            sys.exit(0)
sys.exit(1)
`
