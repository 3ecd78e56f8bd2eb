package subnetpool

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
	"github.com/neutrino-os/neutrino/internal/sharing"
)

// setupRBAC makes address scopes and subnet pools RBAC object types
// (Neutron's rbac-address-scope and rbac-subnetpool): their owners share
// them with a project (or every project) by access_as_shared entries. The
// projects of the pools in a scope, and of the subnets allocated from a
// pool, keep it from being unshared from them; a pool in an address scope
// can only be shared with a project the scope is shared with.
func init() {
	rbac.RegisterObjectType("address_scope", func(env *plugin.Env) (rbac.ObjectType, bool) {
		return addressScopeType(), componentOf(env) != nil
	})
	rbac.RegisterObjectType("subnetpool", func(env *plugin.Env) (rbac.ObjectType, bool) {
		c := componentOf(env)
		if c == nil {
			return rbac.ObjectType{}, false
		}
		return c.subnetPoolType(), true
	})
}

type componentKey struct{}

// componentOf returns the server's subnet-pool component, or nil.
func componentOf(env *plugin.Env) *Component {
	c, _ := env.Value(componentKey{}).(*Component)
	return c
}

func (c *Component) setupRBAC(env *plugin.Env) {
	env.Set(componentKey{}, c)
	env.AddExtensions("rbac-address-scope", "rbac-subnetpool")
}

func addressScopeType() rbac.ObjectType {
	return rbac.ObjectType{
		Name: "address_scope", Actions: []string{rbac.AccessShared}, Table: "address_scopes",
		BoundProjects: func(ctx context.Context, q db.Querier, id string) ([]string, error) {
			return projects(ctx, q, "SELECT DISTINCT project_id FROM subnetpools WHERE address_scope_id = ?", id)
		},
	}
}

func (c *Component) subnetPoolType() rbac.ObjectType {
	return rbac.ObjectType{
		Name: "subnetpool", Actions: []string{rbac.AccessShared}, Table: "subnetpools",
		BoundProjects: func(ctx context.Context, q db.Querier, id string) ([]string, error) {
			s := c.subnets
			return projects(ctx, q, "SELECT DISTINCT "+s.project+" FROM "+s.table+" WHERE "+s.pool+" = ?", id)
		},
		ValidateCreate: func(ctx context.Context, tx *db.Tx, ch *rbac.Change) error {
			var scope *string
			if err := tx.QueryRow(ctx, "SELECT address_scope_id FROM subnetpools WHERE id = ?", ch.Policy.ObjectID).Scan(&scope); err != nil || scope == nil || *scope == "" {
				return err
			}
			n, err := sharing.CountFor(ctx, tx, "address_scope", *scope, ch.Policy.Target)
			if err != nil {
				return err
			}
			if n == 0 {
				return rbac.InitError(ch.Policy.ObjectID, "target project doesn't have access to associated address scope.")
			}
			return nil
		},
	}
}

func projects(ctx context.Context, q db.Querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p *string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	return out, rows.Err()
}
