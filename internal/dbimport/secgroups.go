package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "security groups", Order: 50,
		Reads:  []string{"securitygroups", "default_security_group", "securitygrouprules"},
		Writes: []string{"securitygroups", "default_security_group", "securitygrouprules"},
		Tagged: []string{"securitygroups"},
		RBAC:   map[string]string{"securitygrouprbacs": "security_group"},
		Run:    importSecurityGroups,
	})
}

func importSecurityGroups(ctx context.Context, s *Source, w *Writer) error {
	err := s.Each(ctx, `SELECT g.id, g.project_id, g.name, g.stateful, `+stdCols+`
		FROM securitygroups g JOIN standardattributes sa ON sa.id = g.standard_attr_id
		ORDER BY g.id`, func(r Row) error {
		return w.Insert(ctx, "securitygroups", "id, project_id, name, description, created_at, updated_at, revision_number, stateful",
			r.Str("id"), r.NStr("project_id"), r.NStr("name"), r.NStr("description"), r.Time("created_at"), r.Time("updated_at"),
			r.Int("revision_number"), r.BoolOr("stateful", true))
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, "SELECT project_id, security_group_id FROM default_security_group ORDER BY project_id", func(r Row) error {
		return w.Insert(ctx, "default_security_group", "project_id, security_group_id", r.Str("project_id"), r.Str("security_group_id"))
	})
	if err != nil {
		return err
	}
	// standard_attr_id is kept: Neutron shows it in the rules embedded in
	// their group, and neutrino numbers new rules after the largest.
	return s.Each(ctx, `SELECT r.id, r.project_id, r.security_group_id, r.remote_group_id, r.remote_address_group_id, r.direction,
		r.ethertype, r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix, r.standard_attr_id, `+stdCols+`
		FROM securitygrouprules r JOIN standardattributes sa ON sa.id = r.standard_attr_id
		ORDER BY r.id`, func(r Row) error {
		return w.Insert(ctx, "securitygrouprules", `id, project_id, security_group_id, remote_group_id, remote_address_group_id,
			direction, ethertype, protocol, port_range_min, port_range_max, remote_ip_prefix, description, created_at, updated_at,
			revision_number, standard_attr_id`,
			r.Str("id"), r.NStr("project_id"), r.Str("security_group_id"), r.NStr("remote_group_id"), r.NStr("remote_address_group_id"),
			r.NStr("direction"), r.NStr("ethertype"), r.NStr("protocol"), r.NInt("port_range_min"), r.NInt("port_range_max"),
			r.NStr("remote_ip_prefix"), r.NStr("description"), r.Time("created_at"), r.Time("updated_at"), r.Int("revision_number"),
			r.Int("standard_attr_id"))
	})
}
