package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "trunks", Order: 70,
		Reads:  []string{"trunks", "subports"},
		Writes: []string{"trunks", "subports"},
		Tagged: []string{"trunks"},
		Run:    importTrunks,
	})
}

// importTrunks copies trunks and their sub-ports.
func importTrunks(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("trunks") {
		return nil
	}
	err := s.Each(ctx, `SELECT t.id, t.project_id, t.name, t.admin_state_up, t.status, t.port_id, `+stdCols+`
		FROM trunks t JOIN standardattributes sa ON sa.id = t.standard_attr_id ORDER BY t.id`, func(r Row) error {
		vals := append([]any{r.Str("id"), r.NStr("project_id"), r.Str("name")}, std(r)...)
		vals = append(vals, r.BoolOr("admin_state_up", true), r.Str("status"), r.Str("port_id"))
		return w.Insert(ctx, "trunks", `id, project_id, name, description, created_at, updated_at, revision_number,
			admin_state_up, status, port_id`, vals...)
	})
	if err != nil {
		return err
	}
	return s.Each(ctx, "SELECT port_id, trunk_id, segmentation_type, segmentation_id FROM subports ORDER BY trunk_id, port_id", func(r Row) error {
		return w.Insert(ctx, "subports", "port_id, trunk_id, segmentation_type, segmentation_id",
			r.Str("port_id"), r.Str("trunk_id"), r.Str("segmentation_type"), r.Int("segmentation_id"))
	})
}
