package ml2

import "github.com/neutrino-os/neutrino/internal/plugin"

// Port extension drivers whose behaviour lives in the port code, which
// asks ExtensionDriverLoaded: port_numa_affinity_policy and
// port_device_profile store their attribute (otherwise it is accepted and
// answered as null), tag_ports_during_bulk_creation stores the tags given
// at creation. Their aliases are listed by the port resource itself, as
// Neutron lists them whatever the drivers.
type portAttrDriver struct{}

func init() {
	for _, name := range []string{"port_numa_affinity_policy", "port_device_profile", "tag_ports_during_bulk_creation"} {
		RegisterExtensionDriver(name, func() ExtensionDriver { return portAttrDriver{} })
	}
}

func (portAttrDriver) Initialize(*plugin.Env, *Plugin) ([]string, error) { return nil, nil }
