package l3

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	// ML2/OVN deployments name the OVN L3 plugin; the ovn mechanism driver writes its rows
	plugin.Register("router", func() plugin.Plugin { return &Plugin{} }, append([]string{
		"neutron.services.l3_router.l3_router_plugin.L3RouterPlugin",
		"neutron.services.l3_router.l3_router_plugin:L3RouterPlugin"}, ovnRouterNames...)...)
	config.Register(
		&config.Option{Name: "enable_snat_by_default", Type: config.Bool, Default: "true",
			Help: "Define the default value of enable_snat if not provided in external_gateway_info."},
		&config.Option{Name: "max_routes", Type: config.Int, Default: "30",
			Help: "Maximum number of routes per router."},
		&config.Option{Name: "router_distributed", Type: config.Bool, Default: "false",
			Help: "System-wide flag to determine the type of router that tenants can create. Only admin can override."},
		&config.Option{Name: "enable_dvr", Type: config.Bool, Default: "true",
			Help: "Determine if setup is configured for DVR. If False, DVR API extension will be disabled."},
		&config.Option{Name: "l3_ha", Type: config.Bool, Default: "false",
			Help: "Enable HA mode for virtual routers."},
		&config.Option{Name: "max_l3_agents_per_router", Type: config.Int, Default: "3",
			Help: "Maximum number of L3 agents which a HA router will be scheduled on. If it is set to 0 then the router will be scheduled on every agent."},
		&config.Option{Name: "l3_ha_net_cidr", Default: "169.254.192.0/18",
			Help: "Subnet used for the L3 HA admin network."},
		&config.Option{Name: "l3_ha_network_type", Default: "",
			Help: "The network type to use when creating the HA network for an HA router. By default or if empty, the first 'tenant_network_types' is used."},
		&config.Option{Name: "l3_ha_network_physical_name", Default: "",
			Help: "The physical network name with which the HA network can be created."},
	)
}

// Plugin is the router service plugin of one server.
type Plugin struct {
	env      *plugin.Env
	ml2      *ml2.Plugin
	routers  *store.Table
	fips     *store.Table
	ports    *store.Table
	subnets  *store.Table
	networks *store.Table

	snatDefault bool
	maxRoutes   int
	dvrDefault  bool
	haDefault   bool

	flavorCheck FlavorCheck

	// ovnL3 is Neutron's OVN L3 plugin flavour (service_plugins names ovn-router or its class):
	// it has no DVR or HA mixins, whose create hooks write the router's extra attributes and so
	// give a new router revision 1; its routers start at revision 0.
	ovnL3 bool
}

// ovnRouterNames are the service_plugins entries that load Neutron's OVN L3 plugin.
var ovnRouterNames = []string{"ovn-router", "neutron.services.ovn_l3.plugin.OVNL3RouterPlugin",
	"neutron.services.ovn_l3.plugin:OVNL3RouterPlugin"}

// OVNFlavour tells whether the plugin runs as Neutron's OVN L3 plugin.
func (p *Plugin) OVNFlavour() bool { return p.ovnL3 }

// FlavorCheck validates a router's flavor_id (installed with
// SetFlavorCheck); distributed and ha are the router's flags. Without one,
// flavor_id is left to the flavors plugin's router BEFORE_CREATE
// subscriber when that plugin is loaded, else any flavor id is
// FlavorNotFound.
type FlavorCheck func(ctx context.Context, tx *db.Tx, flavorID any, distributed, ha bool) error

// SetFlavorCheck installs the flavor_id check (l3-flavors).
func (p *Plugin) SetFlavorCheck(f FlavorCheck) { p.flavorCheck = f }

// Routers is the routers table (the flavors plugin refuses to delete a
// flavor routers use; the dataplanes read it).
func (p *Plugin) Routers() *store.Table { return p.routers }

// FloatingIPs is the floating IPs table.
func (p *Plugin) FloatingIPs() *store.Table { return p.fips }

var errNoML2 = nerr.New(500, "RouterSetup", "the router plugin needs the ml2 core plugin")

// Setup declares routers and floating IPs and hooks them to ML2.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	ml, ok := env.Plugin("ml2").(*ml2.Plugin)
	if !ok {
		return errNoML2
	}
	p.ml2 = ml
	p.ports, p.subnets, p.networks = ml.Ports(), ml.Subnets(), ml.Networks()
	c := env.Config
	p.snatDefault = c.Bool("DEFAULT", "enable_snat_by_default")
	p.maxRoutes = c.Int("DEFAULT", "max_routes")
	p.dvrDefault = c.Bool("DEFAULT", "router_distributed")
	p.haDefault = c.Bool("DEFAULT", "l3_ha")
	for _, n := range c.List("DEFAULT", "service_plugins") {
		p.ovnL3 = p.ovnL3 || slices.Contains(ovnRouterNames, n)
	}
	if p.ovnL3 { // OVN routers are neither DVR nor HA routers
		p.dvrDefault, p.haDefault = false, false
	}
	aliases := p.aliases(c)
	p.setupRouters(env, aliases)
	p.setupFloatingIPs(env)
	p.setupPortRules(env)
	env.AddExtensions(aliases...)
	return nil
}

// aliases are the extensions the plugin serves: Neutron's L3RouterPlugin's (dvr and
// router-admin-state-down-before-update only with enable_dvr: disable_dvr_extension_by_config), or
// with the OVN flavour the router part of ML2_SUPPORTED_API_EXTENSIONS_OVN_L3.
func (p *Plugin) aliases(c *config.Config) []string {
	if p.ovnL3 {
		return []string{"router", "ext-gw-mode", "extraroute", "router_availability_zone",
			"fip-port-details", "floatingip-pools"}
	}
	a := []string{"router", "ext-gw-mode", "extraroute", "extraroute-atomic", "l3-port-ip-change-not-allowed",
		"router_availability_zone", "l3-ha", "l3_agent_scheduler", "l3-flavors",
		"fip-port-details", "floatingip-pools"}
	if c.Bool("DEFAULT", "enable_dvr") {
		a = append(a, "dvr", "router-admin-state-down-before-update")
	}
	return a
}

// AgentScheduled tells whether L3 agents host the routers (the l3_agent_scheduler
// sub-resources); not with the OVN flavour, where OVN's gateway chassis do.
func (p *Plugin) AgentScheduled() bool { return !p.ovnL3 }

// adminCtx is ctx with an admin caller (Neutron's elevated context).
func adminCtx(ctx context.Context) context.Context {
	rc := reqctx.From(ctx)
	if rc == nil {
		rc = &reqctx.Context{}
	}
	return reqctx.With(ctx, rc.Elevated())
}

func str(v any) string { s, _ := v.(string); return s }

// first returns the first column of the first row ("" without rows).
func first(ctx context.Context, q db.Querier, query string, args ...any) (string, error) {
	ss, err := db.Strings(ctx, q, query, args...)
	if err != nil || len(ss) == 0 {
		return "", err
	}
	return ss[0], nil
}

// obj is a shorthand for building request items.
type obj = api.Object

func isNotFound(err error) bool {
	e, ok := nerr.As(err)
	return ok && e.Status == 404
}
