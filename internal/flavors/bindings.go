package flavors

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// BindingResource is /v2.0/flavors/{flavor_id}/service_profiles: the
// flavor's bindings to service profiles. The flavor is not looked up by
// the API (an unknown binding of any flavor is
// FlavorServiceProfileBindingNotFound, as in Neutron).
func BindingResource(flavors *api.Resource, d *db.DB) *api.Resource {
	r := &api.Resource{ExtensionController: true, Extension: "flavors", Name: "service_profile",
		Collection: "service_profiles", NoUpdate: true,
		Parent: &api.Parent{Path: "flavors", MemberName: "flavor", Resource: flavors, Unchecked: true},
		Attrs: []*api.Attribute{
			{Name: "id", AllowPost: true, Required: true, Validate: api.UUID, Visible: true},
			tenantAttr(),
		}}
	r.Backend = bindingBackend{d}
	return r
}

// bindingBackend stores the bindings in flavorserviceprofilebindings.
type bindingBackend struct{ d *db.DB }

func bindingNotFound(profile, flavor string) error {
	return nerr.NotFound("FlavorServiceProfileBindingNotFound", "Service Profile %s is not associated with flavor %s.", profile, flavor)
}

// Create is create_flavor_service_profile; the answer is {"id": flavor}
// (Neutron answers with the flavor, of which the sub-resource's map
// shows the id). An unknown flavor or profile, a 500 in Neutron, is
// their 404.
func (b bindingBackend) Create(ctx context.Context, items []api.Object) ([]api.Object, error) {
	out := make([]api.Object, 0, len(items))
	err := b.d.Write(ctx, func(tx *db.Tx) error {
		out = out[:0]
		for _, it := range items {
			flavor, _ := it["flavor_id"].(string)
			profile, _ := it["id"].(string)
			if err := bind(ctx, tx, flavor, profile); err != nil {
				return err
			}
			out = append(out, api.Object{"id": flavor, "flavor_id": flavor})
		}
		return nil
	})
	return out, err
}

func bind(ctx context.Context, tx *db.Tx, flavor, profile string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM flavorserviceprofilebindings WHERE service_profile_id = ? AND flavor_id = ?",
		profile, flavor).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nerr.Conflict("FlavorServiceProfileBindingExists", "Service Profile %s is already associated with flavor %s.", profile, flavor)
	}
	// the rows are locked against a concurrent delete
	for _, row := range []struct {
		table, id string
		notFound  func(string) error
	}{{"flavors", flavor, flavorNotFound}, {"serviceprofiles", profile, profileNotFound}} {
		var id string
		err := tx.QueryRow(ctx, "SELECT id FROM "+row.table+" WHERE id = ?"+tx.ForUpdate(), row.id).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return row.notFound(row.id)
		}
		if err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, "INSERT INTO flavorserviceprofilebindings (service_profile_id, flavor_id) VALUES (?, ?)", profile, flavor)
	if db.IsUniqueViolation(err) {
		return db.ErrRetry // the retry finds the other binding: 409
	}
	return err
}

// Get is get_flavor_service_profile: the binding has no visible
// attribute.
func (b bindingBackend) Get(ctx context.Context, id string, _ []string) (api.Object, error) {
	flavor := api.ParentID(ctx)
	var n int
	if err := b.d.QueryRow(ctx, "SELECT COUNT(*) FROM flavorserviceprofilebindings WHERE service_profile_id = ? AND flavor_id = ?",
		id, flavor).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, bindingNotFound(id, flavor)
	}
	return api.Object{"flavor_id": flavor}, nil
}

// List answers the flavor's bindings by profile id (a 500 in Neutron).
func (b bindingBackend) List(ctx context.Context, _ *api.Query) ([]api.Object, error) {
	flavor := api.ParentID(ctx)
	ids, err := db.Strings(ctx, b.d, "SELECT service_profile_id FROM flavorserviceprofilebindings WHERE flavor_id = ? ORDER BY service_profile_id", flavor)
	if err != nil {
		return nil, err
	}
	out := make([]api.Object, 0, len(ids))
	for _, id := range ids {
		out = append(out, api.Object{"id": id, "flavor_id": flavor})
	}
	return out, nil
}

func (bindingBackend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

// Delete is delete_flavor_service_profile.
func (b bindingBackend) Delete(ctx context.Context, id string, _ *int64) error {
	flavor := api.ParentID(ctx)
	res, err := b.d.Exec(ctx, "DELETE FROM flavorserviceprofilebindings WHERE service_profile_id = ? AND flavor_id = ?", id, flavor)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return bindingNotFound(id, flavor)
	}
	return nil
}
