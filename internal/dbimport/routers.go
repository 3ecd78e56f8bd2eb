package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "routers and floating IPs", Order: 66,
		Reads:  []string{"routers", "router_extra_attributes", "routerports", "routerroutes", "floatingips", "floatingipdnses"},
		Writes: []string{"routers", "routerports", "routerroutes", "floatingips"},
		Tagged: []string{"routers", "floatingips"},
		Run:    importRouters,
	})
}

// importRouters copies routers (with their extra attributes: distributed,
// ha, zones), their ports and routes, and floating IPs (with their DNS
// names).
func importRouters(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("routers") {
		return nil
	}
	err := s.Each(ctx, `SELECT r.id, r.project_id, r.name, r.status, r.admin_state_up, r.gw_port_id, r.enable_snat,
		r.flavor_id, `+stdCols+`, ea.distributed, ea.ha, ea.ha_vr_id, ea.availability_zone_hints
		FROM routers r JOIN standardattributes sa ON sa.id = r.standard_attr_id
		LEFT JOIN router_extra_attributes ea ON ea.router_id = r.id ORDER BY r.id`, func(r Row) error {
		vals := append([]any{r.Str("id"), r.NStr("project_id"), r.Str("name")}, std(r)...)
		vals = append(vals, r.BoolOr("admin_state_up", true), r.Str("status"), r.NStr("gw_port_id"), r.BoolOr("enable_snat", true),
			r.NStr("flavor_id"), r.BoolOr("distributed", false), r.BoolOr("ha", false), r.Int("ha_vr_id"), r.NStr("availability_zone_hints"))
		return w.Insert(ctx, "routers", `id, project_id, name, description, created_at, updated_at, revision_number,
			admin_state_up, status, gw_port_id, enable_snat, flavor_id, distributed, ha, ha_vr_id, availability_zone_hints`, vals...)
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, "SELECT port_id, router_id, port_type FROM routerports ORDER BY router_id, port_id", func(r Row) error {
		return w.Insert(ctx, "routerports", "port_id, router_id, port_type", r.Str("port_id"), r.Str("router_id"), r.Str("port_type"))
	})
	if err != nil {
		return err
	}
	if s.Has("routerroutes") {
		err = s.Each(ctx, "SELECT router_id, destination, nexthop FROM routerroutes ORDER BY router_id, destination, nexthop", func(r Row) error {
			return w.Insert(ctx, "routerroutes", "router_id, destination, nexthop", r.Str("router_id"), r.Str("destination"), r.Str("nexthop"))
		})
		if err != nil {
			return err
		}
	}
	return importFloatingIPs(ctx, s, w)
}

// importFloatingIPs copies floating IPs; the DNS names come from
// floatingipdnses when Neutron kept them.
func importFloatingIPs(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("floatingips") {
		return nil
	}
	dns, dnsJoin := "'' AS dns_name, '' AS dns_domain", ""
	if s.Has("floatingipdnses") {
		dns, dnsJoin = "d.dns_name, d.dns_domain", " LEFT JOIN floatingipdnses d ON d.floatingip_id = f.id"
	}
	return s.Each(ctx, `SELECT f.id, f.project_id, f.floating_ip_address, f.floating_network_id, f.floating_port_id,
		f.fixed_port_id, f.fixed_ip_address, f.router_id, f.status, `+stdCols+`, `+dns+`
		FROM floatingips f JOIN standardattributes sa ON sa.id = f.standard_attr_id`+dnsJoin+` ORDER BY f.id`, func(r Row) error {
		vals := append([]any{r.Str("id"), r.NStr("project_id")}, std(r)...)
		vals = append(vals, r.Str("floating_ip_address"), r.Str("floating_network_id"), r.Str("floating_port_id"),
			r.NStr("fixed_port_id"), r.NStr("fixed_ip_address"), r.NStr("router_id"), r.NStr("status"), r.Str("dns_name"), r.Str("dns_domain"))
		return w.Insert(ctx, "floatingips", `id, project_id, description, created_at, updated_at, revision_number,
			floating_ip_address, floating_network_id, floating_port_id, fixed_port_id, fixed_ip_address, router_id, status,
			dns_name, dns_domain`, vals...)
	})
}
