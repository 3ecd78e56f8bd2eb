package mechovn_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestExternalPortNorthd: a real ovn-northd takes an external port as neutrino writes it: the SB
// has its Port_Binding of type external and the network's HA_Chassis_Group with the gateway
// chassis at 32767 (OVN's central part only, with a chassis row no ovn-controller stands behind).
func TestExternalPortNorthd(t *testing.T) {
	lab := ovnlab.StartCentral(t, filepath.Join(t.TempDir(), "ovn"))
	lab.Must("fake-chassis", lab.Chassis)
	conf := ovnConfig(lab.NBTCP(), lab.SBTCP())
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "sriov"})
	post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.5.0.0/24", "ip_version": 4})
	vf := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct"})
	sb := func(args ...string) string {
		out, _ := lab.SBCtl(append([]string{"--bare"}, args...)...)
		return strings.TrimSpace(out)
	}
	waitFor(t, 20*time.Second, "the SB Port_Binding of type external", func() bool {
		return sb("--columns=type", "find", "port_binding", "logical_port="+vf["id"].(string)) == "external"
	})
	group := "neutron-" + net["id"].(string)
	var chassis string
	waitFor(t, 20*time.Second, "the SB HA_Chassis_Group with the gateway chassis", func() bool {
		hc := sb("--columns=ha_chassis", "find", "ha_chassis_group", "name="+group)
		if hc == "" {
			return false
		}
		chassis = sb("--columns=priority", "list", "ha_chassis", strings.Fields(hc)[0])
		return chassis != ""
	})
	if chassis != "32767" {
		t.Errorf("SB HA_Chassis priority %q, want 32767", chassis)
	}
	if pb := sb("--columns=ha_chassis_group", "find", "port_binding", "logical_port="+vf["id"].(string)); pb == "" {
		t.Error("the external Port_Binding has no ha_chassis_group")
	}
}
