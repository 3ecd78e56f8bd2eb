package l3

import (
	"context"
	"fmt"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/az"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Router is the router resource as Neutron Zed declares it with the
// ext-gw-mode, extraroute, dvr, l3-ha, router_availability_zone and
// l3-flavors extensions.
func Router() *api.Resource {
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		{Name: "admin_state_up", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			Visible: true, IsFilter: true, IsSortKey: true},
		{Name: "status", Visible: true, IsSortKey: true},
		api.TenantAttr(),
		{Name: "external_gateway_info", AllowPost: true, AllowPut: true, Default: nil,
			Convert: convertGatewayInfo, Validate: validateGatewayInfo, Visible: true, EnforcePolicy: true,
			DictKeys: gatewayKeys},
		{Name: "routes", AllowPut: true, Default: api.NotSpecified, Convert: api.NoneToEmptyList,
			Validate: api.HostRoutes, Visible: true},
		{Name: "distributed", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Convert: toBoolIfNotNone,
			Visible: true, EnforcePolicy: true},
		{Name: "ha", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Convert: toBoolIfNotNone,
			Visible: true, EnforcePolicy: true},
		{Name: "availability_zone_hints", AllowPost: true, Default: []any{}, Validate: api.ListOfUniqueStrings(0),
			Check: ml2.AZHintsLength, Visible: true},
		{Name: "availability_zones", Visible: true},
		{Name: "flavor_id", AllowPost: true, Default: api.NotSpecified, Visible: true, EnforcePolicy: true, IsSortKey: true},
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{ExtensionController: true, Extension: "router", Name: "router", Collection: "routers",
		Attrs: attrs, Tags: true, NotFound: RouterNotFound, ActionMethodNotAllowed: true, ActionsTakeAnyBody: true}
}

// toBoolIfNotNone is convert_to_boolean_if_not_none.
func toBoolIfNotNone(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return api.ToBool(v)
}

// RouterNotFound is Neutron's RouterNotFound (its message has no period).
func RouterNotFound(id string) error {
	return nerr.NotFound("RouterNotFound", "Router %s could not be found", id)
}

func badRouter(format string, args ...any) error {
	return nerr.BadRequest("router", fmt.Sprintf(format, args...))
}

// routerAttrAlias names the extension each optional router attribute belongs to: without the
// extension the attribute is unknown (a request naming it is refused, answers lack it).
var routerAttrAlias = map[string]string{"distributed": "dvr", "ha": "l3-ha", "flavor_id": "l3-flavors"}

// setupRouters declares routers with the attributes of the served aliases.
func (p *Plugin) setupRouters(env *plugin.Env, aliases []string) {
	res := Router()
	res.Attrs = slices.DeleteFunc(res.Attrs, func(a *api.Attribute) bool {
		alias, optional := routerAttrAlias[a.Name]
		return optional && !slices.Contains(aliases, alias)
	})
	t := &store.Table{
		Name: "routers", Res: res, DB: env.DB, Std: true, InitialRevision: p.initialRevision(), Quota: "router",
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "admin_state_up", Kind: store.Bool}, {Attr: "status"}, {Attr: "flavor_id"},
			{Attr: "distributed", Kind: store.Bool}, {Attr: "ha", Kind: store.Bool},
			{Attr: "availability_zone_hints", Kind: store.JSON, Null: []any{}},
			{Attr: "gw_port_id"}, {Attr: "enable_snat", Kind: store.Bool},
		},
		Revisions: routerRevisions,
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: p.beforeCreateRouter,
		AfterCreate:  p.afterCreateRouter,
		BeforeUpdate: p.beforeUpdateRouter,
		AfterUpdate:  p.afterUpdateRouter,
		BeforeDelete: p.beforeDeleteRouter,
		Load:         p.loadRouters,
		Result:       hiddenResult,
	})
	res.MemberActions = map[string]api.MemberAction{
		"add_router_interface":    p.addInterface,
		"remove_router_interface": p.removeInterface,
	}
	if slices.Contains(aliases, "extraroute-atomic") { // not the OVN L3 plugin's
		res.MemberActions["add_extraroutes"], res.MemberActions["remove_extraroutes"] = p.addExtraRoutes, p.removeExtraRoutes
		res.ActionPostCreates = map[string]bool{"add_extraroutes": true, "remove_extraroutes": true}
	}
	p.routers = t
	res.Backend = routerBackend{t, p}
	t.Init()
	env.AddResource(res, t)
}

// initialRevision is a new router's revision_number: 1 where the DVR and HA create hooks write
// its extra attributes (a second flush), 0 with the OVN L3 plugin, which has neither.
func (p *Plugin) initialRevision() int64 {
	if p.ovnL3 {
		return 0
	}
	return 1
}

// routerRevisions: an update is one revision when it assigns a plain
// attribute, even to its value (the gateway and routes add theirs in the
// hooks).
func routerRevisions(_, ch api.Object) int {
	for k := range ch {
		switch k {
		case "external_gateway_info", "routes":
			continue
		}
		return 1
	}
	return 0
}

// ---- create ----

type gwKey struct{}

func (p *Plugin) beforeCreateRouter(op *store.Op) error {
	o := op.New
	o["status"] = "ACTIVE"
	if v, ok := o["distributed"].(bool); !ok {
		o["distributed"] = p.dvrDefault
	} else {
		o["distributed"] = v
	}
	if v, ok := o["ha"].(bool); !ok {
		o["ha"] = p.haDefault
	} else {
		o["ha"] = v
	}
	fl, given := o["flavor_id"]
	if given {
		if err := p.checkFlavor(op.Ctx, op.Tx, fl, o["distributed"].(bool), o["ha"].(bool)); err != nil {
			return err
		}
	} else {
		o["flavor_id"] = nil
	}
	if hints, _ := o["availability_zone_hints"].([]any); len(hints) > 0 {
		if err := az.Validate(op.Ctx, op.Tx, p.env, "router", hints); err != nil {
			return err
		}
	}
	gw, err := p.parseGateway(op.Ctx, op.Tx, o["external_gateway_info"])
	if err != nil {
		return err
	}
	delete(o, "external_gateway_info")
	o["enable_snat"] = p.snatDefault
	if gw != nil {
		o["enable_snat"] = gw.snat
		o["revision_number"] = o["revision_number"].(int64) + 2
		op.Set(gwKey{}, gw)
	}
	return nil
}

func (p *Plugin) checkFlavor(ctx context.Context, tx *db.Tx, flavor any, distributed, ha bool) error {
	if p.flavorCheck != nil {
		return p.flavorCheck(ctx, tx, flavor, distributed, ha)
	}
	if p.env.Loaded("flavors") {
		return nil // its router BEFORE_CREATE subscriber checks flavor_id
	}
	return nerr.NotFound("FlavorNotFound", "Flavor %s could not be found.", api.PyStr(flavor))
}

func (p *Plugin) afterCreateRouter(op *store.Op) error {
	if op.New["ha"] == true {
		if err := p.ensureHANetwork(op.Ctx, op.Tx, str(op.New["project_id"])); err != nil {
			return err
		}
	}
	gw, _ := op.Value(gwKey{}).(*gateway)
	if gw == nil {
		return nil
	}
	return p.addGateway(op.Ctx, op.Tx, op.ID, gw)
}

// ---- update ----

type routesKey struct{}

func (p *Plugin) beforeUpdateRouter(op *store.Op) error {
	old, ch := op.Old, op.New
	for _, attr := range []string{"distributed", "ha"} {
		v, ok := ch[attr]
		if !ok {
			continue
		}
		if v == nil {
			delete(ch, attr)
			continue
		}
		if v != old[attr] && old["admin_state_up"] == true {
			if attr == "ha" {
				return badRouter("Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade")
			}
			return badRouter("Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade")
		}
	}
	if routes, ok := ch["routes"]; ok {
		delete(ch, "routes")
		list, _ := routes.([]any)
		if err := p.checkRoutes(op.Ctx, op.Tx, op.ID, list, ""); err != nil {
			return err
		}
		op.Set(routesKey{}, list)
	}
	if info, ok := ch["external_gateway_info"]; ok {
		delete(ch, "external_gateway_info")
		gw, err := p.parseGateway(op.Ctx, op.Tx, info)
		if err != nil {
			// Neutron has written enable_snat before it looks at the network
			return &errGatewayStage{err: err, id: op.ID, snat: p.requestedSNAT(info)}
		}
		if gw == nil {
			gw = &gateway{}
		}
		op.Set(gwKey{}, gw)
	}
	return nil
}

func (p *Plugin) afterUpdateRouter(op *store.Op) error {
	ctx, hidden := withHidden(op.Ctx)
	defer func() { op.Set(hiddenKey{}, *hidden) }()
	if err := p.migrate(ctx, op); err != nil {
		return err
	}
	if gw, ok := op.Value(gwKey{}).(*gateway); ok {
		if err := p.updateGateway(ctx, op.Tx, op.Old, gw); err != nil {
			return err
		}
	}
	if routes, ok := op.Value(routesKey{}).([]any); ok {
		bump := routerRevisions(op.Old, op.Request) == 0
		if _, err := p.replaceRoutes(op.Ctx, op.Tx, op.ID, routes, bump); err != nil {
			return err
		}
	}
	return nil
}

// migrate applies a change of the distributed or ha flags: interface
// owners, SNAT ports, the project's HA network.
func (p *Plugin) migrate(ctx context.Context, op *store.Op) error {
	cur := api.Object{}
	for k, v := range op.Old {
		cur[k] = v
	}
	for _, k := range []string{"distributed", "ha"} {
		if v, ok := op.New[k]; ok {
			cur[k] = v
		}
	}
	if err := p.migrateInterfaces(ctx, op.Tx, op.Old, cur); err != nil {
		return err
	}
	project := str(op.Old["project_id"])
	switch {
	case op.Old["ha"] == true && cur["ha"] == false:
		// Neutron deletes the project's HA network, other HA routers or not
		return p.deleteHANetwork(ctx, op.Tx, project)
	case op.Old["ha"] == false && cur["ha"] == true:
		return p.ensureHANetwork(ctx, op.Tx, project)
	}
	return nil
}

// ---- delete ----

func (p *Plugin) beforeDeleteRouter(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	ids, err := db.Strings(ctx, tx, "SELECT port_id FROM routerports WHERE router_id = ? AND port_type IN (?, ?, ?) ORDER BY port_id",
		op.ID, ml2.OwnerRouterIntf, ml2.OwnerDVRInterface, ml2.OwnerHAReplicated)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		return nerr.Conflict("RouterInUse", "Router %s has ports still attached: %s", op.ID, joinComma(ids))
	}
	if err := p.removeGateway(ctx, tx, op.Old, ""); err != nil {
		return err
	}
	// the ports the router still owns (SNAT, HA) go with it
	others, err := db.Strings(ctx, tx, "SELECT port_id FROM routerports WHERE router_id = ?", op.ID)
	if err != nil {
		return err
	}
	for _, id := range others {
		if err := p.deletePort(ctx, tx, id); err != nil {
			return err
		}
	}
	if op.Old["ha"] != true {
		return nil
	}
	project := str(op.Old["project_id"])
	other, err := first(ctx, tx, "SELECT id FROM routers WHERE project_id = ? AND ha = ? AND id <> ? LIMIT 1", project, true, op.ID)
	if err != nil || other != "" {
		return err
	}
	return p.deleteHANetwork(ctx, tx, project)
}

func joinComma(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += id
	}
	return out
}

// ---- loading ----

// loadRouters fills external_gateway_info, routes and
// availability_zones (one query per child table for the batch).
func (p *Plugin) loadRouters(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	var gwPorts []string
	byPort := map[string]api.Object{}
	for _, o := range objs {
		o["routes"] = []any{}
		o["availability_zones"] = []any{}
		o["external_gateway_info"] = nil
		if gp := str(o["gw_port_id"]); gp != "" {
			gwPorts = append(gwPorts, gp)
			byPort[gp] = o
		}
	}
	if err := loadGatewayInfo(ctx, q, gwPorts, byPort); err != nil {
		return err
	}
	if err := store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT router_id, destination, nexthop FROM routerroutes WHERE router_id IN ("+ph+") ORDER BY router_id, destination, nexthop", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r, d, n string
			if err := rows.Scan(&r, &d, &n); err != nil {
				return err
			}
			o := byID[r]
			o["routes"] = append(o["routes"].([]any), map[string]any{"destination": d, "nexthop": n})
		}
		return rows.Err()
	}); err != nil {
		return err
	}
	return az.LoadHosting(ctx, q, p.env, "router", objs)
}

// loadGatewayInfo builds external_gateway_info from the gateway ports.
func loadGatewayInfo(ctx context.Context, q db.Querier, ports []string, byPort map[string]api.Object) error {
	return store.ForChunks(ports, func(ph string, args []any) error {
		rows, err := q.Query(ctx, `SELECT p.id, p.network_id, a.subnet_id, a.ip_address FROM ports p
			LEFT JOIN ipallocations a ON a.port_id = p.id WHERE p.id IN (`+ph+`) ORDER BY p.id, a.ip_address, a.subnet_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var port, net string
			var sub, ip *string
			if err := rows.Scan(&port, &net, &sub, &ip); err != nil {
				return err
			}
			o := byPort[port]
			info, _ := o["external_gateway_info"].(map[string]any)
			if info == nil {
				info = map[string]any{"network_id": net, "enable_snat": o["enable_snat"], "external_fixed_ips": []any{}}
				o["external_gateway_info"] = info
			}
			if sub != nil {
				info["external_fixed_ips"] = append(info["external_fixed_ips"].([]any), map[string]any{"subnet_id": *sub, "ip_address": *ip})
			}
		}
		return rows.Err()
	})
}
