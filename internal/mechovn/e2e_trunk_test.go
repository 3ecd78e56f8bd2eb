package mechovn_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// vlanNIC makes the VM namespace ns (plugged by ovnlab as the trunk's parent: its eth0 is the
// parent's VIF) a VM whose NIC carries VLAN vid: this kernel has no 802.1Q support
// (CONFIG_VLAN_8021Q unset, so no `ip link add ... type vlan`), so an OVS bridge of the lab's
// vswitchd plays the NIC. The parent's VIF on br-int becomes a veth to that bridge's trunk port;
// the namespace's eth0 hangs on it untagged (trunks=0) and a second interface eth0.<vid> with
// mac on its access port of VLAN vid: what eth0.<vid> sends reaches br-int tagged with vid. It
// returns the command that moves eth0.<vid> to another VLAN.
func vlanNIC(t *testing.T, lab *ovnlab.Lab, ns, parentID, parentMAC, mac string, vid string) func(vid string) {
	t.Helper()
	br, nsName := "brtrk", "ovnvm-"+ns
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v: %s", name, args, err, out)
		}
	}
	vsctl := func(args ...string) {
		t.Helper()
		if _, err := lab.Run(append([]string{"vsctl"}, args...)...); err != nil {
			t.Fatal(err)
		}
	}
	clean := func() {
		_, _ = lab.Run("vsctl", "--if-exists", "del-br", br)
		for _, l := range []string{"trkp", "trka", "trkb"} {
			_ = exec.Command("ip", "link", "del", l).Run()
		}
	}
	clean() // what a killed run left
	t.Cleanup(clean)
	// the parent's VIF moves from eth0 to trkp, whose peer is the NIC bridge's trunk port
	old, err := lab.Run("vsctl", "--bare", "--columns=name", "find", "Interface", "external_ids:iface-id="+parentID)
	if err != nil || strings.TrimSpace(old) == "" {
		t.Fatalf("the parent's VIF: %q %v", old, err)
	}
	vsctl("del-port", "br-int", strings.TrimSpace(old))
	vsctl("add-br", br, "--", "set", "bridge", br, "datapath_type=netdev", "fail_mode=standalone")
	run("ip", "link", "add", "trkp", "type", "veth", "peer", "name", "trkq")
	run("ip", "link", "set", "trkp", "up")
	run("ip", "link", "set", "trkq", "up")
	vsctl("add-port", br, "trkq")
	vsctl("add-port", "br-int", "trkp", "--", "set", "interface", "trkp", "external_ids:iface-id="+parentID,
		"external_ids:attached-mac="+parentMAC, "external_ids:iface-status=active")
	// eth0 (already in the namespace): its old peer joins the bridge untagged
	run("ip", "link", "add", "trka", "type", "veth", "peer", "name", "trkx")
	run("ip", "link", "add", "trkb", "type", "veth", "peer", "name", "trky")
	run("ip", "link", "set", "trkx", "netns", nsName)
	run("ip", "link", "set", "trky", "netns", nsName)
	run("ip", "-n", nsName, "link", "del", "eth0")
	run("ip", "-n", nsName, "link", "set", "trkx", "name", "eth0")
	run("ip", "-n", nsName, "link", "set", "trky", "name", "eth0."+vid)
	for dev, m := range map[string]string{"eth0": parentMAC, "eth0." + vid: mac} {
		run("ip", "-n", nsName, "link", "set", dev, "address", m)
		run("ip", "-n", nsName, "link", "set", dev, "up")
		run("ip", "netns", "exec", nsName, "ethtool", "-K", dev, "tx", "off")
	}
	for _, l := range []string{"trka", "trkb"} {
		run("ip", "link", "set", l, "up")
	}
	vsctl("add-port", br, "trka", "--", "set", "port", "trka", "trunks=0")
	vsctl("add-port", br, "trkb", "--", "set", "port", "trkb", "tag="+vid)
	return func(v string) { vsctl("set", "port", "trkb", "tag="+v) }
}

// TestDataplaneTrunk: a trunk with ML2/OVN carries a sub-port's traffic tagged with its VLAN on
// the parent's VIF. A VM plugged as the parent port, whose NIC carries VLAN 101 (vlanNIC) with the
// sub-port's MAC and address, is reached from a VM of the sub-port's network on its sub-port address
// and from a VM of the parent's network on the parent's; moved to VLAN 102 (the trunk's other
// sub-port's tag, on another network) the sub-port address is not reached any more, and back on
// 101 it is; the sub-port turns ACTIVE with its parent. Before, the sub-port was a plain LSP of no
// VIF, and the bound parent could not be trunked.
func TestDataplaneTrunk(t *testing.T) {
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-trunk")
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	conf["DEFAULT.service_plugins"] = "segments,trunk"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	e := &e2e{t: t, url: srv.URL, lab: lab}
	nets := map[string]map[string]any{}
	for name, cidr := range map[string]string{"n1": "10.71.0.0/24", "n2": "10.72.0.0/24", "n3": "10.73.0.0/24"} {
		nets[name] = e.post("network", "networks", map[string]any{"name": name})
		e.post("subnet", "subnets", map[string]any{"network_id": nets[name]["id"], "cidr": cidr, "ip_version": 4})
	}
	sg := e.post("security_group", "security-groups", map[string]any{"name": "icmp"})
	e.post("security_group_rule", "security-group-rules", map[string]any{"security_group_id": sg["id"],
		"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp"})
	parent := e.vm("trunkvm", nets["n1"], sg["id"])
	sub := e.post("port", "ports", map[string]any{"network_id": nets["n2"]["id"], "name": "sub101", "security_groups": []any{sg["id"]}})
	sub3 := e.post("port", "ports", map[string]any{"network_id": nets["n3"]["id"], "name": "sub102", "security_groups": []any{sg["id"]}})
	tr := e.post("trunk", "trunks", map[string]any{"port_id": parent["id"], "sub_ports": []any{
		map[string]any{"port_id": sub["id"], "segmentation_type": "vlan", "segmentation_id": 101},
		map[string]any{"port_id": sub3["id"], "segmentation_type": "vlan", "segmentation_id": 102}}})
	t.Cleanup(func() { testutil.Do(t, "DELETE", srv.URL+"/v2.0/trunks/"+tr["id"].(string), nil) })
	setVLAN := vlanNIC(t, lab, "trunkvm", parent["id"].(string), parent["mac_address"].(string), sub["mac_address"].(string), "101")
	vm1, vm2 := e.vm("vm1", nets["n1"], sg["id"]), e.vm("vm2", nets["n2"], sg["id"])
	addr := func(ns, dev string, p map[string]any) {
		if _, err := lab.Exec(ns, "ip", "addr", "add", fixedIP(p)+"/24", "dev", dev); err != nil {
			t.Fatal(err)
		}
	}
	addr("trunkvm", "eth0", parent)
	addr("trunkvm", "eth0.101", sub)
	addr("vm1", "eth0", vm1)
	addr("vm2", "eth0", vm2)
	ping := func(from, to string) bool { return lab.Ping(from, to) == nil }
	waitFor(t, 30*time.Second, "vm1 reaching the parent's address", func() bool { return ping("vm1", fixedIP(parent)) })
	waitFor(t, 30*time.Second, "vm2 reaching the sub-port's address over VLAN 101", func() bool { return ping("vm2", fixedIP(sub)) })
	waitFor(t, 10*time.Second, "the sub-port ACTIVE", func() bool { return e.port(sub["id"].(string))["status"] == "ACTIVE" })

	// tagged 102, the frames belong to the other sub-port (another network, another MAC): unreached
	setVLAN("102")
	_, _ = lab.Exec("vm2", "ip", "neigh", "flush", "all")
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if ping("vm2", fixedIP(sub)) {
			t.Fatal("the sub-port's address answers over VLAN 102")
		}
	}
	setVLAN("101")
	waitFor(t, 30*time.Second, "vm2 reaching the sub-port again over VLAN 101", func() bool { return ping("vm2", fixedIP(sub)) })
}
