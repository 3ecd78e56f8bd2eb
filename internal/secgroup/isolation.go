package secgroup

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// setupRBAC makes security groups an RBAC object type (Neutron's
// rbac-security-groups): access_as_shared entries share a group with a
// project (or every project); the projects of the ports using a group
// keep it from being unshared from them.
func init() {
	rbac.RegisterObjectType("security_group", func(env *plugin.Env) (rbac.ObjectType, bool) {
		return securityGroupType(), env.Loaded("ml2")
	})
}

func (c *Component) setupRBAC(env *plugin.Env) {
	env.AddExtensions("rbac-security-groups")
}

func securityGroupType() rbac.ObjectType {
	return rbac.ObjectType{
		Name: "security_group", Actions: []string{rbac.AccessShared}, Table: "securitygroups",
		BoundProjects: func(ctx context.Context, q db.Querier, id string) ([]string, error) {
			rows, err := q.Query(ctx, `SELECT DISTINCT p.project_id FROM securitygroupportbindings b
				JOIN ports p ON p.id = b.port_id WHERE b.security_group_id = ?`, id)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var p string
				if err := rows.Scan(&p); err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			return out, rows.Err()
		},
	}
}

// Get reads a rule whoever owns it, as Neutron's _get_security_group_rule
// does (with an elevated context): a rule that exists but that the
// caller may not see fails the policy check instead, which the API
// answers with a plain 404 ("The resource could not be found."); only a
// rule that does not exist is SecurityGroupRuleNotFound.
func (b ruleBackend) Get(ctx context.Context, id string, fields []string) (api.Object, error) {
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin {
		ctx = reqctx.With(ctx, &reqctx.Context{IsAdmin: true, ProjectID: rc.ProjectID, UserID: rc.UserID})
	}
	return b.Table.Get(ctx, id, fields)
}
