// Package addressgroup is the ML2 component for address groups (Neutron's
// address-group, rbac-address-group and, with the security group
// component, security-groups-remote-address-group extensions):
// /v2.0/address-groups, their add_addresses / remove_addresses actions,
// sharing through RBAC object type address_group, and the in-use check of
// the security group rules that name a group as their remote.
package addressgroup

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

const objectType = "address_group"

// Event is the resource name of address group events.
const Event = "address_group"

func init() {
	ml2.RegisterComponent(ml2.Component{Name: "address_groups", Order: 40, Setup: setup})
	rbac.RegisterObjectType(objectType, func(env *plugin.Env) (rbac.ObjectType, bool) {
		return rbac.ObjectType{Name: objectType, Actions: []string{rbac.AccessShared}, Table: "address_groups",
			BoundProjects: func(ctx context.Context, q db.Querier, id string) ([]string, error) {
				return db.Strings(ctx, q, "SELECT DISTINCT project_id FROM securitygrouprules WHERE remote_address_group_id = ? AND project_id IS NOT NULL", id)
			}}, env.Table("address_groups") != nil
	})
}

// Component holds the address groups table.
type Component struct {
	env    *plugin.Env
	groups *store.Table
}

// AddressGroup is the resource as Neutron Zed declares it.
func AddressGroup() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "address-group", Name: "address_group",
		Collection: "address_groups", Path: "address-groups", AllowBulk: true, KeepFields: []string{"tenant_id"},
		ActionMethodNotAllowed: true, UpdateTargetOmits: []string{"shared"},
		NotFound: func(id string) error {
			return nerr.NotFound("AddressGroupNotFound", "Address group %s could not be found.", id)
		},
		Attrs: []*api.Attribute{
			api.IDAttr(),
			api.NameAttr(),
			{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(1024),
				Visible: true, IsFilter: true, IsSortKey: true},
			// the map declares project_id (tenant_id mirrors it)
			{Name: "project_id", AllowPost: true, Required: true, Validate: api.String(255),
				RequiredByPolicy: true, IsFilter: true, IsSortKey: true, Visible: true},
			// left out: no addresses (the group shows [])
			{Name: "addresses", AllowPost: true, Default: api.NotSpecified, Convert: api.NoneToEmptyList,
				Validate: api.ListOf(api.Subnet), Visible: true},
			{Name: "shared"},
		}}
}

func setup(env *plugin.Env, _ *ml2.Plugin) error {
	c := &Component{env: env}
	res := AddressGroup()
	t := &store.Table{
		Name: "address_groups", Res: res, DB: env.DB, Std: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharing.VisibleCond(objectType, "t.id", rc.ProjectID, sharing.Shared)
		},
	}
	t.AddHooks(store.Hooks{
		AfterCreate:  c.afterCreate,
		BeforeDelete: c.beforeDelete,
		Load:         c.load,
	})
	res.MemberActions = map[string]api.MemberAction{
		"add_addresses": func(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
			return c.change(ctx, id, body, true)
		},
		"remove_addresses": func(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
			return c.change(ctx, id, body, false)
		},
	}
	c.groups = t
	env.AddResource(res, t)
	env.AddExtensions("address-group", "rbac-address-group")
	return nil
}

func (c *Component) afterCreate(op *store.Op) error {
	addrs, _ := op.New["addresses"].([]any)
	nets := make([]string, 0, len(addrs))
	for _, a := range addrs {
		n, ok := normalize(a)
		if !ok {
			return addrFormatError(a)
		}
		nets = append(nets, n)
	}
	_, err := c.add(op.Ctx, op.Tx, op.ID, dedupe(nets))
	return err
}

func (c *Component) beforeDelete(op *store.Op) error {
	var n int
	if err := op.Tx.QueryRow(op.Ctx, "SELECT COUNT(*) FROM securitygrouprules WHERE remote_address_group_id = ?", op.ID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nerr.Conflict("AddressGroupInUse", "Address group %s is in use on one or more security group rules.", op.ID)
	}
	if _, err := op.Tx.Exec(op.Ctx, "DELETE FROM address_associations WHERE address_group_id = ?", op.ID); err != nil {
		return err
	}
	return sharing.RevokeAll(op.Ctx, op.Tx, objectType, op.ID)
}

// load fills addresses (sorted as stored) and shared (for the caller).
func (c *Component) load(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		o["addresses"] = []any{}
	}
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	shared, err := sharing.SharedWith(ctx, q, objectType, project, store.IDs(objs))
	if err != nil {
		return err
	}
	for id, o := range byID {
		o["shared"] = shared[id]
	}
	return store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT address_group_id, address FROM address_associations WHERE address_group_id IN ("+ph+") ORDER BY address_group_id, address", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var g, a string
			if err := rows.Scan(&g, &a); err != nil {
				return err
			}
			byID[g]["addresses"] = append(byID[g]["addresses"].([]any), a)
		}
		return rows.Err()
	})
}

// normalize parses an address as netaddr.IPNetwork and returns its network.
func normalize(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	a, n, ok := ipam.ParseNetwork(s)
	if !ok {
		return "", false
	}
	p, err := a.Prefix(n)
	if err != nil {
		return "", false
	}
	return ipam.FormatPrefix(p), true
}

func addrFormatError(v any) error {
	return nerr.Typed(400, "AddrFormatError", "invalid IPNetwork %s", api.PyStr(v))
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// pyList renders addresses as Python prints a list of them.
func pyList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// add inserts addresses into a group, one revision each; present ones are
// AddressesAlreadyExist.
func (c *Component) add(ctx context.Context, tx *db.Tx, id string, nets []string) (int, error) {
	present, err := c.present(ctx, tx, id, nets)
	if err != nil {
		return 0, err
	}
	if len(present) > 0 {
		return 0, nerr.Typed(400, "AddressesAlreadyExist", "Addresses %s already exist in the address group %s.", pyList(present), id)
	}
	for _, n := range nets {
		if _, err := tx.Exec(ctx, "INSERT INTO address_associations (address, address_group_id) VALUES (?, ?)", n, id); err != nil {
			if db.IsUniqueViolation(err) {
				return 0, db.ErrRetry
			}
			return 0, err
		}
	}
	return len(nets), c.revise(ctx, tx, id, len(nets))
}

func (c *Component) revise(ctx context.Context, tx *db.Tx, id string, n int) error {
	if n == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, "UPDATE address_groups SET revision_number = revision_number + ?, updated_at = ? WHERE id = ?", n, store.Now(), id)
	return err
}

// present returns which of nets the group has.
func (c *Component) present(ctx context.Context, tx *db.Tx, id string, nets []string) ([]string, error) {
	have, err := db.Strings(ctx, tx, "SELECT address FROM address_associations WHERE address_group_id = ?", id)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	var out []string
	for _, n := range nets {
		if set[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// parseBody reads an action's addresses as Neutron does: no API
// validation, each element (each character of a string) parsed as an
// IPNetwork; a body without addresses is InvalidInput (a 500 in Neutron).
func parseBody(body map[string]any) ([]string, error) {
	raw, ok := body["addresses"]
	if !ok {
		return nil, nerr.InvalidInput("Invalid data format for addresses: 'None' is not a list")
	}
	var items []any
	switch x := raw.(type) {
	case []any:
		items = x
	case string:
		for _, r := range x {
			items = append(items, string(r))
		}
	default:
		return nil, nerr.InvalidInput(fmt.Sprintf("Invalid data format for addresses: '%s' is not a list", api.PyStr(raw)))
	}
	nets := make([]string, 0, len(items))
	for _, it := range items {
		n, ok := normalize(it)
		if !ok {
			return nil, addrFormatError(it)
		}
		nets = append(nets, n)
	}
	return dedupe(nets), nil
}

// change is add_addresses / remove_addresses.
func (c *Component) change(ctx context.Context, id string, body map[string]any, add bool) (any, error) {
	var out api.Object
	err := c.env.DB.Write(ctx, func(tx *db.Tx) error {
		old, err := c.groups.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		nets, err := parseBody(body)
		if err != nil {
			return err
		}
		if add {
			_, err = c.add(ctx, tx, id, nets)
		} else {
			err = c.remove(ctx, tx, id, nets)
		}
		if err != nil {
			return err
		}
		obj, err := c.groups.GetTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		out = api.Object{"tenant_id": obj["project_id"]}
		for _, k := range []string{"id", "name", "description", "project_id", "addresses", "shared",
			"created_at", "updated_at", "revision_number"} {
			out[k] = obj[k]
		}
		c.env.Bus.PublishAfterCommit(tx, Event, events.AfterUpdate,
			&events.Payload{Ctx: ctx, ID: id, Old: old, New: obj, Request: body})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"address_group": out}, nil
}

func (c *Component) remove(ctx context.Context, tx *db.Tx, id string, nets []string) error {
	present, err := c.present(ctx, tx, id, nets)
	if err != nil {
		return err
	}
	if len(present) != len(nets) {
		set := map[string]bool{}
		for _, p := range present {
			set[p] = true
		}
		var missing []string
		for _, n := range nets {
			if !set[n] {
				missing = append(missing, n)
			}
		}
		return nerr.NotFound("AddressesNotFound", "Addresses %s not found in the address group %s.", pyList(missing), id)
	}
	for _, n := range nets {
		if _, err := tx.Exec(ctx, "DELETE FROM address_associations WHERE address_group_id = ? AND address = ?", id, n); err != nil {
			return err
		}
	}
	return c.revise(ctx, tx, id, len(nets))
}
