package qos

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/rbac"
)

// BindingKind is a kind of object bound to QoS policies outside ML2: the
// L3 plugin's floating IPs ("fip") and router gateways ("router").
type BindingKind struct {
	// Name is the kind as QosPolicyInUse names it ("fip", "router").
	Name string
	// First returns an object bound to the policy (the first in DB order)
	// or "" when none is.
	First func(ctx context.Context, q db.Querier, policy string) (string, error)
	// Projects returns the projects of the objects bound to the policy
	// (they keep an RBAC entry they depend on from going away).
	Projects func(ctx context.Context, q db.Querier, policy string) ([]string, error)
}

type kindsKey struct{}

// AddBindingKind registers a kind of bound object on a server; the L3
// plugin calls it during setup for floating IPs, then for routers (the
// order of Neutron's in-use checks after ports and networks).
func AddBindingKind(env *plugin.Env, k BindingKind) {
	ks, _ := env.Value(kindsKey{}).([]BindingKind)
	env.Set(kindsKey{}, append(ks, k))
}

func bindingKinds(env *plugin.Env) []BindingKind {
	ks, _ := env.Value(kindsKey{}).([]BindingKind)
	return ks
}

// checkInUse is QosPolicy.delete's binding check: ports, networks, then
// the other kinds, the first bound object wins.
func (p *Plugin) checkInUse(ctx context.Context, q db.Querier, id string) error {
	own := []BindingKind{
		{Name: "port", First: firstOf("SELECT port_id FROM qos_port_policy_bindings WHERE policy_id = ? ORDER BY port_id")},
		{Name: "network", First: firstOf("SELECT id FROM networks WHERE qos_policy_id = ? ORDER BY id")},
	}
	for _, k := range append(own, bindingKinds(p.env)...) {
		obj, err := k.First(ctx, q, id)
		if err != nil {
			return err
		}
		if obj != "" {
			return policyInUse(id, k.Name, obj)
		}
	}
	return nil
}

func firstOf(query string) func(ctx context.Context, q db.Querier, policy string) (string, error) {
	return func(ctx context.Context, q db.Querier, policy string) (string, error) {
		var id string
		err := q.QueryRow(ctx, query+" LIMIT 1", policy).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return id, err
	}
}

// ---- RBAC ----

func init() {
	rbac.RegisterObjectType(objectType, func(env *plugin.Env) (rbac.ObjectType, bool) {
		p := Of(env)
		if p == nil {
			return rbac.ObjectType{}, false
		}
		return rbac.ObjectType{Name: objectType, Actions: []string{rbac.AccessShared}, Table: "qos_policies",
			BoundProjects: p.boundProjects}, true
	})
}

// boundProjects is QosPolicy.get_bound_project_ids: the projects of the
// networks, ports (and L3 objects) bound to the policy.
func (p *Plugin) boundProjects(ctx context.Context, q db.Querier, id string) ([]string, error) {
	out, err := db.Strings(ctx, q, `SELECT DISTINCT project_id FROM networks WHERE qos_policy_id = ? AND project_id IS NOT NULL
		UNION SELECT DISTINCT p.project_id FROM ports p JOIN qos_port_policy_bindings b ON b.port_id = p.id
		WHERE b.policy_id = ? AND p.project_id IS NOT NULL`, id, id)
	if err != nil {
		return nil, err
	}
	for _, k := range bindingKinds(p.env) {
		if k.Projects == nil {
			continue
		}
		more, err := k.Projects(ctx, q, id)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}
