package ml2

import (
	"fmt"
	"slices"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/registry"
)

// TypeDriverFactory makes a type driver from the configuration.
type TypeDriverFactory func(c *config.Config) (TypeDriver, error)

// RegisterTypeDriver adds a type driver under its network type name
// (namespace registry.TypeDrivers, selected by [ml2] type_drivers).
func RegisterTypeDriver(name string, f TypeDriverFactory) {
	registry.Register(registry.Module{ID: registry.TypeDrivers + "." + name, New: f})
}

// MechanismDriverFactory makes a mechanism driver.
type MechanismDriverFactory func() MechanismDriver

// RegisterMechanismDriver adds a mechanism driver (namespace
// registry.MechanismDrivers, selected by [ml2] mechanism_drivers).
func RegisterMechanismDriver(name string, f MechanismDriverFactory, aliases ...string) {
	registry.Register(registry.Module{ID: registry.MechanismDrivers + "." + name, Aliases: aliases, New: f})
}

// ExtensionDriverFactory makes an extension driver.
type ExtensionDriverFactory func() ExtensionDriver

// RegisterExtensionDriver adds an extension driver (namespace
// registry.ExtensionDrivers, selected by [ml2] extension_drivers).
func RegisterExtensionDriver(name string, f ExtensionDriverFactory) {
	registry.Register(registry.Module{ID: registry.ExtensionDrivers + "." + name, New: f})
}

// Component is a part of the ML2 plugin living in its own package (security
// groups, subnet pools, RBAC): always on, set up after ML2's own resources,
// in Order.
type Component struct {
	Name  string
	Order int
	Setup func(env *plugin.Env, p *Plugin) error
}

// RegisterComponent adds an ML2 component (namespace
// registry.ML2Components); packages call it from init.
func RegisterComponent(c Component) {
	registry.Register(registry.Module{ID: registry.ML2Components + "." + c.Name, Order: c.Order, New: c.Setup})
}

func (p *Plugin) setupComponents(env *plugin.Env) error {
	for _, m := range registry.Modules(registry.ML2Components) {
		if err := m.New.(func(*plugin.Env, *Plugin) error)(env, p); err != nil {
			return fmt.Errorf("ml2 component %s: %w", m.Name(), err)
		}
	}
	return nil
}

// neutronOnly are driver names of Neutron's tree that neutrino does not
// have (yet): configuring one is a start-up warning, not an error, so that
// an operator's files start; any other unknown name is an error.
var neutronOnly = map[string][]string{
	registry.MechanismDrivers: {"openvswitch", "linuxbridge", "sriovnicswitch", "macvtap", "l2population",
		"fake_agent", "logger", "test", "baremetal", "l2gw"},
	registry.ExtensionDrivers: {"qos", "data_plane_status", "uplink_status_propagation", "port_hints",
		"subnet_onboard", "port_trusted"},
	registry.TypeDrivers: {},
}

// selected resolves the names configured for a namespace into modules,
// warning about Neutron drivers neutrino lacks and failing on anything
// else unknown (the error lists the names that exist).
func (p *Plugin) selected(ns, option string) ([]registry.Module, error) {
	var out []registry.Module
	for _, name := range p.env.Config.List("ml2", option) {
		m, err := registry.Lookup(ns, name)
		if err == nil {
			out = append(out, m)
			continue
		}
		if slices.Contains(neutronOnly[ns], name) {
			p.env.Log.Warn("ml2: driver not implemented by neutrino, ignored", "option", "[ml2] "+option, "driver", name)
			continue
		}
		return nil, fmt.Errorf("[ml2] %s: %w", option, err)
	}
	return out, nil
}

// setupTypeDrivers is the type manager: it makes the configured type
// drivers.
func (p *Plugin) setupTypeDrivers() error {
	mods, err := p.selected(registry.TypeDrivers, "type_drivers")
	if err != nil {
		return err
	}
	p.drivers = map[string]TypeDriver{}
	for _, m := range mods {
		d, err := m.New.(TypeDriverFactory)(p.env.Config)
		if err != nil {
			return err
		}
		p.drivers[m.Name()] = d
	}
	return nil
}
