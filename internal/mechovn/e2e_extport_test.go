package mechovn_test

import (
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestDataplaneExternalPort: a host outside OVN on the provider network (an SR-IOV VF or a bare
// metal NIC: here a namespace on the provider bridge) whose MAC is an external port's gets its
// address by DHCP from OVN, answered by the gateway chassis at the top of the network's HA chassis
// group. Before, the port was an ordinary LSP waiting for an ovn-controller to claim it and no
// DHCP answer came.
func TestDataplaneExternalPort(t *testing.T) {
	lab := ovnlab.Start(t, "/tmp/neutrino-ovn-extport")
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(lab.NBTCP(), lab.SBTCP())})
	post := poster(t, srv.URL)
	if err := lab.External("bm1", "192.0.2.99/24"); err != nil {
		t.Fatal(err)
	}
	mac, err := lab.Exec("bm1", "cat", "/sys/class/net/eth0/address")
	if err != nil {
		t.Fatal(err)
	}
	net := post("network", "networks", map[string]any{"name": "provider", "provider:network_type": "flat",
		"provider:physical_network": lab.Physnet})
	post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "172.25.0.0/24", "ip_version": 4, "gateway_ip": "172.25.0.1"})
	p := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct", "mac_address": strings.TrimSpace(mac),
		"port_security_enabled": false})
	ip := p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"]
	waitFor(t, 20*time.Second, "chassis1 claiming the external port", func() bool {
		out, _ := lab.SBCtl("--bare", "--columns=chassis", "find", "port_binding", "logical_port="+p["id"].(string))
		return strings.TrimSpace(out) != ""
	})
	lease, err := lab.DHCP("bm1")
	if err != nil {
		t.Fatal(err)
	}
	if lease["ip"] != ip || lease["routers"] != "172.25.0.1" {
		t.Errorf("lease %v, want ip %v, router 172.25.0.1", lease, ip)
	}
}
