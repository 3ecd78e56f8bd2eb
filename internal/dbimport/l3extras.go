package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "port forwardings, L3 QoS bindings, auto-allocated topologies", Order: 67,
		Reads: []string{"portforwardings", "qos_fip_policy_bindings", "qos_router_gw_policy_bindings",
			"auto_allocated_topologies"},
		Writes: []string{"portforwardings", "qos_fip_policy_bindings", "qos_router_gw_policy_bindings",
			"auto_allocated_topologies"},
		Run: importL3Extras,
	})
}

// importL3Extras copies what builds on routers and floating IPs: port
// forwardings (the same table, the standard attributes in the row), the
// QoS policies of floating IPs and router gateways, and the projects'
// auto-allocated topologies.
func importL3Extras(ctx context.Context, s *Source, w *Writer) error {
	if s.Has("portforwardings") {
		err := s.Each(ctx, `SELECT p.id, p.floatingip_id, p.internal_neutron_port_id, p.protocol, p.internal_ip_address,
			p.internal_port_start, p.internal_port_end, p.external_port_start, p.external_port_end, `+stdCols+`
			FROM portforwardings p JOIN standardattributes sa ON sa.id = p.standard_attr_id ORDER BY p.id`, func(r Row) error {
			return w.Insert(ctx, "portforwardings", `id, floatingip_id, internal_neutron_port_id, protocol, internal_ip_address,
				internal_port_start, internal_port_end, external_port_start, external_port_end,
				description, created_at, updated_at, revision_number`,
				append([]any{r.Str("id"), r.Str("floatingip_id"), r.Str("internal_neutron_port_id"), r.Str("protocol"),
					r.Str("internal_ip_address"), r.Int("internal_port_start"), r.Int("internal_port_end"),
					r.Int("external_port_start"), r.Int("external_port_end")}, std(r)...)...)
		})
		if err != nil {
			return err
		}
	}
	for _, b := range []struct{ table, key string }{{"qos_fip_policy_bindings", "fip_id"}, {"qos_router_gw_policy_bindings", "router_id"}} {
		if !s.Has(b.table) {
			continue
		}
		err := s.Each(ctx, "SELECT "+b.key+", policy_id FROM "+b.table+" ORDER BY "+b.key, func(r Row) error {
			return w.Insert(ctx, b.table, b.key+", policy_id", r.Str(b.key), r.Str("policy_id"))
		})
		if err != nil {
			return err
		}
	}
	if !s.Has("auto_allocated_topologies") {
		return nil
	}
	return s.Each(ctx, "SELECT project_id, network_id, router_id FROM auto_allocated_topologies ORDER BY project_id", func(r Row) error {
		return w.Insert(ctx, "auto_allocated_topologies", "project_id, network_id, router_id",
			r.Str("project_id"), r.Str("network_id"), r.NStr("router_id"))
	})
}
