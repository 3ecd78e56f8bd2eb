package l3

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Device owners of the ports the L3 plugin makes.
const (
	OwnerFloatingIP = "network:floatingip"
)

// interfaceOwners are the owners of router interface ports.
var interfaceOwners = []string{ml2.OwnerRouterIntf, ml2.OwnerDVRInterface, ml2.OwnerHAReplicated}

// serviceOwners are the owners of ports the port API may not delete while
// their router or floating IP exists.
var serviceOwners = []string{ml2.OwnerRouterIntf, ml2.OwnerDVRInterface, ml2.OwnerHAReplicated,
	ml2.OwnerRouterGateway, ml2.OwnerRouterSNAT, OwnerFloatingIP}

// ipLockedOwners are the owners whose fixed_ips the port API may not
// change (l3-port-ip-change-not-allowed).
var ipLockedOwners = []string{ml2.OwnerRouterIntf, ml2.OwnerHAReplicated, "network:router_ha_interface",
	ml2.OwnerRouterSNAT, ml2.OwnerDVRInterface}

// internalKey marks the L3 plugin's own port writes, which the port API's
// L3 rules do not apply to.
type internalKey struct{}

func internal(ctx context.Context) context.Context {
	return context.WithValue(adminCtx(ctx), internalKey{}, true)
}

func isInternal(ctx context.Context) bool { v, _ := ctx.Value(internalKey{}).(bool); return v }

// createPort creates a port as the plugin (elevated) inside tx, defaults
// and validation as the port API applies them.
func (p *Plugin) createPort(ctx context.Context, tx *db.Tx, fields obj) (api.Object, error) {
	ictx := internal(ctx)
	items, _, err := p.ports.Res.PrepareBody(reqctx.From(ictx), map[string]any{"port": map[string]any(fields)}, true)
	if err != nil {
		return nil, err
	}
	port, err := p.ports.CreateTx(ictx, tx, items[0])
	if err != nil {
		return nil, err
	}
	return p.ports.GetTx(ictx, tx, port["id"].(string), false)
}

// updatePort changes a port as the plugin inside tx.
func (p *Plugin) updatePort(ctx context.Context, tx *db.Tx, id string, changes obj) error {
	ictx := internal(ctx)
	items, _, err := p.ports.Res.PrepareBody(reqctx.From(ictx), map[string]any{"port": map[string]any(changes)}, false)
	if err != nil {
		return err
	}
	return p.ports.UpdateTx(ictx, tx, id, items[0], nil)
}

// deletePort deletes a port as the plugin inside tx.
func (p *Plugin) deletePort(ctx context.Context, tx *db.Tx, id string) error {
	return p.ports.DeleteTx(internal(ctx), tx, id, nil)
}

func addRouterPort(ctx context.Context, tx *db.Tx, router, port, typ string) error {
	_, err := tx.Exec(ctx, "INSERT INTO routerports (router_id, port_id, port_type) VALUES (?, ?, ?)", router, port, typ)
	if db.IsUniqueViolation(err) || db.IsForeignKeyViolation(err) {
		return db.ErrRetry
	}
	return err
}

// portIPs returns the addresses of a port object.
func portIPs(port api.Object) []any {
	out := []any{}
	list, _ := port["fixed_ips"].([]any)
	for _, f := range list {
		if m, ok := f.(map[string]any); ok {
			out = append(out, m["ip_address"])
		}
	}
	return out
}

// portSubnets returns the subnet ids of a port object, in order.
func portSubnets(port api.Object) []string {
	var out []string
	list, _ := port["fixed_ips"].([]any)
	for _, f := range list {
		if m, ok := f.(map[string]any); ok {
			if s := str(m["subnet_id"]); !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// publishAfter publishes an AFTER event of the plugin's own resources
// (router_gateway, router_interface) once tx commits.
func (p *Plugin) publishAfter(ctx context.Context, tx *db.Tx, res string, ev events.Event, id string, meta map[string]any) {
	p.env.Bus.PublishAfterCommit(tx, res, ev, &events.Payload{Ctx: ctx, ID: id, Meta: meta})
}

// setupPortRules installs the rules the L3 plugin adds to ports, subnets
// and networks.
func (p *Plugin) setupPortRules(env *plugin.Env) {
	env.Bus.Subscribe(events.Port, events.BeforeDelete, "l3.port_in_use", events.PriorityOwner, p.portBeforeDelete)
	env.Bus.Subscribe(events.Port, events.BeforeUpdate, "l3.port_ip_change", events.PriorityOwner, p.portBeforeUpdate)
	env.Bus.Subscribe(events.Network, events.BeforeDelete, "l3.external_fips", events.PriorityOwner, p.networkBeforeDelete)
	p.ml2.OnExternalRemoved(p.externalInUse)
	p.subnets.AddHooks(store.Hooks{AfterCreate: p.gatewaysTakeSubnet})
	rbac.AddCallback(env, "network", rbac.Callback{Name: rbac.CallbackExtNotInUse, Func: p.extNotInUseByTenant})
}

// gatewaysTakeSubnet gives every gateway port on a new subnet's network
// an address of it, unless the port has one of that IP version already
// (_add_csnat_on_interface / the gateway's subnet callback).
func (p *Plugin) gatewaysTakeSubnet(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	net := str(op.New["network_id"])
	ra, am := str(op.New["ipv6_ra_mode"]), str(op.New["ipv6_address_mode"])
	if ra == "slaac" || ra == "dhcpv6-stateless" || am == "slaac" || am == "dhcpv6-stateless" {
		return nil // ML2 gives every port its automatic address
	}
	rows, err := tx.Query(ctx, "SELECT r.id, r.gw_port_id FROM routers r JOIN ports p ON p.id = r.gw_port_id WHERE p.network_id = ? ORDER BY r.id", net)
	if err != nil {
		return err
	}
	var routers, ports []string
	for rows.Next() {
		var r, pt string
		if err := rows.Scan(&r, &pt); err != nil {
			rows.Close()
			return err
		}
		routers, ports = append(routers, r), append(ports, pt)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	v6 := api.PyStr(op.New["ip_version"]) == "6"
	for i, pid := range ports {
		port, err := p.ports.GetTx(adminCtx(ctx), tx, pid, true)
		if err != nil {
			return err
		}
		fixed := port["fixed_ips"].([]any)
		has := false
		for _, ip := range portIPs(port) {
			has = has || isIPv6(str(ip)) == v6
		}
		if has {
			continue
		}
		fixed = append(slices.Clone(fixed), map[string]any{"subnet_id": op.ID})
		if err := p.updatePort(ctx, tx, pid, obj{"fixed_ips": fixed}); err != nil {
			return err
		}
		if err := p.routers.BumpRevision(ctx, tx, routers[i]); err != nil {
			return err
		}
	}
	return nil
}

// portBeforeDelete is prevent_l3_port_deletion plus the disassociation of
// the port's floating IPs.
func (p *Plugin) portBeforeDelete(_ string, _ events.Event, pl *events.Payload) error {
	ctx, tx := pl.Ctx, pl.Tx
	if !isInternal(ctx) {
		owner := str(pl.Old["device_owner"])
		if slices.Contains(serviceOwners, owner) {
			inUse, err := p.serviceOwnerExists(ctx, tx, pl.ID, owner, str(pl.Old["device_id"]))
			if err != nil {
				return err
			}
			if inUse {
				return nerr.Conflict("ServicePortInUse", "Port %s cannot be deleted directly via the port API: has device owner %s.", pl.ID, owner)
			}
		}
	}
	return p.disassociatePort(ctx, tx, pl.ID)
}

// serviceOwnerExists: the router or floating IP owning the port exists.
func (p *Plugin) serviceOwnerExists(ctx context.Context, tx *db.Tx, port, owner, device string) (bool, error) {
	var id string
	var err error
	if owner == OwnerFloatingIP {
		id, err = first(ctx, tx, "SELECT id FROM floatingips WHERE floating_port_id = ?", port)
	} else {
		id, err = first(ctx, tx, "SELECT router_id FROM routerports WHERE port_id = ?", port)
		if id == "" && err == nil && device != "" {
			id, err = first(ctx, tx, "SELECT id FROM routers WHERE id = ?", device)
		}
	}
	return id != "", err
}

// portBeforeUpdate refuses IP changes of router ports through the port
// API. The OVN L3 plugin has no such list (IP_UPDATE_NOT_ALLOWED_LIST is
// L3RouterPlugin's): it refuses only leaving a router port without
// addresses (its _port_update, bug 1948457).
func (p *Plugin) portBeforeUpdate(_ string, _ events.Event, pl *events.Payload) error {
	if isInternal(pl.Ctx) || pl.Old == nil {
		return nil
	}
	ips, ok := pl.New["fixed_ips"]
	if !ok {
		return nil
	}
	owner := str(pl.Old["device_owner"])
	if p.ovnL3 {
		if l, _ := ips.([]any); len(l) == 0 && (slices.Contains(ipLockedOwners, owner) || owner == ml2.OwnerRouterGateway) {
			return nerr.Conflict("ServicePortInUse", "Port %s cannot be deleted directly via the port API: Router port must have at least one IP.", pl.ID)
		}
		return nil
	}
	if !slices.Contains(ipLockedOwners, owner) {
		return nil
	}
	if sameAddresses(pl.Old["fixed_ips"], pl.New["fixed_ips"]) {
		return nil
	}
	return nerr.BadRequest("ports", "IP updates for port "+pl.ID+" are not allowed")
}

// sameAddresses: the requested fixed IPs are the port's (an entry naming
// only a subnet matches an address of it).
func sameAddresses(cur, req any) bool {
	have, _ := cur.([]any)
	want, ok := req.([]any)
	if !ok || len(want) != len(have) {
		return false
	}
	used := make([]bool, len(have))
	for _, w := range want {
		wm, _ := w.(map[string]any)
		found := false
		for i, h := range have {
			hm, _ := h.(map[string]any)
			if used[i] || (wm["subnet_id"] != nil && wm["subnet_id"] != hm["subnet_id"]) ||
				(wm["ip_address"] != nil && !sameIP(str(wm["ip_address"]), str(hm["ip_address"]))) {
				continue
			}
			used[i], found = true, true
			break
		}
		if !found {
			return false
		}
	}
	return true
}

// externalInUse refuses to make a network internal while gateway ports
// use it.
func (p *Plugin) externalInUse(ctx context.Context, tx *db.Tx, id string) error {
	gw, err := first(ctx, tx, "SELECT p.id FROM ports p JOIN routers r ON r.gw_port_id = p.id WHERE p.network_id = ? LIMIT 1", id)
	if err != nil {
		return err
	}
	if gw != "" {
		return nerr.Conflict("ExternalNetworkInUse", "External network %s cannot be updated to be made non-external, since it has existing gateway ports.", id)
	}
	return nil
}

// extNotInUseByTenant is the router half of
// _validate_ext_not_in_use_by_tenant: an access_as_external entry cannot
// go (or change target) while a router of its target project (of any
// project without an entry of its own, for the wildcard) has its gateway
// on the network thanks to it.
func (p *Plugin) extNotInUseByTenant(ctx context.Context, tx *db.Tx, c *rbac.Change) error {
	pol := c.Policy
	if c.Op == rbac.Create || pol.Action != rbac.AccessExternal || (c.Op == rbac.Update && c.NewTarget == pol.Target) {
		return nil
	}
	query := `SELECT COUNT(*) FROM routers r JOIN ports p ON p.id = r.gw_port_id JOIN networks n ON n.id = p.network_id
		WHERE p.network_id = ? AND p.device_owner = ? AND r.project_id <> n.project_id`
	args := []any{pol.ObjectID, ml2.OwnerRouterGateway}
	if pol.Target != rbac.Wildcard {
		wild, err := first(ctx, tx, "SELECT id FROM rbac_policies WHERE object_type = 'network' AND object_id = ? AND action = ? AND target_project = ?",
			pol.ObjectID, rbac.AccessExternal, rbac.Wildcard)
		if err != nil || wild != "" {
			return err
		}
		query += " AND r.project_id = ?"
		args = append(args, pol.Target)
	} else {
		query += ` AND r.project_id NOT IN (SELECT target_project FROM rbac_policies WHERE object_type = 'network'
			AND object_id = ? AND action = ? AND target_project <> ?)`
		args = append(args, pol.ObjectID, rbac.AccessExternal, rbac.Wildcard)
		if c.Op == rbac.Update { // the new target keeps its access
			query += " AND r.project_id <> ?"
			args = append(args, c.NewTarget)
		}
	}
	var n int
	if err := tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return rbac.PolicyInUse(pol.ObjectID, "There are routers attached to this network that depend on this policy for access.")
	}
	return nil
}
