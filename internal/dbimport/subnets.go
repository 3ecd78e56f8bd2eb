package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "subnets", Order: 40,
		Reads: []string{"subnets", "ipallocationpools", "dnsnameservers", "subnetroutes", "subnet_service_types",
			"subnet_dns_publish_fixed_ips"},
		Writes: []string{"subnets", "ipallocationpools", "dnsnameservers", "subnetroutes", "subnet_service_types"},
		Tagged: []string{"subnets"},
		Run:    importSubnets,
	})
}

func importSubnets(ctx context.Context, s *Source, w *Writer) error {
	err := s.Each(ctx, `SELECT s.id, s.project_id, s.name, s.network_id, s.segment_id, s.subnetpool_id, s.ip_version, s.cidr,
		s.gateway_ip, s.enable_dhcp, s.ipv6_ra_mode, s.ipv6_address_mode, `+stdCols+`
		FROM subnets s JOIN standardattributes sa ON sa.id = s.standard_attr_id
		ORDER BY s.id`, func(r Row) error {
		vals := []any{r.Str("id"), r.NStr("project_id"), r.Str("name")}
		vals = append(vals, std(r)...)
		vals = append(vals, r.Str("network_id"), r.NStr("segment_id"), r.NStr("subnetpool_id"), r.Int("ip_version"),
			r.Str("cidr"), r.NStr("gateway_ip"), r.Bool("enable_dhcp"), r.NStr("ipv6_ra_mode"), r.NStr("ipv6_address_mode"))
		return w.Insert(ctx, "subnets", `id, project_id, name, description, created_at, updated_at, revision_number,
			network_id, segment_id, subnetpool_id, ip_version, cidr, gateway_ip, enable_dhcp, ipv6_ra_mode, ipv6_address_mode`, vals...)
	})
	if err != nil {
		return err
	}
	// Pools in the order of their ids: the order Neutron (on MySQL)
	// answers them in.
	var last string
	var ord int
	err = s.Each(ctx, "SELECT subnet_id, first_ip, last_ip FROM ipallocationpools WHERE subnet_id IS NOT NULL ORDER BY subnet_id, id", func(r Row) error {
		if sub := r.Str("subnet_id"); sub != last {
			last, ord = sub, 0
		}
		ord++
		return w.Insert(ctx, "ipallocationpools", "subnet_id, first_ip, last_ip, ord", last, r.Str("first_ip"), r.Str("last_ip"), ord-1)
	})
	if err != nil {
		return err
	}
	last = ""
	err = s.Each(ctx, "SELECT subnet_id, address FROM dnsnameservers ORDER BY subnet_id, `order`, address", func(r Row) error {
		if sub := r.Str("subnet_id"); sub != last {
			last, ord = sub, 0
		}
		ord++
		return w.Insert(ctx, "dnsnameservers", "subnet_id, address, ord", last, r.Str("address"), ord-1)
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, "SELECT subnet_id, destination, nexthop FROM subnetroutes ORDER BY subnet_id, destination, nexthop", func(r Row) error {
		return w.Insert(ctx, "subnetroutes", "subnet_id, destination, nexthop", r.Str("subnet_id"), r.Str("destination"), r.Str("nexthop"))
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, "SELECT subnet_id, service_type FROM subnet_service_types ORDER BY subnet_id, service_type", func(r Row) error {
		return w.Insert(ctx, "subnet_service_types", "subnet_id, service_type", r.Str("subnet_id"), r.Str("service_type"))
	})
	if err != nil || !s.Has("subnet_dns_publish_fixed_ips") {
		return err
	}
	return s.Each(ctx, "SELECT subnet_id FROM subnet_dns_publish_fixed_ips WHERE dns_publish_fixed_ip ORDER BY subnet_id", func(r Row) error {
		w.Note("subnet %s: dns_publish_fixed_ip is not supported by neutrino; imported without it", r.Str("subnet_id"))
		return nil
	})
}
