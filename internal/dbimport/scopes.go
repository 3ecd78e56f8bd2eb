package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "address scopes and subnet pools", Order: 10,
		Reads:  []string{"address_scopes", "subnetpools", "subnetpoolprefixes"},
		Writes: []string{"address_scopes", "subnetpools", "subnetpoolprefixes"},
		Tagged: []string{"subnetpools"},
		RBAC:   map[string]string{"addressscoperbacs": "address_scope", "subnetpoolrbacs": "subnetpool"},
		Run:    importScopesAndPools,
	})
}

func importScopesAndPools(ctx context.Context, s *Source, w *Writer) error {
	scopes := map[string]bool{}
	err := s.Each(ctx, "SELECT id, project_id, name, ip_version FROM address_scopes ORDER BY id", func(r Row) error {
		scopes[r.Str("id")] = true
		return w.Insert(ctx, "address_scopes", "id, project_id, name, ip_version",
			r.Str("id"), r.NStr("project_id"), r.Str("name"), r.Int("ip_version"))
	})
	if err != nil {
		return err
	}
	err = s.Each(ctx, `SELECT p.id, p.project_id, p.name, p.ip_version, p.default_prefixlen, p.min_prefixlen, p.max_prefixlen,
		p.default_quota, p.is_default, p.address_scope_id, `+stdCols+`
		FROM subnetpools p JOIN standardattributes sa ON sa.id = p.standard_attr_id
		ORDER BY p.id`, func(r Row) error {
		id := r.Str("id")
		scope := r.NStr("address_scope_id")
		if scope != nil && !scopes[scope.(string)] {
			w.Note("subnet pool %s: its address scope %s does not exist; imported without an address scope", id, scope)
			scope = nil
		}
		// default_version makes the unique key of one default pool per
		// IP version
		var defVersion any
		if r.Bool("is_default") {
			defVersion = r.Int("ip_version")
		}
		return w.Insert(ctx, "subnetpools", `id, project_id, name, description, created_at, updated_at, revision_number,
			ip_version, default_prefixlen, min_prefixlen, max_prefixlen, default_quota, is_default, default_version, address_scope_id`,
			id, r.NStr("project_id"), r.NStr("name"), r.NStr("description"), r.Time("created_at"), r.Time("updated_at"),
			r.Int("revision_number"), r.Int("ip_version"), r.Int("default_prefixlen"), r.Int("min_prefixlen"), r.Int("max_prefixlen"),
			r.NInt("default_quota"), r.Bool("is_default"), defVersion, scope)
	})
	if err != nil {
		return err
	}
	return s.Each(ctx, "SELECT subnetpool_id, cidr FROM subnetpoolprefixes ORDER BY subnetpool_id, cidr", func(r Row) error {
		return w.Insert(ctx, "subnetpoolprefixes", "subnetpool_id, cidr", r.Str("subnetpool_id"), r.Str("cidr"))
	})
}
