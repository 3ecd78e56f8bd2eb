package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "quotas", Order: 85,
		Reads:  []string{"quotas"},
		Writes: []string{"quotas"},
		Run:    importQuotas,
	})
}

// importQuotas copies the projects' explicit limits, those of resources
// neutrino does not have yet included (they apply once it has them).
// Usage counts are not copied: neutrino counts the rows themselves.
func importQuotas(ctx context.Context, s *Source, w *Writer) error {
	type key struct{ project, resource string }
	limits := map[key]int64{}
	var order []key
	err := s.Each(ctx, "SELECT id, project_id, resource, `limit` FROM quotas ORDER BY id", func(r Row) error {
		if r.Null("project_id") || r.Null("resource") || r.Null("limit") {
			w.Note("quota %s: no project, resource or limit; not imported", r.Str("id"))
			return nil
		}
		k := key{r.Str("project_id"), r.Str("resource")}
		if _, dup := limits[k]; !dup {
			order = append(order, k)
		}
		limits[k] = r.Int("limit")
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range order {
		if err := w.Insert(ctx, "quotas", "project_id, resource, hard_limit", k.project, k.resource, limits[k]); err != nil {
			return err
		}
	}
	return nil
}
