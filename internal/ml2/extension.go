package ml2

import (
	"fmt"

	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/registry"
)

// ExtensionDriver is an ML2 extension driver (Neutron's
// neutron_lib.plugins.ml2.api.ExtensionDriver): it adds attributes and
// behaviour to ML2's networks, subnets and ports, through the resources'
// attribute maps and table hooks it installs on p, and names the API
// extensions it implements. Each driver lives in its own ext_*.go file.
type ExtensionDriver interface {
	// Initialize installs the driver on p and returns the extension
	// aliases it implements.
	Initialize(env *plugin.Env, p *Plugin) (aliases []string, err error)
}

// extensionManager holds the configured extension drivers.
type extensionManager struct {
	loaded map[string]ExtensionDriver
	order  []string
	// aliases the drivers implement (core aliases: see Offers)
	aliases map[string]bool
}

// selectExtensionDrivers makes the configured extension drivers (before
// the resources are declared, so their code can ask which are loaded).
func (p *Plugin) selectExtensionDrivers() error {
	mods, err := p.selected(registry.ExtensionDrivers, "extension_drivers")
	if err != nil {
		return err
	}
	p.ext = &extensionManager{loaded: map[string]ExtensionDriver{}, aliases: map[string]bool{}}
	for _, m := range mods {
		p.ext.loaded[m.Name()] = m.New.(ExtensionDriverFactory)()
		p.ext.order = append(p.ext.order, m.Name())
	}
	return nil
}

// initExtensionDrivers installs the drivers, in configuration order.
func (p *Plugin) initExtensionDrivers() error {
	for _, name := range p.ext.order {
		aliases, err := p.ext.loaded[name].Initialize(p.env, p)
		if err != nil {
			return fmt.Errorf("extension driver %s: %w", name, err)
		}
		for _, a := range aliases {
			p.ext.aliases[a] = true
		}
		p.env.AddExtensions(aliases...)
	}
	return nil
}

// ExtensionDriverLoaded reports whether the named extension driver is
// configured.
func (p *Plugin) ExtensionDriverLoaded(name string) bool {
	_, ok := p.ext.loaded[name]
	return ok
}
