package plugins_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/neutrino-os/neutrino/internal/plugins"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// referenceConf is the configuration the reference Neutron of the conformance recordings runs with
// (neutron-up.sh of the development machine; its [database] connection is the test's).
const referenceConf = `[DEFAULT]
auth_strategy = noauth
core_plugin = ml2
service_plugins = router,segments,trunk,qos,port_forwarding
bind_host = 127.0.0.1
bind_port = 19696
api_workers = 2
rpc_workers = 0
transport_url = fake:/
notify_nova_on_port_status_changes = False
notify_nova_on_port_data_changes = False
allow_overlapping_ips = True
[ml2]
type_drivers = flat,vlan,vxlan,geneve
tenant_network_types = vxlan
mechanism_drivers = openvswitch
extension_drivers = port_security,dns,qos
[ml2_type_flat]
flat_networks = *
[ml2_type_vlan]
network_vlan_ranges = physnet1:100:200
[ml2_type_vxlan]
vni_ranges = 1:10000
[ml2_type_geneve]
vni_ranges = 1:10000
[securitygroup]
enable_security_group = True
`

// TestReferenceConfigStarts: the reference's own neutron.conf starts
// neutrino and serves the extensions of its service plugins and ML2
// extension drivers (the plugins neutrino lacks are warnings naming them).
func TestReferenceConfigStarts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "neutron.conf")
	if err := os.WriteFile(p, []byte(referenceConf), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	s := testutil.StartServer(t, testutil.Options{Files: []string{p}, Log: &log})
	l := testutil.Do(t, "GET", s.URL+"/v2.0/extensions", nil).Expect(t, 200).List("extensions")
	have := map[string]bool{}
	for _, e := range l {
		have[e["alias"].(string)] = true
	}
	for _, a := range []string{"qos", "qos-default", "port-resource-request", "trunk", "trunk-details", "segment",
		"standard-attr-segment", "address-group", "rbac-address-group", "availability_zone", "subnet_onboard",
		"port-mac-override", "dns-integration", "port-security"} {
		if !have[a] {
			t.Errorf("extension %s is not listed", a)
		}
	}
	for _, missing := range []string{"router", "port_forwarding"} {
		if have["router"] {
			continue // the L3 plugin has landed
		}
		if !strings.Contains(log.String(), "service plugin \\\""+missing) {
			t.Errorf("no warning names %s:\n%s", missing, log.String())
		}
	}
}
