// Package trunk is the trunk service plugin (Neutron's TrunkPlugin, the
// trunk and trunk-details extensions): /v2.0/trunks with their sub-ports
// (add_subports, remove_subports, get_subports), trunk_details on parent
// ports, the ports' in-use checks (a parent or sub-port cannot be
// deleted) and the trunk status rules without a backend (DOWN on
// creation, on every sub-port change and when the parent is unbound).
// Backends are trunk drivers (drivers.go): they register what they accept
// and follow the Trunks and Subports events, the plugin knows none of them.
package trunk

import (
	"context"
	"sync"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("trunk", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.trunk.plugin.TrunkPlugin", "neutron.services.trunk.plugin:TrunkPlugin")
}

// Plugin is the trunk service plugin of one server.
type Plugin struct {
	env     *plugin.Env
	trunks  *store.Table
	ports   *store.Table
	mu      sync.Mutex
	drivers []Driver // registered trunk drivers (drivers.go)
}

// Trunk is the trunk resource as Neutron Zed declares it.
func Trunk() *api.Resource {
	attrs := []*api.Attribute{
		{Name: "admin_state_up", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			Visible: true, IsFilter: true, IsSortKey: true},
		api.IDAttr(),
		api.NameAttr(),
		api.TenantAttr(),
		{Name: "port_id", AllowPost: true, Required: true, Validate: api.UUID, Visible: true, IsFilter: true, IsSortKey: true,
			RequiredByPolicy: true},
		{Name: "status", Visible: true, IsSortKey: true},
		// enforce_policy: sub-ports on create add create_trunk:sub_ports
		// and a create_trunk:sub_ports:<key> rule per key of each
		{Name: "sub_ports", AllowPost: true, Default: []any{}, Validate: validateSubports, Visible: true, EnforcePolicy: true},
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{ExtensionController: true, Extension: "trunk", Name: "trunk", Collection: "trunks",
		Attrs: attrs, Tags: true, NotFound: trunkNotFound}
}

// Setup declares trunks and hooks them to ports.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	ml, ok := env.Plugin("ml2").(*ml2.Plugin)
	if !ok {
		return errNoML2
	}
	p.ports = ml.Ports()
	res := Trunk()
	t := &store.Table{
		Name: "trunks", Res: res, DB: env.DB, Std: true, Quota: "trunk", IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "admin_state_up", Kind: store.Bool}, {Attr: "status"}, {Attr: "port_id"},
		},
	}
	t.AddHooks(store.Hooks{
		// the parent port first (lock order: store/lock.go)
		Lock:         store.ParentLock("ports", "port_id", store.Shared),
		BeforeCreate: p.beforeCreate,
		AfterCreate:  p.afterCreate,
		BeforeDelete: p.beforeDelete,
		Load:         loadSubports,
	})
	res.MemberActions = map[string]api.MemberAction{
		"add_subports":    p.addSubports,
		"remove_subports": p.removeSubports,
	}
	res.MemberGets = map[string]api.MemberAction{"get_subports": p.getSubports}
	p.trunks = t
	res.Backend = trunkBackend{t, p}
	env.AddResource(res, t)
	p.setupPorts(env)
	env.AddExtensions("trunk", "trunk-details")
	return nil
}

var errNoML2 = nerr.New(500, "TrunkSetup", "the trunk plugin needs the ml2 core plugin")

// ---- errors ----

func trunkNotFound(id string) error {
	return nerr.NotFound("TrunkNotFound", "Trunk %s could not be found.", id)
}

func parentInUse(port string) error {
	return nerr.Conflict("ParentPortInUse", "Port %s is currently in use and is not eligible for use as a parent port.", port)
}

func trunkPortInUse(port string) error {
	return nerr.Conflict("TrunkPortInUse", "Port %s is in use by another trunk.", port)
}

func trunkDisabled(id string) error {
	return nerr.Conflict("TrunkDisabled", "Trunk %s is currently disabled.", id)
}

func duplicateSubport(typ string, segID any, trunk string) error {
	return nerr.Conflict("DuplicateSubPort", "segmentation_type %s and segmentation_id %v already in use on trunk %s.", typ, segID, trunk)
}

// ---- create, delete ----

func (p *Plugin) beforeCreate(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	parent := str(op.New["port_id"])
	if err := p.validateParent(ctx, tx, parent); err != nil {
		return err
	}
	subs, err := p.validateSubports(ctx, tx, parent, op.New["sub_ports"].([]any))
	if err != nil {
		return err
	}
	op.New["sub_ports"] = subs
	op.New["status"] = "DOWN"
	return nil
}

func (p *Plugin) afterCreate(op *store.Op) error {
	return insertSubports(op.Ctx, op.Tx, op.ID, op.New["sub_ports"].([]any))
}

// insertSubports writes sub-ports; the keys decide races: a segmentation
// taken on the trunk is DuplicateSubPort, a port taken by another trunk
// TrunkPortInUse.
func insertSubports(ctx context.Context, tx *db.Tx, trunk string, subs []any) error {
	for _, s := range subs {
		m := s.(map[string]any)
		var n int
		err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM subports WHERE trunk_id = ? AND segmentation_type = ? AND segmentation_id = ?",
			trunk, m["segmentation_type"], m["segmentation_id"]).Scan(&n)
		if err != nil {
			return err
		}
		if n > 0 {
			return duplicateSubport(str(m["segmentation_type"]), m["segmentation_id"], trunk)
		}
		_, err = tx.Exec(ctx, "INSERT INTO subports (port_id, trunk_id, segmentation_type, segmentation_id) VALUES (?, ?, ?, ?)",
			m["port_id"], trunk, m["segmentation_type"], m["segmentation_id"])
		if db.IsUniqueViolation(err) || db.IsForeignKeyViolation(err) {
			return db.ErrRetry // a concurrent change: the checks see it next time
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *Plugin) beforeDelete(op *store.Op) error {
	if up, _ := op.Old["admin_state_up"].(bool); !up {
		return trunkDisabled(op.ID)
	}
	ok, err := p.parentTrunkable(op.Ctx, op.Tx, str(op.Old["port_id"]))
	if err != nil {
		return err
	}
	if !ok {
		return nerr.Conflict("TrunkInUse", "Trunk %s is currently in use.", op.ID)
	}
	_, err = op.Tx.Exec(op.Ctx, "DELETE FROM subports WHERE trunk_id = ?", op.ID)
	return err
}

// loadSubports fills sub_ports (one query for the batch).
func loadSubports(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		o["sub_ports"] = []any{}
	}
	return store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT trunk_id, port_id, segmentation_type, segmentation_id FROM subports WHERE trunk_id IN ("+ph+") ORDER BY trunk_id, port_id", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var trunk, port, typ string
			var seg int64
			if err := rows.Scan(&trunk, &port, &typ, &seg); err != nil {
				return err
			}
			o := byID[trunk]
			o["sub_ports"] = append(o["sub_ports"].([]any), map[string]any{"port_id": port, "segmentation_type": typ, "segmentation_id": seg})
		}
		return rows.Err()
	})
}

func str(v any) string { s, _ := v.(string); return s }

// trunkBackend is the trunks table with the answer to a lost race for a
// parent port: its unique key makes the loser ParentPortInUse.
// It answers with what the trunk drivers changed after the commit.
type trunkBackend struct {
	*store.Table
	p *Plugin
}

func (b trunkBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	out, err := b.Table.Create(ctx, items)
	if db.IsUniqueViolation(err) && len(items) == 1 {
		return nil, parentInUse(str(items[0]["port_id"]))
	}
	for _, o := range out {
		b.p.driverUpdates(ctx, o)
	}
	return out, err
}
