package rbac

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Names of the Neutron callbacks the network type mirrors (the reference
// neutron-server subscribes validate_network_rbac_policy_change of the ML2
// plugin and, twice, of the network IP availability plugin).
const (
	cbML2               = "neutron.plugins.ml2.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-749001"
	cbIPAvail1          = "neutron.services.network_ip_availability.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-1211277"
	cbIPAvail2          = "neutron.services.network_ip_availability.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-1304197"
	cbExtCreate         = "neutron.plugins.ml2.plugin.External_net_db_mixin._process_ext_policy_create-691369"
	CallbackExtNotInUse = "neutron.plugins.ml2.plugin.External_net_db_mixin._validate_ext_not_in_use_by_tenant-691383"
)

func init() {
	RegisterObjectType("network", func(*plugin.Env) (ObjectType, bool) { return networkType(), true })
}

func networkType() ObjectType {
	return ObjectType{
		Name:    "network",
		Actions: []string{AccessShared, AccessExternal},
		Table:   "networks",
		Callbacks: []Callback{
			{Name: cbML2, Func: validateNetworkChange},
			{Name: cbIPAvail1, Func: validateNetworkChange},
			{Name: cbIPAvail2, Func: validateNetworkChange},
			{Name: cbExtCreate, Func: processExtPolicyCreate},
			{Name: CallbackExtNotInUse, Func: validateExtNotInUse},
		},
		After: networkAfter,
	}
}

// network is what the checks need of a network.
type network struct {
	id, project, name   string
	external, isDefault bool
}

// visibleNetwork reads a network as rc may see it (owner, or shared or
// external to rc's project by RBAC, as the networks table's visibility);
// nil when it may not.
func visibleNetwork(ctx context.Context, q db.Querier, rc *reqctx.Context, id string) (*network, error) {
	query := "SELECT t.project_id, t.name, t.router_external, t.is_default FROM networks t WHERE t.id = ?"
	args := []any{id}
	if !rc.IsAdmin {
		cond, cargs := sharing.VisibleCond("network", "t.id", rc.ProjectID, "")
		query += " AND (t.project_id = ? OR " + cond + ")"
		args = append(append(args, rc.ProjectID), cargs...)
	}
	n := &network{id: id}
	var project, name sql.NullString
	err := q.QueryRow(ctx, query, args...).Scan(&project, &name, &n.external, &n.isDefault)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	n.project, n.name = project.String, name.String
	return n, nil
}

func networkNotFound(id string) error {
	return nerr.NotFound("NetworkNotFound", "Network %s could not be found.", id)
}

// InvalidSharedSetting is Neutron's 409 when projects still use a network
// whose sharing is being reduced.
func InvalidSharedSetting(network string) error {
	return nerr.Conflict("InvalidSharedSetting", "Unable to reconfigure sharing settings for network %s. Multiple tenants are using it.", network)
}

// validateNetworkChange is NeutronDbPluginV2.validate_network_rbac_policy_change:
// the caller must own the network (create, update), and the project losing
// access (delete, update of the target) must have no port on it.
func validateNetworkChange(ctx context.Context, tx *db.Tx, c *Change) error {
	if c.Policy.Action != AccessShared {
		return nil
	}
	return c.Memo("ml2", func() error {
		net, err := visibleNetwork(ctx, tx, c.Caller, c.Policy.ObjectID)
		if err != nil {
			return err
		}
		if net == nil {
			return networkNotFound(c.Policy.ObjectID)
		}
		if c.Op != Delete && !c.Caller.IsAdmin && net.project != c.Caller.ProjectID {
			return ownershipError("networks")
		}
		if c.Policy.Target == net.project {
			return nil
		}
		switch c.Op {
		case Update:
			if !c.HasNewTarget {
				return KeyErrorTarget
			}
			if c.NewTarget == c.Policy.Target {
				return nil
			}
		case Create:
			return nil
		}
		return ensureNoTenantPorts(ctx, tx, c.Env, net, c.Policy.Target)
	})
}

// ensureNoTenantPorts is ensure_no_tenant_ports_on_network: tenant ("*"
// or a project) is about to lose the access a policy gave it.
func ensureNoTenantPorts(ctx context.Context, tx *db.Tx, env *plugin.Env, net *network, tenant string) error {
	ports := env.Table("ports")
	if ports == nil {
		return nil
	}
	query := "SELECT COUNT(*) FROM " + ports.Name + " WHERE network_id = ? AND project_id = ?"
	args := []any{net.id, tenant}
	if tenant == Wildcard {
		// any port of a project without its own entry (or the owner's)
		allowed, err := sharing.TargetsExcept(ctx, tx, "network", net.id, AccessShared, Wildcard)
		if err != nil {
			return err
		}
		allowed = append(allowed, net.project)
		query = "SELECT COUNT(*) FROM " + ports.Name + " WHERE network_id = ? AND project_id NOT IN (" + store.Placeholders(len(allowed)) + ")"
		args = args[:1]
		for _, p := range allowed {
			args = append(args, p)
		}
	} else {
		// a wildcard entry allows any port
		w, err := sharing.Count(ctx, tx, "network", net.id, AccessShared, Wildcard)
		if err != nil || w > 0 {
			return err
		}
	}
	n, err := count(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	if n > 0 {
		return InvalidSharedSetting(net.id)
	}
	return nil
}

// processExtPolicyCreate is External_net_db_mixin._process_ext_policy_create:
// an access_as_external entry makes the network external (without a
// wildcard entry).
func processExtPolicyCreate(ctx context.Context, tx *db.Tx, c *Change) error {
	if c.Op != Create || c.Policy.Action != AccessExternal {
		return nil
	}
	net, err := visibleNetwork(ctx, tx, c.Caller, c.Policy.ObjectID)
	if err != nil {
		return err
	}
	if net == nil {
		return networkNotFound(c.Policy.ObjectID)
	}
	if !c.Caller.IsAdmin && net.project != c.Caller.ProjectID {
		return ownershipError("networks")
	}
	if net.external {
		return nil
	}
	if _, err := tx.Exec(ctx, "UPDATE networks SET router_external = ? WHERE id = ?", true, net.id); err != nil {
		return err
	}
	// the externalnetworks row revises the network
	return bumpNetwork(ctx, tx, c.Env, net.id)
}

// validateExtNotInUse is External_net_db_mixin._validate_ext_not_in_use_by_tenant.
// Routers register their own check with AddCallback("network", ...).
func validateExtNotInUse(ctx context.Context, tx *db.Tx, c *Change) error {
	if c.Op == Create || c.Policy.Action != AccessExternal {
		return nil
	}
	if c.Op == Update {
		if !c.HasNewTarget {
			return KeyErrorTarget
		}
		if c.NewTarget == c.Policy.Target {
			return nil
		}
	}
	if c.Policy.Target != Wildcard {
		return nil
	}
	n, err := count(ctx, tx, "SELECT COUNT(*) FROM networks WHERE id = ? AND router_external = ? AND is_default = ?", c.Policy.ObjectID, true, true)
	if err != nil {
		return err
	}
	if n > 0 {
		return PolicyInUse(c.Policy.ObjectID, "Default external networks must be shared to everyone.")
	}
	return nil
}

// networkAfter bumps the network's revision (Neutron's NetworkRBAC
// revises the network) and, when the last access_as_external entry is
// gone, makes the network internal (_process_ext_policy_delete).
func networkAfter(ctx context.Context, tx *db.Tx, c *Change) error {
	id := c.Policy.ObjectID
	if err := bumpNetwork(ctx, tx, c.Env, id); err != nil {
		return err
	}
	if c.Op != Delete || c.Policy.Action != AccessExternal {
		return nil
	}
	n, err := sharing.Count(ctx, tx, "network", id, AccessExternal, "")
	if err != nil || n > 0 {
		return err
	}
	ext, err := count(ctx, tx, "SELECT COUNT(*) FROM networks WHERE id = ? AND router_external = ?", id, true)
	if err != nil || ext == 0 {
		return err
	}
	if p, ok := c.Env.Plugin("ml2").(*ml2.Plugin); ok {
		if err := p.CheckExternalInUse(ctx, tx, id); err != nil {
			if _, isAPI := nerr.As(err); isAPI {
				// an AFTER_DELETE callback's failure is only logged
				return nil
			}
			return err
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE networks SET router_external = ?, is_default = ? WHERE id = ?", false, false, id); err != nil {
		return err
	}
	return bumpNetwork(ctx, tx, c.Env, id)
}

func bumpNetwork(ctx context.Context, tx *db.Tx, env *plugin.Env, id string) error {
	if p, ok := env.Plugin("ml2").(*ml2.Plugin); ok && p.Networks() != nil {
		return p.Networks().BumpRevision(ctx, tx, id)
	}
	return nil
}

// checkNetworkUnshare is registered with ML2's OnUnshare: Neutron's
// _validate_shared_update when "shared" goes from true to false — the
// projects with ports (other than network:* ones) or subnets on the
// network must be its owner or have their own access_as_shared entry.
func (c *Component) checkNetworkUnshare(ctx context.Context, tx *db.Tx, net api.Object) error {
	id := pyfmt.Str(net["id"])
	owner := pyfmt.Str(net["project_id"])
	w, err := sharing.Count(ctx, tx, "network", id, AccessShared, Wildcard)
	if err != nil || w == 0 {
		return err
	}
	tenants := map[string]bool{}
	if t := c.env.Table("ports"); t != nil {
		ps, err := strings1(ctx, tx, "SELECT DISTINCT project_id FROM "+t.Name+" WHERE network_id = ? AND device_owner NOT LIKE 'network:%'", id)
		if err != nil {
			return err
		}
		for _, p := range ps {
			tenants[p] = true
		}
	}
	if t := c.env.Table("subnets"); t != nil {
		ps, err := strings1(ctx, tx, "SELECT DISTINCT project_id FROM "+t.Name+" WHERE network_id = ?", id)
		if err != nil {
			return err
		}
		for _, p := range ps {
			tenants[p] = true
		}
	}
	if len(tenants) == 0 || len(tenants) == 1 && tenants[owner] {
		return nil
	}
	allowed, err := sharing.TargetsExcept(ctx, tx, "network", id, AccessShared, Wildcard)
	if err != nil {
		return err
	}
	allowed = append(allowed, owner)
	for p := range tenants {
		if !contains(allowed, p) {
			return InvalidSharedSetting(pyfmt.Str(net["name"]))
		}
	}
	return nil
}
