package qos

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/l3"
	"github.com/neutrino-os/neutrino/internal/store"
)

// setupL3 adds qos_policy_id to the router plugin's floating IPs (qos-fip)
// and router gateways (qos-gateway-ip) when it is loaded: the bindings are
// kept in qos_fip_policy_bindings and qos_router_gw_policy_bindings.
func (p *Plugin) setupL3() error {
	fips, routers := p.env.Table("floatingips"), p.env.Table("routers")
	if fips == nil || routers == nil {
		return nil
	}
	fb := binding{table: "qos_fip_policy_bindings", key: "fip_id"}
	fips.AddHooks(store.Hooks{
		BeforeCreate: func(op *store.Op) error { return checkGiven(op, op.Request["qos_policy_id"]) },
		AfterCreate: func(op *store.Op) error {
			return fb.set(op, fips, op.Request["qos_policy_id"], true)
		},
		// an update sets the policy it gives, or none (Neutron's
		// floating IP update assigns qos_policy_id whether given or not);
		// the router plugin's own disassociations keep it
		BeforeUpdate: func(op *store.Op) error {
			if _, given := op.Request["qos_policy_id"]; !given && l3.IsInternal(op.Ctx) {
				return nil
			}
			if err := checkGiven(op, op.Request["qos_policy_id"]); err != nil {
				return err
			}
			return fb.set(op, fips, op.Request["qos_policy_id"], false)
		},
		Load: fb.load(func(o api.Object, policy any) { o["qos_policy_id"] = policy }),
	})
	AddBindingKind(p.env, BindingKind{Name: "fip", First: firstOf("SELECT fip_id FROM qos_fip_policy_bindings WHERE policy_id = ? ORDER BY fip_id"),
		Projects: projectsOf("SELECT DISTINCT f.project_id FROM floatingips f JOIN qos_fip_policy_bindings b ON b.fip_id = f.id WHERE b.policy_id = ? AND f.project_id IS NOT NULL")})
	p.setupGateways(routers)
	p.env.AddExtensions("qos-fip", "qos-gateway-ip")
	return nil
}

// checkGiven validates a policy a request gives (QosPolicyNotFound).
func checkGiven(op *store.Op, policy any) error {
	id, _ := policy.(string)
	if id == "" {
		return nil
	}
	return CheckPolicy(op.Ctx, op.Tx, id)
}

func projectsOf(query string) func(ctx context.Context, q db.Querier, policy string) ([]string, error) {
	return func(ctx context.Context, q db.Querier, policy string) ([]string, error) {
		return db.Strings(ctx, q, query, policy)
	}
}

// binding is a table binding objects (by key) to policies.
type binding struct{ table, key string }

// current is the object's policy ("" without one).
func (b binding) current(ctx context.Context, q db.Querier, id string) (string, error) {
	ids, err := db.Strings(ctx, q, "SELECT policy_id FROM "+b.table+" WHERE "+b.key+" = ?", id)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// set makes policy (nil: none) the object's. With bump, removing and
// adding a binding each bump the object's revision (the binding is a
// related row; Neutron flushes them apart).
func (b binding) set(op *store.Op, t *store.Table, policy any, bump bool) error {
	want, _ := policy.(string)
	cur, err := b.current(op.Ctx, op.Tx, op.ID)
	if err != nil || cur == want {
		return err
	}
	var stmts []string
	var args [][]any
	if cur != "" {
		stmts, args = append(stmts, "DELETE FROM "+b.table+" WHERE "+b.key+" = ?"), append(args, []any{op.ID})
	}
	if want != "" {
		stmts, args = append(stmts, "INSERT INTO "+b.table+" ("+b.key+", policy_id) VALUES (?, ?)"), append(args, []any{op.ID, want})
	}
	for i, q := range stmts {
		if _, err := op.Tx.Exec(op.Ctx, q, args[i]...); err != nil {
			return err
		}
		if bump {
			if err := t.BumpRevision(op.Ctx, op.Tx, op.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// load fills the objects' policies (fill gets nil for none).
func (b binding) load(fill func(o api.Object, policy any)) func(ctx context.Context, q db.Querier, objs []api.Object) error {
	return func(ctx context.Context, q db.Querier, objs []api.Object) error {
		byID := map[string]api.Object{}
		ids := make([]string, 0, len(objs))
		for _, o := range objs {
			id, _ := o["id"].(string)
			byID[id] = o
			ids = append(ids, id)
		}
		found := map[string]string{}
		err := store.ForChunks(ids, func(ph string, args []any) error {
			rows, err := q.Query(ctx, "SELECT "+b.key+", policy_id FROM "+b.table+" WHERE "+b.key+" IN ("+ph+")", args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id, policy string
				if err := rows.Scan(&id, &policy); err != nil {
					return err
				}
				found[id] = policy
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for id, o := range byID {
			if policy, ok := found[id]; ok {
				fill(o, policy)
			} else {
				fill(o, nil)
			}
		}
		return nil
	}
}
