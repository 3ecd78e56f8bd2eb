package qos

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ruleBackend serves one rule type, as a sub-resource of its policy
// (/qos/policies/{policy_id}/<type>_rules) or as an alias
// (/qos/alias_<type>_rules/{id}, no policy in the path).
type ruleBackend struct {
	p     *Plugin
	k     *ruleKind
	t     *store.Table
	alias bool
}

func (p *Plugin) setupRules(env *plugin.Env) {
	p.rules = map[string]*ruleKind{}
	parent := env.Resource("policies")
	for _, k := range kinds {
		p.rules[k.typ] = k
		res := &api.Resource{ExtensionController: true, Extension: "qos", Name: k.typ + "_rule",
			Collection: k.typ + "_rules", Attrs: k.attrs(false),
			Parent: &api.Parent{Path: "qos/policies", MemberName: "policy", Resource: parent}}
		t := &store.Table{Name: k.table, Res: res, DB: env.DB, NoScope: true, Cols: k.columns(), IgnoreUnknownMarker: true,
			Event: "qos_policy_rule",
			Filters: map[string]store.FilterFunc{
				"policy_id": func(_ context.Context, values []any) (string, []any) {
					return "t.qos_policy_id = ?", values[:1]
				},
			}}
		t.AddHooks(store.Hooks{Load: func(_ context.Context, _ db.Querier, objs []api.Object) error {
			for _, o := range objs {
				o["ext_parent_policy_id"] = o["qos_policy_id"]
			}
			return nil
		}})
		res.Backend = &ruleBackend{p: p, k: k, t: t}
		env.AddResource(res, t)
		if !k.alias {
			continue
		}
		ares := &api.Resource{ExtensionController: true, Extension: "qos-rules-alias", Name: "alias_" + k.typ + "_rule",
			Collection: "alias_" + k.typ + "_rules", Path: "qos/alias_" + k.typ + "_rules", Attrs: k.attrs(true)}
		ares.Backend = &ruleBackend{p: p, k: k, t: t, alias: true}
		env.AddResource(ares, nil)
	}
}

func admin(ctx context.Context) context.Context {
	return reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
}

// rule reads a rule of this type by id ("" and false when there is none).
func (b *ruleBackend) rule(ctx context.Context, q db.Querier, id string, lock bool) (api.Object, bool, error) {
	cols := "id, qos_policy_id"
	for _, pa := range b.k.params {
		cols += ", " + pa.name
	}
	query := "SELECT " + cols + " FROM " + b.k.table + " WHERE id = ?"
	if tx, ok := q.(*db.Tx); ok && lock {
		query += tx.ForUpdate()
	}
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	r, err := b.k.scan(rows)
	return r, err == nil, err
}

// view is a rule as its resource shows it: id and parameters, and for the
// policy engine the policy as ext_parent_policy_id (Neutron's target of
// the rules' ext_parent_owner checks).
func (b *ruleBackend) view(r api.Object) api.Object {
	out := api.Object{"id": r["id"], "ext_parent_policy_id": r["qos_policy_id"]}
	for _, pa := range b.k.params {
		out[pa.name] = r[pa.name]
	}
	return out
}

// Get is get_policy_rule: a rule of this type (under any policy), or for
// an alias the rule of a policy the caller can see.
func (b *ruleBackend) Get(ctx context.Context, id string, _ []string) (api.Object, error) {
	parent := api.ParentID(ctx)
	r, found, err := b.rule(ctx, b.p.env.DB, id, false)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, ruleNotFound(id, parent)
	}
	if b.alias {
		if _, err := b.p.policies.Get(ctx, r["qos_policy_id"].(string), nil); err != nil {
			return nil, err
		}
	}
	return b.view(r), nil
}

// List lists the rules of this type of the parent policy (the controller
// adds the policy filter); an alias has no collection.
func (b *ruleBackend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	if b.alias {
		return nil, nerr.HTTPNotFound()
	}
	return b.t.List(ctx, q)
}

// Create is create_policy_rule. An alias has no create (Neutron's plugin
// has no method for it: a body its attribute map accepts is a 500 there).
func (b *ruleBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	if b.alias {
		return nil, nerr.HTTPNotFound()
	}
	item := items[0]
	policy := str(item["policy_id"])
	var out api.Object
	err := b.p.env.DB.Write(ctx, func(tx *db.Tx) error {
		ch := &ruleChange{b: b, ctx: ctx, tx: tx, policy: policy, request: item}
		if err := ch.begin(); err != nil {
			return err
		}
		rule := api.Object{"id": store.NewID(), "qos_policy_id": policy, "type": b.k.typ}
		for _, pa := range b.k.params {
			rule[pa.name] = item[pa.name]
		}
		if err := ch.conflicts(rule); err != nil {
			return err
		}
		row := api.Object{"id": rule["id"], "qos_policy_id": policy}
		for _, pa := range b.k.params {
			row[pa.name] = rule[pa.name]
		}
		if _, err := b.t.CreateTx(ctx, tx, row); err != nil {
			if db.IsUniqueViolation(err) {
				return db.ErrRetry // a concurrent rule won: its conflict shows next time
			}
			return err
		}
		out = b.view(rule)
		return ch.finish()
	})
	if err != nil {
		return nil, err
	}
	return []api.Object{out}, nil
}

// Update is update_policy_rule (and update_rule for an alias).
func (b *ruleBackend) Update(ctx context.Context, id string, changes api.Object, _ *int64) (api.Object, error) {
	var out api.Object
	err := b.p.env.DB.Write(ctx, func(tx *db.Tx) error {
		r, found, err := b.rule(ctx, tx, id, true)
		if err != nil {
			return err
		}
		policy := api.ParentID(ctx)
		if b.alias && found {
			policy = r["qos_policy_id"].(string)
		}
		ch := &ruleChange{b: b, ctx: ctx, tx: tx, policy: policy, request: changes}
		if err := ch.begin(); err != nil {
			return err
		}
		if !found || r["qos_policy_id"] != policy {
			return ruleNotFound(id, policy)
		}
		for _, pa := range b.k.params {
			if v, ok := changes[pa.name]; ok {
				r[pa.name] = v
			}
		}
		if err := ch.conflicts(r); err != nil {
			return err
		}
		set := api.Object{}
		for _, pa := range b.k.params {
			if v, ok := changes[pa.name]; ok {
				set[pa.name] = v
			}
		}
		if err := b.t.UpdateTx(ctx, tx, id, set, nil); err != nil {
			if db.IsUniqueViolation(err) {
				return db.ErrRetry
			}
			return err
		}
		out = b.view(r)
		return ch.finish()
	})
	return out, err
}

// Delete is delete_policy_rule (and delete_rule for an alias).
func (b *ruleBackend) Delete(ctx context.Context, id string, _ *int64) error {
	return b.p.env.DB.Write(ctx, func(tx *db.Tx) error {
		r, found, err := b.rule(ctx, tx, id, true)
		if err != nil {
			return err
		}
		policy := api.ParentID(ctx)
		if b.alias && found {
			policy = r["qos_policy_id"].(string)
		}
		ch := &ruleChange{b: b, ctx: ctx, tx: tx, policy: policy}
		if err := ch.begin(); err != nil {
			return err
		}
		if !found || r["qos_policy_id"] != policy {
			return ruleNotFound(id, policy)
		}
		if err := b.t.DeleteTx(ctx, tx, id, nil); err != nil {
			return err
		}
		return ch.placement()
	})
}

// ruleChange is one rule write: the policy (locked and revised), its
// rules before the change, the checks and the validation after it.
type ruleChange struct {
	b       *ruleBackend
	ctx     context.Context
	tx      *db.Tx
	policy  string
	request api.Object
	rules   []api.Object
}

// begin looks the policy up as the caller (QosPolicyNotFound), bumps its
// revision (which also locks its row: rule changes of one policy are
// serialized) and reads its rules.
func (ch *ruleChange) begin() error {
	if _, err := ch.b.p.policies.GetTx(ch.ctx, ch.tx, ch.policy, false); err != nil {
		return err
	}
	if err := ch.b.p.policies.BumpRevision(ch.ctx, ch.tx, ch.policy); err != nil {
		return err
	}
	rules, err := rulesOf(ch.ctx, ch.tx, []string{ch.policy})
	ch.rules = rules[ch.policy]
	return err
}

// conflicts runs check_bandwidth_rule_conflict (on the request),
// check_min_pps_rule_conflict and check_rules_conflict (on the rule).
func (ch *ruleChange) conflicts(rule api.Object) error {
	if ch.request != nil {
		if err := bandwidthConflict(ch.policy, ch.rules, ch.b.k, ch.request); err != nil {
			return err
		}
	}
	if ch.b.k.typ == MinimumPacketRate {
		for _, r := range ch.rules {
			if r["type"] != MinimumPacketRate || r["id"] == rule["id"] {
				continue
			}
			if (r["direction"] == "any") != (rule["direction"] == "any") {
				return paramConflict(rule["direction"], ch.policy, MinimumPacketRate, r["direction"])
			}
		}
	}
	for _, r := range ch.rules {
		if r["type"] != ch.b.k.typ || r["id"] == rule["id"] {
			continue
		}
		if ch.b.k.conflict == "" || r[ch.b.k.conflict] == rule[ch.b.k.conflict] {
			return rulesConflict(ch.b.k.typ, r["id"].(string), ch.policy)
		}
	}
	return nil
}

// bandwidthConflict is check_bandwidth_rule_conflict: a bandwidth limit
// below an existing minimum, or a minimum above an existing limit
// (directions are not compared; only a value the request gives counts).
func bandwidthConflict(policy string, rules []api.Object, k *ruleKind, req api.Object) error {
	v, ok := req[k.bwKey].(int64)
	if k.bwKey == "" || !ok {
		return nil
	}
	for _, r := range rules {
		switch {
		case k.typ == BandwidthLimit && r["type"] == MinimumBandwidth:
			if m, _ := r["min_kbps"].(int64); m > v {
				return paramConflict(v, policy, MinimumBandwidth, m)
			}
		case k.typ == MinimumBandwidth && r["type"] == BandwidthLimit:
			if m, _ := r["max_kbps"].(int64); m < v {
				return paramConflict(v, policy, BandwidthLimit, m)
			}
		}
	}
	return nil
}

// finish validates the policy for the ports using it and refuses a
// minimum rule change for compute ports.
func (ch *ruleChange) finish() error {
	rules, err := rulesOf(ch.ctx, ch.tx, []string{ch.policy})
	if err != nil {
		return err
	}
	ports, err := portsUsing(ch.ctx, ch.tx, ch.policy)
	if err != nil {
		return err
	}
	if err := ch.b.p.newValidator(ch.ctx, ch.tx).policyForPorts(rules[ch.policy], ports); err != nil {
		return err
	}
	if slices.Contains([]string{MinimumBandwidth, MinimumPacketRate}, ch.b.k.typ) {
		return rejectPlacementBacked(ports)
	}
	return nil
}

func (ch *ruleChange) placement() error {
	if !slices.Contains([]string{MinimumBandwidth, MinimumPacketRate}, ch.b.k.typ) {
		return nil
	}
	ports, err := portsUsing(ch.ctx, ch.tx, ch.policy)
	if err != nil {
		return err
	}
	return rejectPlacementBacked(ports)
}
