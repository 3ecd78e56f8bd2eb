package flavors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/l3"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// InUse reports whether a flavor is used by a service object (a router).
type InUse func(ctx context.Context, q db.Querier, flavorID string) (bool, error)

// AddUser registers an in-use check for flavors: a flavor one of them
// reports as used cannot be deleted (409 FlavorInUse).
func (p *Plugin) AddUser(f InUse) { p.users = append(p.users, f) }

// wireRouters installs the L3 driver controller on the router plugin's
// table, when there is one: the provider check of a create
// (BEFORE_CREATE), the router's provider association (PRECOMMIT_CREATE,
// _UPDATE, _DELETE) and the flavor's in-use check on routers.flavor_id.
func (p *Plugin) wireRouters() error {
	t := p.env.Table("routers")
	if t == nil {
		return nil
	}
	for _, c := range t.Cols {
		if c.Attr == "flavor_id" && c.Expr == "" {
			query := "SELECT COUNT(*) FROM " + t.Name + " WHERE " + c.Name + " = ?"
			p.AddUser(func(ctx context.Context, q db.Querier, id string) (bool, error) {
				var n int
				err := q.QueryRow(ctx, query, id).Scan(&n)
				return n > 0, err
			})
		}
	}
	if r, ok := p.env.Plugin("router").(*l3.Plugin); ok {
		// the check runs on the routers' BEFORE_CREATE event below, on
		// the request (Neutron checks only the flags a request gives)
		r.SetFlavorCheck(func(context.Context, *db.Tx, any, bool, bool) error { return nil })
	}
	bus := p.env.Bus
	const name = "flavors.l3_driver_controller"
	bus.Subscribe(events.Router, events.BeforeCreate, name, events.PriorityOwner+1, func(_ string, _ events.Event, pl *events.Payload) error {
		_, err := p.RouterProvider(pl.Ctx, pl.Tx, pl.New)
		return err
	})
	bus.Subscribe(events.Router, events.PrecommitCreate, name, events.PriorityOwner+1, p.associate)
	bus.Subscribe(events.Router, events.PrecommitUpdate, name, events.PriorityOwner+1, p.migrateProvider)
	bus.Subscribe(events.Router, events.PrecommitDelete, name, events.PriorityOwner+1, func(_ string, _ events.Event, pl *events.Payload) error {
		_, err := pl.Tx.Exec(pl.Ctx, "DELETE FROM providerresourceassociations WHERE resource_id = ?", pl.ID)
		return err
	})
	return nil
}

// RouterProvider is the L3 driver controller's check of a router create
// (router is the request's item): the provider of its flavor_id when it
// has one (FlavorNotFound, FlavorServiceProfileBindingNotFound,
// ServiceProfileDisabled, ServiceProfileDriverNotFound), else the one its
// distributed/ha flags select; the provider must support the flags the
// request gives (InvalidInput).
func (p *Plugin) RouterProvider(ctx context.Context, q db.Querier, router api.Object) (Provider, error) {
	var drv Provider
	var err error
	if flavor, ok := router["flavor_id"]; ok && flavor != api.NotSpecified {
		drv, err = p.flavorProvider(ctx, q, pyfmt.Str(flavor))
	} else {
		drv, err = p.flagsProvider(router)
	}
	if err != nil {
		return drv, err
	}
	return drv, supports(drv, router)
}

// flavorProvider is _get_l3_driver_by_flavor: the flavor, its first
// bound profile, enabled, and the provider of the profile's driver.
func (p *Plugin) flavorProvider(ctx context.Context, q db.Querier, flavor string) (Provider, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM flavors WHERE id = ?", flavor).Scan(&n); err != nil {
		return Provider{}, err
	}
	if n == 0 {
		return Provider{}, flavorNotFound(flavor)
	}
	var driver string
	var enabled bool
	err := q.QueryRow(ctx, `SELECT s.driver, s.enabled FROM flavorserviceprofilebindings b
		JOIN serviceprofiles s ON s.id = b.service_profile_id WHERE b.flavor_id = ? ORDER BY b.service_profile_id LIMIT 1`,
		flavor).Scan(&driver, &enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Provider{}, bindingNotFound("", flavor)
	}
	if err != nil {
		return Provider{}, err
	}
	if !enabled {
		return Provider{}, nerr.Typed(503, "ServiceProfileDisabled", "Service Profile is not enabled.")
	}
	for _, pr := range p.providers {
		if pr.Driver == driver && pr.ServiceType == L3 {
			return pr, nil
		}
	}
	return Provider{}, nerr.NotFound("ServiceProfileDriverNotFound", "Service Profile driver %s could not be found.", driver)
}

// flagsProvider is _attrs_to_driver: the first L3 provider compatible
// with the router's distributed and ha flags (given, else the
// configuration's router_distributed and l3_ha).
func (p *Plugin) flagsProvider(router api.Object) (Provider, error) {
	distributed := p.flag(router, "distributed", "router_distributed")
	ha := p.flag(router, "ha", "l3_ha")
	for _, pr := range p.Providers(L3) {
		if pr.Distributed.compatible(distributed) && pr.HA.compatible(ha) {
			return pr, nil
		}
	}
	return Provider{}, nerr.InvalidInput(fmt.Sprintf("Could not find a service provider that supports distributed=%s and ha=%s",
		pyfmt.Str(distributed), pyfmt.Str(ha)))
}

// flag is _is_distributed / _is_ha: false only when the value is false,
// the configuration's default when it is not given.
func (p *Plugin) flag(router api.Object, key, option string) bool {
	v, ok := router[key]
	if !ok || v == api.NotSpecified {
		return p.configBool(option)
	}
	return v != false
}

// configBool reads a [DEFAULT] boolean the router plugin registers
// (false while it has not).
func (p *Plugin) configBool(name string) bool {
	for _, o := range config.Options() {
		if o.Group == "DEFAULT" && o.Name == name {
			return p.env.Config.Bool("DEFAULT", name)
		}
	}
	return false
}

// supports is _ensure_driver_supports_request.
func supports(drv Provider, body api.Object) error {
	for _, f := range []struct {
		key     string
		support Support
	}{{"distributed", drv.Distributed}, {"ha", drv.HA}} {
		v, ok := body[f.key].(bool)
		if ok && !f.support.compatible(v) {
			return nerr.InvalidInput(fmt.Sprintf("Provider %s does not support %s=%s", drv.Name, f.key, pyfmt.Str(v)))
		}
	}
	return nil
}

// associate is _set_router_provider: the router's provider is kept.
func (p *Plugin) associate(_ string, _ events.Event, pl *events.Payload) error {
	drv, err := p.RouterProvider(pl.Ctx, pl.Tx, pl.Request)
	if err != nil {
		return err
	}
	_, err = pl.Tx.Exec(pl.Ctx, "INSERT INTO providerresourceassociations (provider_name, resource_id) VALUES (?, ?)", drv.Name, pl.ID)
	return err
}

// migrateProvider is _update_router_provider: a router whose provider
// does not support the new flags moves to one that does, unless it has a
// flavor.
func (p *Plugin) migrateProvider(_ string, _ events.Event, pl *events.Payload) error {
	var name string
	err := pl.Tx.QueryRow(pl.Ctx, "SELECT provider_name FROM providerresourceassociations WHERE resource_id = ?", pl.ID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	drv, found := p.providerNamed(name)
	if !found {
		if drv, err = p.flagsProvider(pl.Old); err != nil {
			return err
		}
	}
	if supports(drv, pl.Request) == nil && found {
		return nil
	}
	if supports(drv, pl.Request) != nil && pl.Old["flavor_id"] != nil {
		return nerr.InvalidInput("Changing the 'ha' and 'distributed' attributes on a router associated with a flavor is not supported")
	}
	merged := api.Object{"distributed": pl.Old["distributed"], "ha": pl.Old["ha"]}
	for _, k := range []string{"distributed", "ha"} {
		if v, ok := pl.Request[k]; ok {
			merged[k] = v
		}
	}
	if drv, err = p.flagsProvider(merged); err != nil {
		return err
	}
	if _, err := pl.Tx.Exec(pl.Ctx, "DELETE FROM providerresourceassociations WHERE resource_id = ?", pl.ID); err != nil {
		return err
	}
	_, err = pl.Tx.Exec(pl.Ctx, "INSERT INTO providerresourceassociations (provider_name, resource_id) VALUES (?, ?)", drv.Name, pl.ID)
	return err
}

func (p *Plugin) providerNamed(name string) (Provider, bool) {
	for _, pr := range p.Providers(L3) {
		if pr.Name == name {
			return pr, true
		}
	}
	return Provider{}, false
}
