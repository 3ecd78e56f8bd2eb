package ml2

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/registry"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// MechanismDriver is an ML2 mechanism driver (Neutron's
// neutron_lib.plugins.ml2.api.MechanismDriver): it is called inside the
// write transaction (*_precommit: an error aborts the request) and after
// it commits (*_postcommit: an error is logged with the request id and the
// driver repairs what it missed; the write stays), and binds ports.
// Embed BaseMechanismDriver for the calls a driver does not need.
type MechanismDriver interface {
	// Initialize is called once at start-up.
	Initialize(env *plugin.Env, p *Plugin) error

	CreateNetworkPrecommit(c *NetworkContext) error
	CreateNetworkPostcommit(c *NetworkContext) error
	UpdateNetworkPrecommit(c *NetworkContext) error
	UpdateNetworkPostcommit(c *NetworkContext) error
	DeleteNetworkPrecommit(c *NetworkContext) error
	DeleteNetworkPostcommit(c *NetworkContext) error

	CreateSubnetPrecommit(c *SubnetContext) error
	CreateSubnetPostcommit(c *SubnetContext) error
	UpdateSubnetPrecommit(c *SubnetContext) error
	UpdateSubnetPostcommit(c *SubnetContext) error
	DeleteSubnetPrecommit(c *SubnetContext) error
	DeleteSubnetPostcommit(c *SubnetContext) error

	CreatePortPrecommit(c *PortContext) error
	CreatePortPostcommit(c *PortContext) error
	UpdatePortPrecommit(c *PortContext) error
	UpdatePortPostcommit(c *PortContext) error
	DeletePortPrecommit(c *PortContext) error
	DeletePortPostcommit(c *PortContext) error

	// BindPort binds the port on c.Host to one of c.SegmentsToBind by
	// calling c.SetBinding, or leaves it for the next driver.
	BindPort(c *PortContext)
}

// BaseMechanismDriver implements every call as a no-op.
type BaseMechanismDriver struct{}

// Initialize does nothing.
func (BaseMechanismDriver) Initialize(*plugin.Env, *Plugin) error { return nil }

func (BaseMechanismDriver) CreateNetworkPrecommit(*NetworkContext) error  { return nil }
func (BaseMechanismDriver) CreateNetworkPostcommit(*NetworkContext) error { return nil }
func (BaseMechanismDriver) UpdateNetworkPrecommit(*NetworkContext) error  { return nil }
func (BaseMechanismDriver) UpdateNetworkPostcommit(*NetworkContext) error { return nil }
func (BaseMechanismDriver) DeleteNetworkPrecommit(*NetworkContext) error  { return nil }
func (BaseMechanismDriver) DeleteNetworkPostcommit(*NetworkContext) error { return nil }
func (BaseMechanismDriver) CreateSubnetPrecommit(*SubnetContext) error    { return nil }
func (BaseMechanismDriver) CreateSubnetPostcommit(*SubnetContext) error   { return nil }
func (BaseMechanismDriver) UpdateSubnetPrecommit(*SubnetContext) error    { return nil }
func (BaseMechanismDriver) UpdateSubnetPostcommit(*SubnetContext) error   { return nil }
func (BaseMechanismDriver) DeleteSubnetPrecommit(*SubnetContext) error    { return nil }
func (BaseMechanismDriver) DeleteSubnetPostcommit(*SubnetContext) error   { return nil }
func (BaseMechanismDriver) CreatePortPrecommit(*PortContext) error        { return nil }
func (BaseMechanismDriver) CreatePortPostcommit(*PortContext) error       { return nil }
func (BaseMechanismDriver) UpdatePortPrecommit(*PortContext) error        { return nil }
func (BaseMechanismDriver) UpdatePortPostcommit(*PortContext) error       { return nil }
func (BaseMechanismDriver) DeletePortPrecommit(*PortContext) error        { return nil }
func (BaseMechanismDriver) DeletePortPostcommit(*PortContext) error       { return nil }

// BindPort binds nothing.
func (BaseMechanismDriver) BindPort(*PortContext) {}

// callContext is what every driver context has.
type callContext struct {
	// Ctx is the request's context (reqctx.From names the caller).
	Ctx context.Context
	// Tx is the write transaction in *_precommit calls, nil in
	// *_postcommit calls.
	Tx *db.Tx
	// Current is the resource as stored (create, update) or as it was
	// (delete); Original is the state before an update.
	Current, Original api.Object
}

// NetworkContext is a network's driver context.
type NetworkContext struct {
	callContext
	// Segments are the network's segments.
	Segments []*Segment
}

// SubnetContext is a subnet's driver context.
type SubnetContext struct {
	callContext
	// Network is the subnet's network.
	Network *NetworkContext
}

type mechDriver struct {
	name string
	MechanismDriver
}

// mechanismManager calls the configured mechanism drivers in order.
type mechanismManager struct {
	p       *Plugin
	drivers []mechDriver
}

func (p *Plugin) setupMechanismDrivers() error {
	mods, err := p.selected(registry.MechanismDrivers, "mechanism_drivers")
	if err != nil {
		return err
	}
	p.mech = &mechanismManager{p: p}
	for _, m := range mods {
		d := m.New.(MechanismDriverFactory)()
		if err := d.Initialize(p.env, p); err != nil {
			return fmt.Errorf("mechanism driver %s: %w", m.Name(), err)
		}
		p.mech.drivers = append(p.mech.drivers, mechDriver{m.Name(), d})
	}
	p.env.SetExtensionFilter(p.Offers)
	if len(p.mech.drivers) > 0 {
		// installed by a finisher added last, so that the drivers' calls come after every
		// other plugin's and component's hooks (whose finishers add some)
		p.env.OnFinish(func() error { p.env.OnFinish(p.mech.install); return nil })
	}
	return nil
}

// MechanismDriver returns a loaded mechanism driver by name, or nil.
func (p *Plugin) MechanismDriver(name string) MechanismDriver {
	for _, d := range p.mech.drivers {
		if d.name == name {
			return d.MechanismDriver
		}
	}
	return nil
}

// precommit calls f on every driver in order; the first error aborts.
func (m *mechanismManager) precommit(call string, f func(d MechanismDriver) error) error {
	for _, d := range m.drivers {
		if err := f(d); err != nil {
			return fmt.Errorf("mechanism driver %s failed in %s: %w", d.name, call, err)
		}
	}
	return nil
}

// postcommit calls f on every driver once tx has committed; failures are
// logged with the request id and do not stop the other drivers.
func (m *mechanismManager) postcommit(ctx context.Context, tx *db.Tx, call string, f func(d MechanismDriver) error) {
	ctx = context.WithoutCancel(ctx)
	tx.OnCommit(func() {
		for _, d := range m.drivers {
			if err := m.safe(d, f); err != nil {
				rid := ""
				if rc := reqctx.From(ctx); rc != nil {
					rid = rc.RequestID
				}
				m.p.env.Log.Error("mechanism driver failed", "request_id", rid, "driver", d.name, "call", call, "error", err.Error())
			}
		}
	})
}

func (m *mechanismManager) safe(d mechDriver, f func(d MechanismDriver) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return f(d.MechanismDriver)
}
