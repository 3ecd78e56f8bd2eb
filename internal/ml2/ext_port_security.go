package ml2

import "github.com/neutrino-os/neutrino/internal/plugin"

// portSecurity is the port_security extension driver: port_security_enabled
// on networks and ports (declared with them; without the driver a network
// keeps the default and ports follow their network).
type portSecurity struct{}

func init() {
	RegisterExtensionDriver("port_security", func() ExtensionDriver { return portSecurity{} })
}

func (portSecurity) Initialize(*plugin.Env, *Plugin) ([]string, error) {
	return []string{"port-security"}, nil
}
