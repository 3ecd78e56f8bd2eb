// Package ml2 is the Modular Layer 2 core plugin: networks and their
// segments (provider and multi-provider extensions) with the flat, vlan,
// vxlan, geneve, gre and local type drivers, MTU computation, external and
// shared networks. Type drivers register by name and are enabled by
// [ml2] type_drivers.
package ml2

import (
	"context"
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

func init() {
	plugin.Register("ml2", func() plugin.Plugin { return &Plugin{} },
		"neutron.plugins.ml2.plugin.Ml2Plugin", "neutron.plugins.ml2.plugin:Ml2Plugin")
}

// Plugin is the ML2 core plugin.
type Plugin struct {
	env         *plugin.Env
	drivers     map[string]TypeDriver
	tenantTypes []string
	globalMTU   int

	networks    *store.Table
	subnets     *store.Table // subnet.go
	ports       *store.Table // port.go
	subnetPools SubnetPools
	mech        *mechanismManager
	ext         *extensionManager
	// port MACs: base_mac prefix
	baseMAC            []byte
	subnetDeleteChecks []func(ctx context.Context, tx *db.Tx, subnet api.Object) error
	// Checks other plugins add: deleting a network, un-sharing it, making
	// it internal.
	networkDeleteChecks []func(ctx context.Context, tx *db.Tx, net api.Object) error
	sharedInUse         []func(ctx context.Context, tx *db.Tx, net api.Object) error
	externalInUse       []func(ctx context.Context, tx *db.Tx, id string) error
}

// Networks is the networks table.
func (p *Plugin) Networks() *store.Table { return p.networks }

// OnNetworkDelete registers a check run (in the transaction) before a
// network is deleted, e.g. "ports still in use".
func (p *Plugin) OnNetworkDelete(f func(ctx context.Context, tx *db.Tx, net api.Object) error) {
	p.networkDeleteChecks = append(p.networkDeleteChecks, f)
}

// OnUnshare registers a check run before a network stops being shared.
func (p *Plugin) OnUnshare(f func(ctx context.Context, tx *db.Tx, net api.Object) error) {
	p.sharedInUse = append(p.sharedInUse, f)
}

// OnExternalRemoved registers a check run before router:external is unset.
func (p *Plugin) OnExternalRemoved(f func(ctx context.Context, tx *db.Tx, id string) error) {
	p.externalInUse = append(p.externalInUse, f)
}

// CheckExternalInUse runs the OnExternalRemoved checks (the RBAC component
// calls it when a network's last access_as_external entry goes away).
func (p *Plugin) CheckExternalInUse(ctx context.Context, tx *db.Tx, id string) error {
	return p.checkExternalInUse(ctx, tx, id)
}

// Setup loads the type drivers and declares networks.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	c := env.Config
	p.globalMTU = c.Int("DEFAULT", "global_physnet_mtu")
	if err := p.setupTypeDrivers(); err != nil {
		return err
	}
	for _, t := range c.List("ml2", "tenant_network_types") {
		if _, ok := p.drivers[t]; !ok {
			return fmt.Errorf("[ml2] tenant_network_types: %q is not in type_drivers (%s)", t, strings.Join(c.List("ml2", "type_drivers"), ","))
		}
		p.tenantTypes = append(p.tenantTypes, t)
	}
	if err := p.setupMechanismDrivers(); err != nil {
		return err
	}
	if err := p.selectExtensionDrivers(); err != nil {
		return err
	}
	p.setupNetworks(env)
	p.setupSubnets(env)
	if err := p.setupPorts(env); err != nil {
		return err
	}
	p.setupIPAvailability(env)
	p.setupOwnership()
	if err := p.setupComponents(env); err != nil {
		return err
	}
	if err := p.initExtensionDrivers(); err != nil {
		return err
	}
	env.AddExtensions(
		"project-id", "pagination", "sorting", "filter-validation", "empty-string-filtering",
		"standard-attr-description", "standard-attr-timestamp", "standard-attr-revisions",
		"revision-if-match", "standard-attr-tag",
		"provider", "multi-provider", "net-mtu", "net-mtu-writable", "external-net",
		"l2_adjacency",
	)
	return nil
}

// Driver returns the type driver of a network type, or nil.
func (p *Plugin) Driver(typ string) TypeDriver { return p.drivers[typ] }

// DefaultProfile adjusts options for the embedded default (no config
// file): vxlan tenant networks with VNIs 1:10000, as a devstack-like ML2.
func DefaultProfile(c *config.Config) error {
	for k, v := range map[string]string{
		"ml2.type_drivers":                  "flat,vlan,vxlan,geneve",
		"ml2.tenant_network_types":          "vxlan",
		"ml2.extension_drivers":             "port_security,dns,qos",
		"ml2_type_vxlan.vni_ranges":         "1:10000",
		"ml2_type_geneve.vni_ranges":        "1:10000",
		"ml2_type_vlan.network_vlan_ranges": "physnet1:100:200",
	} {
		g, n, _ := strings.Cut(k, ".")
		if c.IsSet(g, n) {
			continue
		}
		if err := c.Set(g, n, v); err != nil {
			return err
		}
	}
	return nil
}

// SubnetPools is implemented by the subnet-pool component; the subnet code
// calls it so that subnets can take their prefix from a pool.
type SubnetPools interface {
	// AllocateSubnet runs in the subnet-create transaction before the CIDR
	// is validated. For a request with subnetpool_id, use_default_subnetpool
	// or without cidr, it picks the pool, allocates a prefix (honouring
	// prefixlen and the pool's quota) and sets subnet["cidr"] and
	// subnet["subnetpool_id"]; for an explicit cidr with a pool it checks
	// the cidr is inside the pool and free. It leaves other subnets alone.
	AllocateSubnet(ctx context.Context, tx *db.Tx, subnet api.Object) error
	// ReleaseSubnet runs when a subnet from a pool is deleted.
	ReleaseSubnet(ctx context.Context, tx *db.Tx, subnet api.Object) error
}

// SetSubnetPools installs the subnet-pool component.
func (p *Plugin) SetSubnetPools(sp SubnetPools) { p.subnetPools = sp }

// SubnetPoolsComponent returns the installed subnet-pool component, or nil.
func (p *Plugin) SubnetPoolsComponent() SubnetPools { return p.subnetPools }
