// Package subnetpool is the ML2 component for address scopes and subnet
// pools (Neutron's address-scope, subnet_allocation, subnetpool-prefix-ops
// and default-subnetpools extensions): the /v2.0/address-scopes and
// /v2.0/subnetpools resources, the add_prefixes/remove_prefixes actions,
// the networks' ipv4_address_scope/ipv6_address_scope attributes, and the
// prefix allocator that subnet creation calls (ml2.SubnetPools).
package subnetpool

import (
	"context"
	"fmt"
	"net/http"

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

func init() {
	ml2.RegisterComponent(ml2.Component{Name: "subnetpools", Order: 20, Setup: setup})
}

// Component holds the address scope and subnet pool tables.
type Component struct {
	env    *plugin.Env
	scopes *store.Table
	pools  *store.Table
	// subnets names the subnets table and the columns the allocator reads
	// (schema version 2's, or those the subnets resource declares).
	subnets *subnetCols
}

// subnetCols are the SQL names of the subnet columns the allocator reads.
type subnetCols struct {
	table, id, cidr, network, pool, project, version string
}

func setup(env *plugin.Env, p *ml2.Plugin) error {
	c := &Component{env: env, subnets: &subnetCols{table: "subnets", id: "id", cidr: "cidr",
		network: "network_id", pool: "subnetpool_id", project: "project_id", version: "ip_version"}}
	c.setupScopes(env)
	c.setupPools(env, p.Offers("subnetpool-prefix-ops"))
	if p.Offers("subnet_onboard") {
		c.setupOnboard()
	}
	c.setupRBAC(env)
	p.SetSubnetPools(c)
	p.Networks().AddHooks(store.Hooks{Load: c.loadNetworkScopes})
	env.AddExtensions("address-scope", "subnet_allocation", "subnetpool-prefix-ops", "default-subnetpools")
	env.OnFinish(func() error {
		t := env.Table("subnets")
		if t == nil {
			return nil
		}
		sc := &subnetCols{table: t.Name}
		for attr, dst := range map[string]*string{
			"id": &sc.id, "cidr": &sc.cidr, "network_id": &sc.network, "subnetpool_id": &sc.pool,
			"project_id": &sc.project, "ip_version": &sc.version,
		} {
			col := t.Col(attr)
			if col == nil {
				return fmt.Errorf("subnetpools: the subnets table has no %s column", attr)
			}
			*dst = col.Name
			if col.Name == "" {
				*dst = attr
			}
		}
		c.subnets = sc
		return nil
	})
	return nil
}

// ---- errors ----

func scopeNotFound(id string) error {
	return nerr.NotFound("AddressScopeNotFound", "Address scope %s could not be found.", id)
}

func poolNotFound(id string) error {
	return nerr.NotFound("SubnetPoolNotFound", "Subnet pool %s could not be found.", id)
}

func illegalBounds(typ string, n int64, baseTyp string, base int64) error {
	return nerr.Typed(http.StatusBadRequest, "IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: %s=%d, %s=%d.", typ, n, baseTyp, base)
}

func illegalPrefixUpdate(msg string) error {
	return nerr.Typed(http.StatusBadRequest, "IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: %s.", msg)
}

func addrFormatError(v any) error {
	return nerr.Typed(http.StatusBadRequest, "AddrFormatError", "invalid IPNetwork %s", pyfmt.Str(v))
}

func badSort(collection string) error {
	return nerr.BadRequest(collection, "'shared' is an invalid attribute for sort key")
}

// ---- RBAC-based sharing (object types "address_scope", "subnetpool") ----

func callerProject(ctx context.Context) string {
	if rc := reqctx.From(ctx); rc != nil {
		return rc.ProjectID
	}
	return ""
}

func sharedCond(objType string) func(rc *reqctx.Context) (string, []any) {
	return func(rc *reqctx.Context) (string, []any) {
		return sharing.VisibleCond(objType, "t.id", rc.ProjectID, sharing.Shared)
	}
}

func sharedFilter(objType string) store.FilterFunc {
	return func(ctx context.Context, values []any) (string, []any) {
		return sharing.Filter(objType, "t.id", callerProject(ctx), values)
	}
}

func loadShared(ctx context.Context, q db.Querier, objType string, objs []api.Object) error {
	shared, err := sharing.SharedWith(ctx, q, objType, callerProject(ctx), store.IDs(objs))
	if err != nil {
		return err
	}
	for _, o := range objs {
		o["shared"] = shared[o["id"].(string)]
	}
	return nil
}

func addSharedRBAC(ctx context.Context, tx *db.Tx, objType, id string, project any) error {
	return sharing.Grant(ctx, tx, objType, id, project, sharing.Wildcard, sharing.Shared)
}

func deleteRBAC(ctx context.Context, tx *db.Tx, objType, id string) error {
	return sharing.RevokeAll(ctx, tx, objType, id)
}

func sortsShared(q *api.Query) bool {
	for _, s := range q.Sorts {
		if s.Key == "shared" {
			return true
		}
	}
	return false
}

func isSet(v any, ok bool) bool { return ok && v != nil && v != api.NotSpecified }

func str(v any) string {
	s, _ := v.(string)
	return s
}

func intOf(v any) int64 {
	switch x := v.(type) {
	case string:
		n, _ := pyfmt.IntString(x)
		return n
	}
	n, _ := pyfmt.Int(v)
	return n
}

// ---- address scopes ----

// AddressScope is the address-scope resource as Neutron Zed declares it.
func AddressScope() *api.Resource {
	return &api.Resource{ExtensionController: true, Name: "address_scope", Collection: "address_scopes", Path: "address-scopes", AllowBulk: true,
		Attrs: []*api.Attribute{
			api.IDAttr(),
			api.NameAttr(),
			api.TenantAttr(),
			{Name: "shared", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool,
				IsFilter: true, IsSortKey: true, EnforcePolicy: true, RequiredByPolicy: true, Visible: true},
			{Name: "ip_version", AllowPost: true, Required: true, Convert: api.ToInt, Validate: api.Values(4, 6),
				IsFilter: true, IsSortKey: true, Visible: true},
		}}
}

type scopeBackend struct{ *store.Table }

func (b scopeBackend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	if sortsShared(q) {
		return nil, badSort("address_scopes")
	}
	return b.Table.List(ctx, q)
}

func (c *Component) setupScopes(env *plugin.Env) {
	res := AddressScope()
	res.NotFound = scopeNotFound
	t := &store.Table{
		Name: "address_scopes", Res: res, DB: env.DB, IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "ip_version", Kind: store.Int},
		},
		Filters: map[string]store.FilterFunc{"shared": sharedFilter("address_scope")},
		Shared:  sharedCond("address_scope"),
	}
	t.AddHooks(store.Hooks{
		AfterCreate: func(op *store.Op) error {
			ctx, tx, obj := op.Ctx, op.Tx, op.New
			if obj["shared"] == true {
				return addSharedRBAC(ctx, tx, "address_scope", obj["id"].(string), obj["project_id"])
			}
			return nil
		},
		BeforeUpdate: func(op *store.Op) error {
			old, ch := op.Old, op.New
			if v, ok := ch["shared"]; ok && v == false && old["shared"] == true {
				return nerr.Typed(http.StatusBadRequest, "AddressScopeUpdateError", "Unable to update address scope %s : %s.",
					old["id"], "Shared address scope can't be unshared")
			}
			return nil
		},
		AfterUpdate: func(op *store.Op) error {
			ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
			if ch["shared"] == true && old["shared"] != true {
				return addSharedRBAC(ctx, tx, "address_scope", old["id"].(string), old["project_id"])
			}
			return nil
		},
		BeforeDelete: func(op *store.Op) error {
			ctx, tx, obj := op.Ctx, op.Tx, op.Old
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM subnetpools WHERE address_scope_id = ?", obj["id"]).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nerr.Conflict("AddressScopeInUse", "Unable to complete operation on address scope %s. There are one or more subnet pools in use on the address scope.", obj["id"])
			}
			return deleteRBAC(ctx, tx, "address_scope", obj["id"].(string))
		},
		Load: func(ctx context.Context, q db.Querier, objs []api.Object) error {
			return loadShared(ctx, q, "address_scope", objs)
		},
	})
	t.Init()
	res.Backend = scopeBackend{t}
	c.scopes = t
	env.AddResource(res, t)
}

// loadNetworkScopes sets networks' ipv4_address_scope/ipv6_address_scope
// from the address scopes of their subnets' pools.
func (c *Component) loadNetworkScopes(ctx context.Context, q db.Querier, objs []api.Object) error {
	for _, o := range objs {
		o["ipv4_address_scope"], o["ipv6_address_scope"] = nil, nil
	}
	sc := c.subnets
	if sc == nil {
		return nil
	}
	byID := store.IndexByID(objs)
	return store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT DISTINCT s."+sc.network+", p.ip_version, p.address_scope_id FROM "+sc.table+" s JOIN subnetpools p ON p.id = s."+sc.pool+
			" WHERE s."+sc.network+" IN ("+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var netID string
			var version int
			var scope *string
			if err := rows.Scan(&netID, &version, &scope); err != nil {
				return err
			}
			o := byID[netID]
			if o == nil || scope == nil {
				continue
			}
			if version == 4 {
				o["ipv4_address_scope"] = *scope
			} else {
				o["ipv6_address_scope"] = *scope
			}
		}
		return rows.Err()
	})
}
