package dbimport

import (
	"context"
	"sort"
)

func init() {
	Register(Importer{
		Name: "tags", Order: 90,
		Reads:  []string{"tags"},
		Writes: []string{"tags"},
		Run:    importTags,
	})
}

// importTags copies the tags of every resource an importer declares
// taggable (Importer.Tagged): Neutron tags standard attribute ids,
// neutrino tags resource ids.
func importTags(ctx context.Context, s *Source, w *Writer) error {
	var tables []string
	for _, im := range importers {
		tables = append(tables, im.Tagged...)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if !s.Has(t) {
			continue
		}
		err := s.Each(ctx, "SELECT r.id, t.tag FROM tags t JOIN "+t+" r ON r.standard_attr_id = t.standard_attr_id ORDER BY r.id, t.tag",
			func(r Row) error {
				return w.Insert(ctx, "tags", "resource_id, tag", r.Str("id"), r.Str("tag"))
			})
		if err != nil {
			return err
		}
	}
	return nil
}
