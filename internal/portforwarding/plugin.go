// Package portforwarding is Neutron's port forwarding service plugin
// ("port_forwarding": the floating-ip-port-forwarding extension with its
// -description, -port-ranges and -detail additions and
// expose-port-forwarding-in-fip): /v2.0/floatingips/{id}/port_forwardings
// with Neutron's checks (collisions of port ranges on the floating IP and
// on the internal socket, a floating IP with a port cannot forward, an
// internal port with a floating IP cannot be forwarded to, the internal
// address must reach the floating IP's network through a router), the
// floating IP's router_id the forwardings set, its port_forwardings list,
// and the deletions a port's change of addresses causes.
//
// It builds on the router plugin (internal/l3): the floating IPs table and
// its ReachableRouter. Dataplanes learn the changes from the
// port_forwarding AFTER_CREATE/_UPDATE/_DELETE events (payload Old/New:
// the forwarding with floatingip_id, floating_ip_address,
// floating_network_id and router_id), also for deletions caused by ports.
package portforwarding

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("port_forwarding", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.portforwarding.pf_plugin.PortForwardingPlugin",
		"neutron.services.portforwarding.pf_plugin:PortForwardingPlugin")
}

// router is what the plugin needs of the router plugin.
type router interface {
	// ReachableRouter is the router through which extNetwork reaches
	// fixedIP of portID (404 ExternalGatewayForFloatingIPNotFound).
	ReachableRouter(ctx context.Context, tx *db.Tx, extNetwork, portID, fixedIP string) (string, error)
}

// Plugin is the port forwarding plugin of one server.
type Plugin struct {
	env    *plugin.Env
	router router
	table  *store.Table
	fips   *store.Table
	ports  *store.Table
}

var errNoRouter = fmt.Errorf("the port_forwarding plugin needs the router plugin (service_plugins = router,port_forwarding)")

// Setup declares the port forwardings under the router plugin's floating
// IPs once every plugin is set up (service_plugins may name the router
// plugin after this one).
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	env.OnFinish(p.setup)
	return nil
}

func (p *Plugin) setup() error {
	env := p.env
	r, ok := env.Plugin("router").(router)
	if !ok {
		return errNoRouter
	}
	p.router = r
	p.fips, p.ports = env.Table("floatingips"), env.Table("ports")
	if p.fips == nil || p.ports == nil {
		return errNoRouter
	}
	res := Resource(p.fips.Res)
	res.BulkView = bulkView
	p.table = &store.Table{Name: "portforwardings", Res: res, DB: env.DB, NoScope: true, Std: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{{Attr: "id"}, {Attr: "floatingip_id"},
			{Attr: "internal_port_id", Name: "internal_neutron_port_id"}, {Attr: "protocol"},
			{Attr: "internal_ip_address"}, {Attr: "description"},
			{Attr: "internal_port_start", Kind: store.Int}, {Attr: "internal_port_end", Kind: store.Int},
			{Attr: "external_port_start", Kind: store.Int}, {Attr: "external_port_end", Kind: store.Int},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int}},
		Filters: map[string]store.FilterFunc{"external_port": portFilter, "external_port_range": portFilter},
	}
	p.table.AddHooks(store.Hooks{BeforeCreate: p.beforeCreate, AfterCreate: p.touch, BeforeUpdate: p.beforeUpdate,
		AfterUpdate: p.touch, AfterDelete: p.afterDelete, Load: p.load, Result: result})
	res.Backend = backend{p.table}
	env.AddResource(res, p.table)
	p.hookFloatingIPs(env)
	env.AddExtensions("floating-ip-port-forwarding", "expose-port-forwarding-in-fip",
		"floating-ip-port-forwarding-description", "floating-ip-port-forwarding-port-ranges",
		"floating-ip-port-forwarding-detail")
	return nil
}

// backend refuses the sort keys Neutron's object layer does not have as
// columns (a 400 of the plugin, after the API's checks).
type backend struct{ *store.Table }

func (b backend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	for _, s := range q.Sorts {
		if s.Key != "id" && s.Key != "protocol" {
			return nil, nerr.BadRequest("portforwardings", fmt.Sprintf("'%s' is an invalid attribute for sort key", s.Key))
		}
	}
	return b.Table.List(ctx, q)
}

// portFilter is the filter on external_port ("N") and
// external_port_range ("N:M" or "N"): the stored range.
func portFilter(_ context.Context, values []any) (string, []any) {
	var conds []string
	var args []any
	for _, v := range values {
		lo, hi, ok := parseRange(fmt.Sprint(v))
		if !ok {
			continue
		}
		conds = append(conds, "(t.external_port_start = ? AND t.external_port_end = ?)")
		args = append(args, lo, hi)
	}
	if len(conds) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(conds, " OR ") + ")", args
}

// parseRange reads "N" or "N:M".
func parseRange(s string) (int64, int64, bool) {
	a, b, isRange := strings.Cut(s, ":")
	lo, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	hi := lo
	if isRange {
		if hi, err = strconv.ParseInt(b, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, true
}
