package dbimport

import "context"

func init() {
	Register(Importer{
		Name: "flavors", Order: 65,
		Reads:  []string{"flavors", "serviceprofiles", "flavorserviceprofilebindings", "providerresourceassociations"},
		Writes: []string{"flavors", "serviceprofiles", "flavorserviceprofilebindings", "providerresourceassociations"},
		Run:    importFlavors,
	})
}

// importFlavors copies flavors, service profiles, their bindings and the
// routers' L3 providers (the tables are the same in Neutron and
// neutrino).
func importFlavors(ctx context.Context, s *Source, w *Writer) error {
	if !s.Has("flavors") {
		return nil
	}
	steps := []struct {
		query, table, cols string
		row                func(r Row) []any
	}{
		{"SELECT id, name, description, enabled, service_type FROM flavors ORDER BY id", "flavors",
			"id, name, description, enabled, service_type", func(r Row) []any {
				return []any{r.Str("id"), r.NStr("name"), r.NStr("description"), r.Bool("enabled"), r.NStr("service_type")}
			}},
		{"SELECT id, description, driver, enabled, metainfo FROM serviceprofiles ORDER BY id", "serviceprofiles",
			"id, description, driver, enabled, metainfo", func(r Row) []any {
				return []any{r.Str("id"), r.NStr("description"), r.Str("driver"), r.Bool("enabled"), r.NStr("metainfo")}
			}},
		{"SELECT service_profile_id, flavor_id FROM flavorserviceprofilebindings ORDER BY flavor_id, service_profile_id",
			"flavorserviceprofilebindings", "service_profile_id, flavor_id", func(r Row) []any {
				return []any{r.Str("service_profile_id"), r.Str("flavor_id")}
			}},
		{"SELECT provider_name, resource_id FROM providerresourceassociations ORDER BY resource_id",
			"providerresourceassociations", "provider_name, resource_id", func(r Row) []any {
				return []any{r.Str("provider_name"), r.Str("resource_id")}
			}},
	}
	for _, st := range steps {
		if !s.Has(st.table) {
			continue
		}
		err := s.Each(ctx, st.query, func(r Row) error { return w.Insert(ctx, st.table, st.cols, st.row(r)...) })
		if err != nil {
			return err
		}
	}
	return nil
}
