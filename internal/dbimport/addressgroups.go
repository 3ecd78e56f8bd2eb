package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "address groups", Order: 45,
		Reads:  []string{"address_groups", "address_associations"},
		Writes: []string{"address_groups", "address_associations"},
		RBAC:   map[string]string{"addressgrouprbacs": "address_group"},
		Run:    importAddressGroups,
	})
}

// importAddressGroups copies address groups and their addresses.
func importAddressGroups(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("address_groups") {
		return nil
	}
	err := s.Each(ctx, `SELECT g.id, g.project_id, g.name, `+stdCols+`
		FROM address_groups g JOIN standardattributes sa ON sa.id = g.standard_attr_id ORDER BY g.id`, func(r Row) error {
		return w.Insert(ctx, "address_groups", "id, project_id, name, description, created_at, updated_at, revision_number",
			append([]any{r.Str("id"), r.NStr("project_id"), r.Str("name")}, std(r)...)...)
	})
	if err != nil {
		return err
	}
	return s.Each(ctx, "SELECT address, address_group_id FROM address_associations ORDER BY address_group_id, address", func(r Row) error {
		return w.Insert(ctx, "address_associations", "address, address_group_id", r.Str("address"), r.Str("address_group_id"))
	})
}
