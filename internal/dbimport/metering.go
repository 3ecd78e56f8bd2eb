package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "metering", Order: 75,
		Reads:  []string{"meteringlabels", "meteringlabelrules"},
		Writes: []string{"meteringlabels", "meteringlabelrules"},
		Run:    importMetering,
	})
}

// importMetering copies metering labels and their rules (the tables are
// the same in Neutron and neutrino).
func importMetering(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("meteringlabels") {
		return nil
	}
	err := s.Each(ctx, "SELECT id, project_id, name, description, shared FROM meteringlabels ORDER BY id", func(r Row) error {
		return w.Insert(ctx, "meteringlabels", "id, project_id, name, description, shared",
			r.Str("id"), r.NStr("project_id"), r.Str("name"), r.Str("description"), r.Bool("shared"))
	})
	if err != nil {
		return err
	}
	return s.Each(ctx, `SELECT id, metering_label_id, direction, remote_ip_prefix, source_ip_prefix, destination_ip_prefix, excluded
		FROM meteringlabelrules ORDER BY id`, func(r Row) error {
		return w.Insert(ctx, "meteringlabelrules", "id, metering_label_id, direction, remote_ip_prefix, source_ip_prefix, destination_ip_prefix, excluded",
			r.Str("id"), r.Str("metering_label_id"), r.Str("direction"), r.NStr("remote_ip_prefix"), r.NStr("source_ip_prefix"),
			r.NStr("destination_ip_prefix"), r.Bool("excluded"))
	})
}
