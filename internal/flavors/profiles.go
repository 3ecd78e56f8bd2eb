package flavors

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// dropInput removes what a create accepts but Neutron's plugin ignores:
// the owner (flavors and profiles are global) and a flavor's
// service_profiles (bindings are made through the sub-resource).
func dropInput(op *store.Op) error {
	for _, k := range []string{"tenant_id", "project_id", "service_profiles"} {
		delete(op.New, k)
	}
	return nil
}

// dropNullEnabled: enabled: null changes nothing
// (convert_to_boolean_if_not_none, a non-nullable field).
func dropNullEnabled(op *store.Op) {
	if v, ok := op.New["enabled"]; ok && v == nil {
		delete(op.New, "enabled")
	}
}

func (p *Plugin) beforeUpdateFlavor(op *store.Op) error {
	delete(op.New, "service_profiles")
	dropNullEnabled(op)
	return nil
}

// beforeDeleteFlavor refuses a flavor a router uses (FlavorInUse, the
// foreign key of Neutron's routers.flavor_id); its bindings go with it.
func (p *Plugin) beforeDeleteFlavor(op *store.Op) error {
	for _, inUse := range p.users {
		used, err := inUse(op.Ctx, op.Tx, op.ID)
		if err != nil {
			return err
		}
		if used {
			return nerr.Conflict("FlavorInUse", "Flavor %s is used by some service instance.", op.ID)
		}
	}
	_, err := op.Tx.Exec(op.Ctx, "DELETE FROM flavorserviceprofilebindings WHERE flavor_id = ?", op.ID)
	return err
}

// beforeCreateProfile is create_service_profile's checks: a driver must
// be a provider's, else metainfo is needed.
func (p *Plugin) beforeCreateProfile(op *store.Op) error {
	if err := dropInput(op); err != nil {
		return err
	}
	if d, _ := op.New["driver"].(string); d != "" {
		return p.validateDriver(d)
	}
	if m, _ := op.New["metainfo"].(string); m == "" {
		return nerr.Typed(400, "ServiceProfileEmpty", "Service Profile needs either a driver or metainfo.")
	}
	return nil
}

// beforeUpdateProfile is update_service_profile: the new driver, then
// no binding may use the profile.
func (p *Plugin) beforeUpdateProfile(op *store.Op) error {
	if d, _ := op.New["driver"].(string); d != "" {
		if err := p.validateDriver(d); err != nil {
			return err
		}
	}
	dropNullEnabled(op)
	return profileNotInUse(op.Ctx, op.Tx, op.ID)
}

func (p *Plugin) beforeDeleteProfile(op *store.Op) error {
	return profileNotInUse(op.Ctx, op.Tx, op.ID)
}

// profileNotInUse is _ensure_service_profile_not_in_use.
func profileNotInUse(ctx context.Context, q db.Querier, id string) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM flavorserviceprofilebindings WHERE service_profile_id = ?", id).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nerr.Conflict("ServiceProfileInUse", "Service Profile %s is used by some service instance.", id)
	}
	return nil
}
