package dbimport

import (
	"context"
	"strings"
)

func init() {
	Register(Importer{
		Name: "qos", Order: 65,
		Reads: []string{"qos_policies", "qos_policies_default", "qos_bandwidth_limit_rules", "qos_dscp_marking_rules",
			"qos_minimum_bandwidth_rules", "qos_minimum_packet_rate_rules", "qos_packet_rate_limit_rules",
			"qos_port_policy_bindings", "qos_network_policy_bindings"},
		Writes: []string{"qos_policies", "qos_policies_default", "qos_bandwidth_limit_rules", "qos_dscp_marking_rules",
			"qos_minimum_bandwidth_rules", "qos_minimum_packet_rate_rules", "qos_packet_rate_limit_rules",
			"qos_port_policy_bindings"},
		Tagged: []string{"qos_policies"},
		RBAC:   map[string]string{"qospolicyrbacs": "qos_policy"},
		Run:    importQoS,
	})
}

// qosRuleTables are the rule tables and their parameter columns (the same
// in Neutron and neutrino).
var qosRuleTables = []struct{ table, cols string }{
	{"qos_bandwidth_limit_rules", "max_kbps, max_burst_kbps, direction"},
	{"qos_dscp_marking_rules", "dscp_mark"},
	{"qos_minimum_bandwidth_rules", "min_kbps, direction"},
	{"qos_minimum_packet_rate_rules", "min_kpps, direction"},
	{"qos_packet_rate_limit_rules", "max_kpps, max_burst_kpps, direction"},
}

// importQoS copies QoS policies, their rules, the projects' default
// policies and the ports' bindings; a network's binding is its
// qos_policy_id column. Floating IP and router gateway bindings wait for
// the L3 plugin (they are listed as not imported).
func importQoS(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("qos_policies") {
		return nil
	}
	err := s.Each(ctx, `SELECT p.id, p.project_id, p.name, `+stdCols+`
		FROM qos_policies p JOIN standardattributes sa ON sa.id = p.standard_attr_id ORDER BY p.id`, func(r Row) error {
		return w.Insert(ctx, "qos_policies", "id, project_id, name, description, created_at, updated_at, revision_number",
			append([]any{r.Str("id"), r.NStr("project_id"), r.Str("name")}, std(r)...)...)
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, "SELECT project_id, qos_policy_id FROM qos_policies_default ORDER BY project_id", func(r Row) error {
		return w.Insert(ctx, "qos_policies_default", "project_id, qos_policy_id", r.Str("project_id"), r.Str("qos_policy_id"))
	})
	if err != nil {
		return err
	}
	for _, rt := range qosRuleTables {
		if err := copyRules(ctx, s, w, rt.table, rt.cols); err != nil {
			return err
		}
	}
	err = s.Each(ctx, "SELECT port_id, policy_id FROM qos_port_policy_bindings ORDER BY port_id", func(r Row) error {
		return w.Insert(ctx, "qos_port_policy_bindings", "port_id, policy_id", r.Str("port_id"), r.Str("policy_id"))
	})
	if err != nil {
		return err
	}
	tx, err := w.Tx(ctx)
	if err != nil {
		return err
	}
	return s.Each(ctx, "SELECT network_id, policy_id FROM qos_network_policy_bindings ORDER BY network_id", func(r Row) error {
		_, err := tx.Exec(ctx, "UPDATE networks SET qos_policy_id = ? WHERE id = ?", r.Str("policy_id"), r.Str("network_id"))
		return err
	})
}

func copyRules(ctx context.Context, s *Source, w *Writer, table, cols string) error {
	if !s.Has(table) {
		return nil
	}
	names := strings.Split(cols, ", ")
	return s.Each(ctx, "SELECT id, qos_policy_id, "+cols+" FROM "+table+" ORDER BY id", func(r Row) error {
		vals := []any{r.Str("id"), r.Str("qos_policy_id")}
		for _, c := range names {
			if c == "direction" {
				vals = append(vals, r.Str(c))
			} else {
				vals = append(vals, r.NInt(c))
			}
		}
		return w.Insert(ctx, table, "id, qos_policy_id, "+cols, vals...)
	})
}
