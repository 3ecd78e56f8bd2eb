package dbimport

import (
	"context"
	"sort"
)

func init() {
	Register(Importer{
		Name: "rbac policies", Order: 80,
		Writes: []string{"rbac_policies"},
		Run:    importRBAC,
	})
}

// importRBAC copies the RBAC entries of every object type an importer
// declares (Importer.RBAC, which also counts as read for the report):
// Neutron keeps one table per type, neutrino one for all.
func importRBAC(ctx context.Context, s *Source, w *Writer) error {
	types := map[string]string{}
	for _, im := range importers {
		for table, objType := range im.RBAC {
			types[table] = objType
		}
	}
	tables := make([]string, 0, len(types))
	for t := range types {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		if !s.Has(t) {
			continue
		}
		err := s.Each(ctx, "SELECT id, project_id, object_id, target_project, action FROM "+t+" ORDER BY id", func(r Row) error {
			return w.Insert(ctx, "rbac_policies", "id, project_id, object_type, object_id, target_project, action",
				r.Str("id"), r.NStr("project_id"), types[t], r.Str("object_id"), r.Str("target_project"), r.Str("action"))
		})
		if err != nil {
			return err
		}
	}
	return nil
}
