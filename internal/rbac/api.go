package rbac

import (
	"context"
	"sort"
	"strings"
	"sync"

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
	ml2.RegisterComponent(ml2.Component{Name: "rbac", Order: 50, Setup: setup})
}

// Resource is the rbac_policy resource as Neutron Zed declares it
// (neutron/extensions/rbac.py): no attribute is a sort key, and the
// collection is not paginated.
func Resource() *api.Resource {
	attrs := []*api.Attribute{
		{Name: "id", Validate: api.UUID, Visible: true, IsFilter: true, PrimaryKey: true},
		{Name: "object_type", AllowPost: true, Default: nil, Convert: convertObjectType,
			EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "object_id", AllowPost: true, Required: true, Validate: api.UUID,
			EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "target_tenant", AllowPost: true, AllowPut: true, Required: true, Validate: api.String(255),
			EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "tenant_id", AllowPost: true, Required: true, Validate: api.String(255),
			RequiredByPolicy: true, IsFilter: true, Visible: true},
		{Name: "action", AllowPost: true, Required: true, Validate: api.String(255),
			EnforcePolicy: true, IsFilter: true, Visible: true},
	}
	return &api.Resource{ExtensionController: true, Name: "rbac_policy", Collection: "rbac_policies", Path: "rbac-policies",
		Extension: "rbac-policies", Attrs: attrs, AllowBulk: true, NotFound: NotFound}
}

// convertObjectType is convert_valid_object_type.
func convertObjectType(v any) (any, error) {
	s, ok := v.(string)
	if ok {
		if n := strings.ToLower(strings.TrimSpace(s)); ValidType(n) {
			return n, nil
		}
	}
	return nil, nerr.InvalidInput("'" + pyfmt.Str(v) + "' is not a valid RBAC object type")
}

// Component is the RBAC component of one server.
type Component struct {
	env   *plugin.Env
	ml2   *ml2.Plugin
	table *store.Table
}

func setup(env *plugin.Env, p *ml2.Plugin) error {
	c := &Component{env: env, ml2: p}
	res := Resource()
	// The table gets a stand-in resource (for its 404s): Env.Finish
	// installs every table as its resource's backend, and this resource's
	// backend wraps the table. The table is still registered, so that the
	// application enforces its quota.
	t := &store.Table{
		Name: "rbac_policies", Res: &api.Resource{Name: res.Name, NotFound: NotFound}, DB: env.DB, Quota: "rbac_policy",
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "object_type"}, {Attr: "object_id"},
			{Attr: "target_tenant", Name: "target_project"}, {Attr: "action"},
		},
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: c.beforeCreate,
		AfterCreate:  c.afterCreate,
		BeforeUpdate: c.beforeUpdate,
		AfterUpdate:  c.afterUpdate,
		BeforeDelete: c.beforeDelete,
		AfterDelete:  c.afterDelete,
	})
	t.Init()
	res.Backend = backend{Table: t, types: &sync.Map{}}
	c.table = t
	env.AddResource(res, t)
	env.AddExtensions("rbac-policies")
	p.OnUnshare(c.checkNetworkUnshare)
	return nil
}

// backend is the table with Neutron's answers for duplicates and its
// unpaginated, per-type listing. types is Neutron's object_type_cache:
// the type of every policy looked up by id, kept after the policy is gone
// (when its object is deleted; not when the policy is), so that the 404 of
// a policy looked up before names its type. It is kept per caller (a
// project, or the admins), so that it never names the type of a policy to
// someone who could not see it.
type backend struct {
	*store.Table
	types *sync.Map
}

// Delete deletes a policy and forgets its type.
func (b backend) Delete(ctx context.Context, id string, ifMatch *int64) error {
	if err := b.Table.Delete(ctx, id, ifMatch); err != nil {
		return err
	}
	b.types.Range(func(k, _ any) bool {
		if strings.HasSuffix(k.(string), "\x00"+id) {
			b.types.Delete(k)
		}
		return true
	})
	return nil
}

// cacheKey keys the type cache by caller.
func cacheKey(ctx context.Context, id string) string {
	rc := caller(ctx)
	if rc.IsAdmin {
		return "\x00admin\x00" + id
	}
	return rc.ProjectID + "\x00" + id
}

// Get reads a policy, remembering its type.
func (b backend) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	obj, err := b.Table.Get(ctx, id, fields)
	key := cacheKey(ctx, id)
	if err == nil {
		b.types.Store(key, api.PyStr(obj["object_type"]))
		return obj, nil
	}
	if e, ok := nerr.As(err); ok && e.Type == "RbacPolicyNotFound" {
		if t, ok := b.types.Load(key); ok {
			return nil, nerr.NotFound("RbacPolicyNotFound", "RBAC policy of type %s with ID %s not found", t, id)
		}
	}
	return nil, err
}

// Create turns a lost race on the unique key into DuplicateRbacPolicy.
func (b backend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	out, err := b.Table.Create(ctx, items)
	if db.IsUniqueViolation(err) {
		return nil, Duplicate()
	}
	return out, err
}

// Update answers DuplicateRbacPolicy when the new target already has an
// entry (Neutron Zed fails with a 500 there).
func (b backend) Update(ctx context.Context, id string, changes api.Object, ifMatch *int64) (api.Object, error) {
	out, err := b.Table.Update(ctx, id, changes, ifMatch)
	if db.IsUniqueViolation(err) {
		return nil, Duplicate()
	}
	return out, err
}

// List ignores limit and marker (the extension disables pagination) and
// lists one object type after the other, as get_rbac_policies does.
func (b backend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	q.Limit, q.Marker, q.PageReverse, q.Sorts = 0, "", false, nil
	objs, err := b.Table.List(ctx, q)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(objs, func(i, j int) bool {
		return typeOrder(pyfmt.Str(objs[i]["object_type"])) < typeOrder(pyfmt.Str(objs[j]["object_type"]))
	})
	return objs, nil
}

func caller(ctx context.Context) *reqctx.Context {
	if rc := reqctx.From(ctx); rc != nil {
		return rc
	}
	return &reqctx.Context{IsAdmin: true}
}

func policyOf(obj api.Object) Policy {
	return Policy{
		ID: pyfmt.Str(obj["id"]), ProjectID: pyfmt.Str(obj["project_id"]),
		ObjectType: pyfmt.Str(obj["object_type"]), ObjectID: pyfmt.Str(obj["object_id"]),
		Target: pyfmt.Str(obj["target_tenant"]), Action: pyfmt.Str(obj["action"]),
	}
}

type changeKey struct{}

func (c *Component) change(ctx context.Context, op Op, obj api.Object) *Change {
	return &Change{Op: op, Policy: policyOf(obj), Caller: caller(ctx), Env: c.env}
}

// beforeCreate is create_rbac_policy up to the insert: the callbacks
// (ownership, type-specific checks and side effects), then the action's
// validity, then the duplicate check (the unique key decides races).
func (c *Component) beforeCreate(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	ch := c.change(ctx, Create, obj)
	t := typeFor(c.env, ch.Policy.ObjectType)
	fs, err := run(ctx, tx, ch, t)
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		return nerr.InvalidInput(fs.String())
	}
	if !contains(t.Actions, ch.Policy.Action) {
		return invalidAction(ch.Policy.Action, t.Name, t.Actions)
	}
	// An admin may reach here for an object that does not exist (Neutron
	// then fails on the foreign key): answer as the generic callback does
	// for anyone else.
	if _, found, err := t.owner(ctx, tx, ch.Policy.ObjectID); err != nil {
		return err
	} else if !found {
		return nerr.InvalidInput(failures{"Callback " + t.genericName() + " failed with \"" + noneSubscript.Message + "\""}.String())
	}
	n, err := sharing.Count(ctx, tx, ch.Policy.ObjectType, ch.Policy.ObjectID, ch.Policy.Action, ch.Policy.Target)
	if err != nil {
		return err
	}
	if n > 0 {
		return Duplicate()
	}
	op.Set(changeKey{}, ch)
	return nil
}

func (c *Component) afterCreate(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	ch, _ := op.Value(changeKey{}).(*Change)
	if ch == nil {
		return nil
	}
	ch.Policy.ID = pyfmt.Str(obj["id"])
	if t := typeFor(c.env, ch.Policy.ObjectType); t.After != nil {
		return t.After(ctx, tx, ch)
	}
	return nil
}

// beforeUpdate runs the callbacks; their failures are RbacPolicyInUse.
func (c *Component) beforeUpdate(op *store.Op) error {
	ctx, tx, old, changes := op.Ctx, op.Tx, op.Old, op.New
	ch := c.change(ctx, Update, old)
	if v, ok := changes["target_tenant"]; ok {
		ch.NewTarget, ch.HasNewTarget = pyfmt.Str(v), true
	}
	t := typeFor(c.env, ch.Policy.ObjectType)
	fs, err := run(ctx, tx, ch, t)
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		return PolicyInUse(ch.Policy.ObjectID, fs.String())
	}
	if ch.HasNewTarget && ch.NewTarget != ch.Policy.Target {
		n, err := sharing.Count(ctx, tx, ch.Policy.ObjectType, ch.Policy.ObjectID, ch.Policy.Action, ch.NewTarget)
		if err != nil {
			return err
		}
		if n > 0 {
			return Duplicate()
		}
	}
	op.Set(changeKey{}, ch)
	return nil
}

func (c *Component) afterUpdate(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	ch, _ := op.Value(changeKey{}).(*Change)
	if ch == nil {
		return nil
	}
	if t := typeFor(c.env, ch.Policy.ObjectType); t.After != nil {
		return t.After(ctx, tx, ch)
	}
	return nil
}

// beforeDelete runs the callbacks; their failures are RbacPolicyInUse.
func (c *Component) beforeDelete(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	ch := c.change(ctx, Delete, obj)
	fs, err := run(ctx, tx, ch, typeFor(c.env, ch.Policy.ObjectType))
	if err != nil {
		return err
	}
	if len(fs) > 0 {
		return PolicyInUse(ch.Policy.ObjectID, fs.String())
	}
	return nil
}

func (c *Component) afterDelete(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	ch := c.change(ctx, Delete, obj)
	if t := typeFor(c.env, ch.Policy.ObjectType); t.After != nil {
		return t.After(ctx, tx, ch)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
