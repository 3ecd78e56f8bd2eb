// Package secgroup is the ML2 component for security groups and their
// rules (Neutron's security-group extension and its companions): the
// /v2.0/security-groups and /v2.0/security-group-rules resources, each
// project's "default" group, created once on first need, and, when ports
// exist, the ports' security_groups attribute.
package secgroup

import (
	"context"
	"database/sql"
	"errors"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	ml2.RegisterComponent(ml2.Component{Name: "securitygroups", Order: 10, Setup: setup})
}

// Component holds the security group tables.
type Component struct {
	env    *plugin.Env
	groups *store.Table
	rules  *store.Table
	ports  *store.Table
}

func setup(env *plugin.Env, p *ml2.Plugin) error {
	c := &Component{env: env}
	c.setupGroups(env)
	c.setupRules(env)
	c.setupRBAC(env)
	// Neutron makes the project's default group before a network is created.
	p.Networks().AddHooks(store.Hooks{BeforeCreate: func(op *store.Op) error {
		ctx, tx, obj := op.Ctx, op.Tx, op.New
		_, err := c.ensureDefaultTx(ctx, tx, pyfmt.Str(obj["project_id"]))
		return err
	}})
	env.AddExtensions("security-group", "security-groups-normalized-cidr", "security-groups-shared-filtering",
		"stateful-security-group", "security-groups-remote-address-group")
	env.OnFinish(func() error {
		if t := env.Table("ports"); t != nil {
			c.setupPorts(env, t)
		}
		return nil
	})
	return nil
}

// ---- helpers ----

func sgNotFound(id string) error {
	return nerr.NotFound("SecurityGroupNotFound", "Security group %s does not exist", id)
}

func callerCtx(ctx context.Context) *reqctx.Context {
	if rc := reqctx.From(ctx); rc != nil {
		return rc
	}
	return &reqctx.Context{}
}

func callerProject(ctx context.Context) string { return callerCtx(ctx).ProjectID }

// sharedWith is the condition "the group idExpr is shared with project
// through RBAC".
func sharedWith(idExpr, project string) (string, []any) {
	return sharing.VisibleCond("security_group", idExpr, project, sharing.Shared)
}

// ---- resources ----

// SecurityGroup is the security-group resource as Neutron Zed declares it
// (with stateful-security-group and security-groups-shared-filtering).
func SecurityGroup() *api.Resource {
	attrs := []*api.Attribute{
		api.IDAttr(),
		{Name: "name", AllowPost: true, AllowPut: true, Default: "", Convert: nameNotDefault, Validate: api.String(255),
			ConvertFilter: func(v any) (any, error) { return v, nil }, IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "stateful", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool, Visible: true},
		api.TenantAttr(),
		{Name: "shared", Convert: api.ToBool, IsFilter: true, EnforcePolicy: true, RequiredByPolicy: true, Visible: true},
		{Name: "security_group_rules", Visible: true},
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{ExtensionController: true, Name: "security_group", Collection: "security_groups", Path: "security-groups",
		Attrs: attrs, AllowBulk: true, Tags: true}
}

// SecurityGroupRule is the security-group-rule resource as Neutron Zed
// declares it (with normalized_cidr and remote_address_group_id).
func SecurityGroupRule() *api.Resource {
	opt := func(name string, conv api.Converter) *api.Attribute {
		return &api.Attribute{Name: name, AllowPost: true, Default: nil, Convert: conv, IsFilter: true, IsSortKey: true, Visible: true}
	}
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.TenantAttr(),
		{Name: "security_group_id", AllowPost: true, Required: true, Validate: api.String(36),
			IsFilter: true, IsSortKey: true, RequiredByPolicy: true, Visible: true},
		{Name: "ethertype", AllowPost: true, Default: "IPv4", Convert: convertEthertype, Validate: api.Values("IPv4", "IPv6"),
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "direction", AllowPost: true, Required: true, Validate: api.Values("ingress", "egress"),
			IsFilter: true, IsSortKey: true, Visible: true},
		opt("protocol", convertProtocol),
		opt("port_range_min", convertPort),
		opt("port_range_max", convertPort),
		opt("remote_ip_prefix", convertIPPrefix),
		opt("remote_address_group_id", nil),
		{Name: "normalized_cidr", IsFilter: true, IsSortKey: true, Visible: true},
		opt("remote_group_id", nil),
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), IsFilter: true, Visible: true},
		{Name: "created_at", Visible: true},
		{Name: "updated_at", Visible: true},
		{Name: "revision_number", IsFilter: true, Visible: true},
	}
	return &api.Resource{ExtensionController: true, Name: "security_group_rule", Collection: "security_group_rules", Path: "security-group-rules",
		Attrs: attrs, AllowBulk: true}
}

// ---- security groups ----

type groupBackend struct {
	*store.Table
	c *Component
}

// List makes the caller's (or the filtered project's) default group first,
// as get_security_groups does.
func (b groupBackend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	if rc := callerCtx(ctx); rc.ProjectID != "" {
		project := rc.ProjectID
		for _, f := range q.Filters {
			if (f.Attr == "project_id" || f.Attr == "tenant_id") && len(f.Values) > 0 {
				project = pyfmt.Str(f.Values[0])
				break
			}
		}
		if _, err := b.c.ensureDefault(ctx, project); err != nil {
			return nil, err
		}
	}
	return b.Table.List(ctx, q)
}

// Create makes each project's default group before its new groups.
func (b groupBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	for _, it := range items {
		if _, err := b.c.ensureDefault(ctx, pyfmt.Str(it["project_id"])); err != nil {
			return nil, err
		}
	}
	return b.Table.Create(ctx, items)
}

func (c *Component) setupGroups(env *plugin.Env) {
	res := SecurityGroup()
	res.NotFound = sgNotFound
	t := &store.Table{
		Name: "securitygroups", Res: res, DB: env.DB, IgnoreUnknownMarker: true, Quota: "security_group", Std: true, InitialRevision: 1,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "stateful", Kind: store.Bool},
		},
		Filters: map[string]store.FilterFunc{"shared": sharedFilter},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharedWith("t.id", rc.ProjectID)
		},
	}
	t.AddHooks(store.Hooks{
		AfterCreate:  c.afterCreateGroup,
		BeforeUpdate: c.beforeUpdateGroup,
		BeforeDelete: c.beforeDeleteGroup,
		Load:         c.loadGroups,
	})
	t.Init()
	res.Backend = groupBackend{t, c}
	c.groups = t
	env.AddResource(res, t)
}

func sharedFilter(ctx context.Context, values []any) (string, []any) {
	return sharing.Filter("security_group", "t.id", callerProject(ctx), values)
}

// afterCreateGroup adds the egress rules every new group has.
func (c *Component) afterCreateGroup(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	return c.insertDefaultRules(ctx, tx, obj["id"].(string), obj["project_id"], false)
}

// insertDefaultRules writes a new group's egress rules (and, for the
// default group, its ingress rules), reserving them against the project's
// security_group_rule quota first, as create_security_group does.
func (c *Component) insertDefaultRules(ctx context.Context, tx *db.Tx, sgID string, project any, isDefault bool) error {
	if q := c.rules.Quotas; q != nil {
		n := 2
		if isDefault {
			n = 4
		}
		if err := q.Check(ctx, tx, "security_group_rule", pyfmt.Str(project), n); err != nil {
			return err
		}
	}
	now := store.Now()
	for _, ether := range []string{"IPv4", "IPv6"} {
		var rules []any // remote group of each rule
		if isDefault {
			rules = append(rules, sgID)
		}
		rules = append(rules, nil)
		for _, remote := range rules {
			dir := "egress"
			if remote != nil {
				dir = "ingress"
			}
			r := api.Object{}
			if err := c.setStdAttrID(ctx, tx, r); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO securitygrouprules (id, project_id, security_group_id, remote_group_id, direction, ethertype,
				created_at, updated_at, revision_number, standard_attr_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
				store.NewID(), project, sgID, remote, dir, ether, now, now, r["standard_attr_id"])
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *Component) portsBound(ctx context.Context, tx *db.Tx, sgID string) (bool, error) {
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM securitygroupportbindings WHERE security_group_id = ?"+lockingRead(tx), sgID).Scan(&n)
	return n > 0, err
}

func sgInUse(id any) error {
	return nerr.Conflict("SecurityGroupInUse", "Security Group %s in use.", pyfmt.Str(id))
}

func (c *Component) beforeUpdateGroup(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	if v, ok := ch["stateful"]; ok && v != old["stateful"] {
		inUse, err := c.portsBound(ctx, tx, old["id"].(string))
		if err != nil {
			return err
		}
		if inUse {
			return sgInUse(old["id"])
		}
	}
	if _, ok := ch["name"]; ok && old["name"] == "default" {
		return nerr.Conflict("SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
	}
	return nil
}

func (c *Component) beforeDeleteGroup(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	id := obj["id"].(string)
	inUse, err := c.portsBound(ctx, tx, id)
	if err != nil {
		return err
	}
	if inUse {
		return sgInUse(id)
	}
	if obj["name"] == "default" && !callerCtx(ctx).IsAdmin {
		return nerr.Conflict("SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
	}
	// rules of other groups naming this one as remote go with it
	if _, err := tx.Exec(ctx, "DELETE FROM securitygrouprules WHERE security_group_id = ? OR remote_group_id = ?", id, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM default_security_group WHERE security_group_id = ?", id); err != nil {
		return err
	}
	return sharing.RevokeAll(ctx, tx, "security_group", id)
}

var ruleCols = "id, project_id, security_group_id, ethertype, direction, protocol, port_range_min, port_range_max, remote_ip_prefix, remote_address_group_id, remote_group_id, standard_attr_id, description, created_at, updated_at, revision_number"

// embeddedRule is a rule as Neutron embeds it in its group's
// security_group_rules (every field of _make_security_group_rule_dict).
func embeddedRule(r api.Object) api.Ordered {
	r["tenant_id"] = r["project_id"]
	r["normalized_cidr"] = normalizedCIDR(r["remote_ip_prefix"])
	r["tags"] = []any{}
	return api.Ordered{M: r, Order: []string{"id", "tenant_id", "security_group_id", "ethertype", "direction", "protocol",
		"port_range_min", "port_range_max", "remote_ip_prefix", "remote_address_group_id", "normalized_cidr",
		"remote_group_id", "standard_attr_id", "description", "tags", "created_at", "updated_at", "revision_number", "project_id"}}
}

func (c *Component) loadGroups(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		o["security_group_rules"] = []any{}
	}
	err := store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT "+ruleCols+" FROM securitygrouprules WHERE security_group_id IN ("+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, sg string
			var project, ether, dir, proto, prefix, ag, rg, desc, created, updated *string
			var pmin, pmax, stdID *int64
			var rev int64
			if err := rows.Scan(&id, &project, &sg, &ether, &dir, &proto, &pmin, &pmax, &prefix, &ag, &rg, &stdID, &desc, &created, &updated, &rev); err != nil {
				return err
			}
			r := api.Object{"id": id, "project_id": deref(project), "security_group_id": sg, "ethertype": deref(ether),
				"direction": deref(dir), "protocol": deref(proto), "port_range_min": derefInt(pmin), "port_range_max": derefInt(pmax),
				"remote_ip_prefix": deref(prefix), "remote_address_group_id": deref(ag), "remote_group_id": deref(rg),
				"standard_attr_id": derefInt(stdID), "description": deref(desc), "created_at": deref(created),
				"updated_at": deref(updated), "revision_number": rev}
			if o := byID[sg]; o != nil {
				o["security_group_rules"] = append(o["security_group_rules"].([]any), embeddedRule(r))
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	for _, o := range objs {
		rules := o["security_group_rules"].([]any)
		sort.Slice(rules, func(i, j int) bool {
			return rules[i].(api.Ordered).M["id"].(string) < rules[j].(api.Ordered).M["id"].(string)
		})
	}
	return c.loadShared(ctx, q, objs)
}

func (c *Component) loadShared(ctx context.Context, q db.Querier, objs []api.Object) error {
	shared, err := sharing.SharedWith(ctx, q, "security_group", callerProject(ctx), store.IDs(objs))
	if err != nil {
		return err
	}
	for _, o := range objs {
		o["shared"] = shared[o["id"].(string)]
	}
	return nil
}

// ---- the default group ----

// ensureDefault makes sure project has its default group (in a
// transaction of its own) and returns its id, or "" when the caller may
// not make one for that project.
func (c *Component) ensureDefault(ctx context.Context, project string) (string, error) {
	rc := callerCtx(ctx)
	if project == "" || project != rc.ProjectID && !rc.IsAdmin {
		return "", nil
	}
	var id string
	err := c.env.DB.QueryRow(ctx, "SELECT security_group_id FROM default_security_group WHERE project_id = ?", project).Scan(&id)
	if err == nil {
		return id, nil
	}
	err = c.env.DB.Write(ctx, func(tx *db.Tx) error {
		var err error
		id, err = c.ensureDefaultTx(ctx, tx, project)
		return err
	})
	return id, err
}

// ensureDefaultTx is _ensure_default_security_group inside tx. The
// default_security_group row, keyed by project, is written first: of
// concurrent callers (in any process) exactly one inserts it and makes the
// group; the others wait for its commit and read the group's id.
func (c *Component) ensureDefaultTx(ctx context.Context, tx *db.Tx, project string) (string, error) {
	rc := callerCtx(ctx)
	if project == "" || project != rc.ProjectID && !rc.IsAdmin {
		return "", nil
	}
	lookup := func() (string, error) {
		var id string
		// no lock: the unique key below decides the race, and a conflicting
		// insert waits for the winner's commit, after which this sees its row
		// the group row is share-locked, as a group bound to a new port is
		err := tx.QueryRow(ctx, "SELECT d.security_group_id FROM default_security_group d JOIN securitygroups g ON g.id = d.security_group_id WHERE d.project_id = ?"+shareLock(tx), project).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return id, err
	}
	if id, err := lookup(); err != nil || id != "" {
		return id, err
	}
	id := store.NewID()
	pre, post := tx.Dialect().InsertIgnore()
	res, err := tx.Exec(ctx, pre+" INTO default_security_group (project_id, security_group_id) VALUES (?, ?)"+post, project, id)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		found, err := lookup()
		if err == nil && found == "" {
			err = db.ErrRetry
		}
		return found, err
	}
	now := store.Now()
	if _, err := tx.Exec(ctx, `INSERT INTO securitygroups (id, project_id, name, description, created_at, updated_at, revision_number, stateful)
		VALUES (?, ?, 'default', 'Default security group', ?, ?, 1, ?)`, id, project, now, now, true); err != nil {
		return "", err
	}
	if err := c.insertDefaultRules(ctx, tx, id, project, true); err != nil {
		return "", err
	}
	return id, c.publishDefault(ctx, tx, id)
}

// publishDefault tells the subscribers of security group events about the
// default group just made in tx, as Neutron makes it through
// create_security_group (the OVN driver writes its port group then).
func (c *Component) publishDefault(ctx context.Context, tx *db.Tx, id string) error {
	bus := c.env.Bus
	if !bus.Has(events.SecurityGroup, events.PrecommitCreate) && !bus.Has(events.SecurityGroup, events.AfterCreate) {
		return nil
	}
	sg, err := c.groups.GetTx(ctx, tx, id, false)
	if err != nil {
		return err
	}
	if err := bus.Publish(events.SecurityGroup, events.PrecommitCreate, &events.Payload{Ctx: ctx, Tx: tx, ID: id, New: sg}); err != nil {
		return err
	}
	bus.PublishAfterCommit(tx, events.SecurityGroup, events.AfterCreate, &events.Payload{Ctx: ctx, ID: id, New: sg})
	return nil
}

// ---- rules ----

func (c *Component) setupRules(env *plugin.Env) {
	res := SecurityGroupRule()
	res.NotFound = func(id string) error {
		return nerr.NotFound("SecurityGroupRuleNotFound", "Security group rule %s does not exist", id)
	}
	t := &store.Table{
		Name: "securitygrouprules", Res: res, DB: env.DB, IgnoreUnknownMarker: true, Quota: "security_group_rule", Std: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "security_group_id"}, {Attr: "ethertype"}, {Attr: "direction"},
			{Attr: "protocol"}, {Attr: "port_range_min", Kind: store.Int}, {Attr: "port_range_max", Kind: store.Int},
			{Attr: "remote_ip_prefix"}, {Attr: "remote_address_group_id"}, {Attr: "remote_group_id"},
			{Attr: "description"}, {Attr: "created_at"}, {Attr: "updated_at"},
			{Attr: "revision_number", Kind: store.Int}, {Attr: "standard_attr_id", Kind: store.Int},
		},
		Filters: map[string]store.FilterFunc{
			// a computed attribute: Neutron ignores the filter
			"normalized_cidr": func(context.Context, []any) (string, []any) { return "", nil },
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return "t.security_group_id IN (SELECT g.id FROM securitygroups g WHERE g.project_id = ?)", []any{rc.ProjectID}
		},
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: c.beforeCreateRule,
		BeforeDelete: func(op *store.Op) error {
			ctx, tx, r := op.Ctx, op.Tx, op.Old
			return c.groups.BumpRevision(ctx, tx, pyfmt.Str(r["security_group_id"]))
		},
		Load: func(ctx context.Context, q db.Querier, objs []api.Object) error {
			for _, o := range objs {
				o["normalized_cidr"] = normalizedCIDR(o["remote_ip_prefix"])
			}
			return nil
		},
	})
	t.Init()
	res.Backend = ruleBackend{t, c}
	c.rules = t
	env.AddResource(res, t)
}
