package qos

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// objectType is the RBAC object type of QoS policies.
const objectType = "qos_policy"

// Policy is the QoS policy resource as Neutron Zed declares it.
func Policy() *api.Resource {
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true},
		{Name: "shared", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool, Visible: true, IsFilter: true},
		api.TenantAttr(),
		{Name: "rules", Visible: true},
		// qos-default: accepted as a filter and ignored
		{Name: "is_default", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool, Visible: true, IsFilter: true},
		{Name: "created_at", Default: nil, Visible: true},
		{Name: "updated_at", Default: nil, Visible: true},
		{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		{Name: "tags", Visible: true, IsFilter: true},
		{Name: "tags-any", IsFilter: true},
		{Name: "not-tags", IsFilter: true},
		{Name: "not-tags-any", IsFilter: true},
	}
	return &api.Resource{ExtensionController: true, Extension: "qos", Name: "policy", Collection: "policies",
		Path: "qos/policies", TagPathAliases: []string{"policies"}, Attrs: attrs, Tags: true, NotFound: policyNotFound}
}

func (p *Plugin) setupPolicies(env *plugin.Env) {
	res := Policy()
	t := &store.Table{
		Name: "qos_policies", Res: res, DB: env.DB, Std: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "is_default", Kind: store.Bool,
				Expr: "(SELECT COUNT(*) FROM qos_policies_default d WHERE d.qos_policy_id = t.id)"},
		},
		Filters: map[string]store.FilterFunc{
			"is_default": func(context.Context, []any) (string, []any) { return "", nil },
			"shared": func(ctx context.Context, values []any) (string, []any) {
				return sharing.Filter(objectType, "t.id", callerProject(ctx), values)
			},
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharing.VisibleCond(objectType, "t.id", rc.ProjectID, sharing.Shared)
		},
		Revisions: policyRevisions,
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: func(op *store.Op) error {
			if b, _ := op.New["is_default"].(bool); b {
				op.New["revision_number"] = int64(1)
			}
			return nil
		},
		AfterCreate:  p.afterCreatePolicy,
		BeforeUpdate: p.beforeUpdatePolicy,
		BeforeDelete: p.beforeDeletePolicy,
		Load:         p.loadPolicies,
	})
	p.policies = t
	env.AddResource(res, t)
}

func callerProject(ctx context.Context) string {
	if rc := reqctx.From(ctx); rc != nil {
		return rc.ProjectID
	}
	return ""
}

// policyRevisions: a change of name, description or of being the default
// is a revision; sharing is not (it changes RBAC entries only).
func policyRevisions(old, ch api.Object) int {
	for _, a := range []string{"name", "description", "is_default"} {
		if v, ok := ch[a]; ok && api.PyRepr(v) != api.PyRepr(old[a]) {
			return 1
		}
	}
	return 0
}

func (p *Plugin) afterCreatePolicy(op *store.Op) error {
	if b, _ := op.New["is_default"].(bool); b {
		if err := setDefault(op.Ctx, op.Tx, op.ID, op.New["project_id"]); err != nil {
			return err
		}
	}
	if b, _ := op.New["shared"].(bool); b {
		return sharing.Grant(op.Ctx, op.Tx, objectType, op.ID, op.New["project_id"], sharing.Wildcard, sharing.Shared)
	}
	return nil
}

// setDefault makes id its project's default policy; another default is a
// conflict. The project is the key of qos_policies_default: a concurrent
// winner makes this attempt retry and see it.
func setDefault(ctx context.Context, tx *db.Tx, id string, project any) error {
	var cur string
	err := tx.QueryRow(ctx, "SELECT qos_policy_id FROM qos_policies_default WHERE project_id = ?", project).Scan(&cur)
	switch {
	case err == nil && cur == id:
		return nil
	case err == nil:
		return defaultExists(project)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO qos_policies_default (project_id, qos_policy_id) VALUES (?, ?)", project, id)
	if db.IsUniqueViolation(err) {
		return db.ErrRetry
	}
	return err
}

func (p *Plugin) beforeUpdatePolicy(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	if v, ok := op.New["is_default"]; ok {
		was, _ := op.Old["is_default"].(bool)
		switch now, _ := v.(bool); {
		case now && !was:
			if err := setDefault(ctx, tx, op.ID, op.Old["project_id"]); err != nil {
				return err
			}
		case !now && was:
			if _, err := tx.Exec(ctx, "DELETE FROM qos_policies_default WHERE qos_policy_id = ?", op.ID); err != nil {
				return err
			}
		}
	}
	if v, ok := op.New["shared"]; ok {
		if err := p.updateShared(ctx, tx, op.ID, v == true); err != nil {
			return err
		}
	}
	return nil
}

// updateShared is update_shared of Neutron's RBAC objects: the wildcard
// entry appears (owned by the caller's project) or goes (when no project
// depends on it).
func (p *Plugin) updateShared(ctx context.Context, tx *db.Tx, id string, shared bool) error {
	n, err := sharing.Count(ctx, tx, objectType, id, sharing.Shared, sharing.Wildcard)
	if err != nil {
		return err
	}
	switch {
	case shared == (n > 0):
		return nil
	case shared:
		return sharing.Grant(ctx, tx, objectType, id, callerProject(ctx), sharing.Wildcard, sharing.Shared)
	}
	if err := rbac.CheckUnshare(ctx, tx, p.env, objectType, id, sharing.Wildcard); err != nil {
		return err
	}
	return sharing.Revoke(ctx, tx, objectType, id, sharing.Shared, sharing.Wildcard)
}

func (p *Plugin) beforeDeletePolicy(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	if err := p.checkInUse(ctx, tx, op.ID); err != nil {
		return err
	}
	for _, k := range p.kindList() {
		if _, err := tx.Exec(ctx, "DELETE FROM "+k.table+" WHERE qos_policy_id = ?", op.ID); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM qos_policies_default WHERE qos_policy_id = ?", op.ID); err != nil {
		return err
	}
	return sharing.RevokeAll(ctx, tx, objectType, op.ID)
}

func (p *Plugin) loadPolicies(ctx context.Context, q db.Querier, objs []api.Object) error {
	ids := store.IDs(objs)
	shared, err := sharing.SharedWith(ctx, q, objectType, callerProject(ctx), ids)
	if err != nil {
		return err
	}
	rules, err := rulesOf(ctx, q, ids)
	if err != nil {
		return err
	}
	for _, o := range objs {
		id := o["id"].(string)
		o["shared"] = shared[id]
		list := make([]any, 0, len(rules[id]))
		for _, r := range rules[id] {
			list = append(list, r)
		}
		o["rules"] = list
	}
	return nil
}
