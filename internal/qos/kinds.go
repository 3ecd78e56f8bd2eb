package qos

import (
	"context"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ruleParam is a parameter of a rule type: its attribute and whether it
// filters and sorts (aliasFilter: only in the alias resource, as Neutron's
// qos-bw-limit-direction declares the sub-resource's direction without).
type ruleParam struct {
	name        string
	required    bool
	def         any
	validate    api.Validator
	filter      bool
	aliasFilter bool
}

// ruleKind is a rule type: its table, parameters, what makes two rules of
// a policy conflict ("direction", or "" for one rule per policy), and its
// API resources (set up per server).
type ruleKind struct {
	typ      string
	table    string
	params   []ruleParam
	conflict string
	alias    bool
	// aliasTenantPost: the alias declares tenant_id allow_post (Neutron's
	// qos-pps-minimum-rule-alias does; the alias has no create anyway)
	aliasTenantPost bool
	// the bandwidth figure check_bandwidth_rule_conflict compares
	bwKey string
}

var rangeInt = api.Range(0, dbIntMax)

// kinds are the rule types in VALID_RULE_TYPES order.
var kinds = []*ruleKind{
	{typ: BandwidthLimit, table: "qos_bandwidth_limit_rules", conflict: "direction", alias: true, bwKey: "max_kbps",
		params: []ruleParam{
			{name: "max_kbps", required: true, validate: rangeInt, filter: true},
			{name: "max_burst_kbps", def: int64(0), validate: rangeInt, filter: true},
			{name: "direction", def: "egress", validate: api.Values(directions...), aliasFilter: true},
		}},
	{typ: DSCPMarking, table: "qos_dscp_marking_rules", alias: true,
		params: []ruleParam{
			{name: "dscp_mark", required: true, validate: api.Values(validDSCPMarks...), filter: true},
		}},
	{typ: MinimumBandwidth, table: "qos_minimum_bandwidth_rules", conflict: "direction", alias: true, bwKey: "min_kbps",
		params: []ruleParam{
			{name: "min_kbps", required: true, validate: rangeInt, filter: true},
			{name: "direction", def: "egress", validate: api.Values(directions...), filter: true},
		}},
	{typ: MinimumPacketRate, table: "qos_minimum_packet_rate_rules", conflict: "direction", alias: true, aliasTenantPost: true,
		params: []ruleParam{
			{name: "min_kpps", required: true, validate: rangeInt, filter: true},
			{name: "direction", def: "egress", validate: api.Values(directionsOrAny...), filter: true},
		}},
	{typ: PacketRateLimit, table: "qos_packet_rate_limit_rules", conflict: "direction",
		params: []ruleParam{
			{name: "max_kpps", required: true, validate: rangeInt, filter: true},
			{name: "max_burst_kpps", def: int64(0), validate: rangeInt, filter: true},
			{name: "direction", def: "egress", validate: api.Values(directions...), filter: true},
		}},
}

func kindOf(typ string) *ruleKind {
	for _, k := range kinds {
		if k.typ == typ {
			return k
		}
	}
	return nil
}

func (p *Plugin) kindList() []*ruleKind { return kinds }

// isInt reports whether a parameter is an integer column.
func (pa ruleParam) isInt() bool { return pa.name != "direction" }

// attrs is the attribute map of the rule resource (sub-resource or alias).
// tenant_id has no default: the API fills it from the caller.
func (k *ruleKind) attrs(alias bool) []*api.Attribute {
	tenantPost := !alias || k.aliasTenantPost
	out := []*api.Attribute{
		{Name: "id", Validate: api.UUID, Visible: true, IsFilter: true, IsSortKey: true, PrimaryKey: true},
		{Name: "tenant_id", AllowPost: tenantPost, Required: tenantPost, RequiredByPolicy: true, Visible: true},
	}
	for _, pa := range k.params {
		filter := pa.filter || (alias && pa.aliasFilter)
		a := &api.Attribute{Name: pa.name, AllowPost: !alias, AllowPut: true, Validate: pa.validate,
			Visible: true, IsFilter: filter, IsSortKey: filter}
		if pa.isInt() {
			a.Convert = api.ToInt
		}
		switch {
		case alias:
			a.Default = api.NotSpecified
		case pa.required:
			a.Required = true
		default:
			a.Default = pa.def
		}
		out = append(out, a)
	}
	return out
}

// columns are the rule table's columns.
func (k *ruleKind) columns() []store.Column {
	cols := []store.Column{{Attr: "id"}, {Attr: "qos_policy_id"}}
	for _, pa := range k.params {
		c := store.Column{Attr: pa.name}
		if pa.isInt() {
			c.Kind = store.Int
		}
		cols = append(cols, c)
	}
	return cols
}

// rulesOf reads the rules of policies, each as a policy's "rules" entry
// ({id, qos_policy_id, type, parameters}), by type in VALID_RULE_TYPES
// order and within a type by id.
func rulesOf(ctx context.Context, q db.Querier, ids []string) (map[string][]api.Object, error) {
	out := map[string][]api.Object{}
	if len(ids) == 0 {
		return out, nil
	}
	for _, k := range kinds {
		cols := "id, qos_policy_id"
		for _, pa := range k.params {
			cols += ", " + pa.name
		}
		err := store.ForChunks(ids, func(ph string, args []any) error {
			rows, err := q.Query(ctx, "SELECT "+cols+" FROM "+k.table+" WHERE qos_policy_id IN ("+ph+") ORDER BY qos_policy_id, id", args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r, err := k.scan(rows)
				if err != nil {
					return err
				}
				pid := r["qos_policy_id"].(string)
				out[pid] = append(out[pid], r)
			}
			return rows.Err()
		})
		if err != nil {
			return nil, err
		}
	}
	for _, rs := range out {
		sort.SliceStable(rs, func(i, j int) bool {
			return typeIndex(rs[i]["type"].(string)) < typeIndex(rs[j]["type"].(string))
		})
	}
	return out, nil
}

func typeIndex(t string) int {
	for i, x := range ruleTypes {
		if x == t {
			return i
		}
	}
	return len(ruleTypes)
}

type scanner interface{ Scan(dest ...any) error }

// scan reads one row of id, qos_policy_id and the parameters.
func (k *ruleKind) scan(rows scanner) (api.Object, error) {
	var id, pid string
	vals := make([]any, len(k.params))
	dest := []any{&id, &pid}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	r := api.Object{"id": id, "qos_policy_id": pid, "type": k.typ}
	for i, pa := range k.params {
		r[pa.name] = normalize(vals[i], pa.isInt())
	}
	return r, nil
}

// normalize turns a scanned value into the API's (int64 or string).
func normalize(v any, isInt bool) any {
	switch x := v.(type) {
	case []byte:
		v = string(x)
	case int32:
		return int64(x)
	}
	if s, ok := v.(string); ok && isInt {
		if n, ok := api.PyInt(s); ok {
			return n
		}
	}
	return v
}
