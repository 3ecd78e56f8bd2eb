// Package az is the ML2 component for availability zones (Neutron's
// availability_zone, availability_zone_filter and
// network_availability_zone extensions): /v2.0/availability_zones, the
// check of networks' availability_zone_hints against it and the
// networks' availability_zones. Zones come from agents (a DHCP agent's
// zone serves networks, an L3 agent's routers): the part that keeps the
// agents (RPC, OVN) provides them with SetSource; without one there are
// none, as in a Neutron without agents. The L3 plugin checks routers'
// hints with Validate and fills their zones with LoadHosting. With ML2/OVN
// the mechanism driver installs a Driver (SetDriver): networks' and
// routers' zones are then their hints as written in the OVN NB, and hints
// may name the gateway chassis' zones.
package az

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Zone is one availability zone of one resource type.
type Zone struct {
	Name     string
	Resource string // "network" (DHCP agents) or "router" (L3 agents)
	// Available: one of the zone's agents of the type is admin_state_up.
	Available bool
}

// Source provides the zones of a deployment's agents.
type Source interface {
	// Zones lists every zone (each name once per resource type).
	Zones(ctx context.Context, q db.Querier) ([]Zone, error)
	// Hosting returns the zones of the agents hosting each of ids (networks
	// or routers, per resource).
	Hosting(ctx context.Context, q db.Querier, resource string, ids []string) (map[string][]string, error)
}

type sourceKey struct{}

// Driver is what ML2/OVN puts in place of the agents' zones (its mechanism
// driver replaces the plugin's get_network_availability_zones and
// validate_availability_zones, its L3 plugin has its own
// get_router_availability_zones and validate_availability_zones): a
// network's or router's zones are the hints the driver wrote in the OVN
// Northbound database, and hints may name the gateway chassis' zones.
type Driver interface {
	// Hosting returns the zones of each of ids (networks or routers, per
	// resource).
	Hosting(ctx context.Context, resource string, ids []string) (map[string][]string, error)
	// Zones are the zone names hints may name (of any resource).
	Zones(ctx context.Context) ([]string, error)
}

type driverKey struct{}

// SetDriver installs a server's zone driver (during setup).
func SetDriver(env *plugin.Env, d Driver) { env.Set(driverKey{}, d) }

func driverOf(env *plugin.Env) Driver {
	d, _ := env.Value(driverKey{}).(Driver)
	return d
}

// SetSource installs a server's zone source (during setup).
func SetSource(env *plugin.Env, s Source) { env.Set(sourceKey{}, s) }

func sourceOf(env *plugin.Env) Source {
	s, _ := env.Value(sourceKey{}).(Source)
	return s
}

func init() {
	ml2.RegisterComponent(ml2.Component{Name: "availability_zones", Order: 50, Setup: setup})
}

// AvailabilityZone is the availability zone resource (list only).
func AvailabilityZone() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "availability_zone", Name: "availability_zone",
		Collection: "availability_zones", NoUpdate: true, NoDelete: true,
		// Neutron's controller allows neither sorting nor pagination:
		// their parameters are ignored, unchecked
		NoSorting: true, NoPagination: true,
		NotFound: func(string) error { return nerr.HTTPNotFound() },
		Attrs: []*api.Attribute{
			{Name: "name", Visible: true, IsFilter: true},
			{Name: "resource", Visible: true, IsFilter: true},
			{Name: "state", Visible: true, IsFilter: true},
		}}
}

type backend struct{ env *plugin.Env }

func setup(env *plugin.Env, p *ml2.Plugin) error {
	res := AvailabilityZone()
	res.Backend = backend{env}
	env.AddResource(res, nil)
	p.SetAZValidator(func(ctx context.Context, q db.Querier, resource string, hints []any) error {
		return Validate(ctx, q, env, resource, hints)
	})
	p.Networks().AddHooks(store.Hooks{Load: func(ctx context.Context, q db.Querier, objs []api.Object) error {
		return LoadHosting(ctx, q, env, "network", objs)
	}})
	env.AddExtensions("availability_zone", "availability_zone_filter", "network_availability_zone")
	return nil
}

// Validate is validate_availability_zones: each hint must be a zone of the
// resource's agents (the first missing one is AvailabilityZoneNotFound).
// With a zone driver, hints naming only its zones are valid; a network's
// others are checked against the agents' zones (ML2/OVN's
// patch_plugin_choose), a router's are not found (the OVN L3 plugin's).
func Validate(ctx context.Context, q db.Querier, env *plugin.Env, resource string, hints []any) error {
	if d := driverOf(env); d != nil {
		names, err := d.Zones(ctx)
		if err != nil {
			return err
		}
		var missing []string
		for _, h := range hints {
			if name, _ := h.(string); !slices.Contains(names, name) {
				missing = append(missing, api.PyStr(h))
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if resource != "network" {
			return nerr.NotFound("AvailabilityZoneNotFound", "AvailabilityZone %s could not be found.", strings.Join(missing, ", "))
		}
	}
	have := map[string]bool{}
	if s := sourceOf(env); s != nil {
		zones, err := s.Zones(ctx, q)
		if err != nil {
			return err
		}
		for _, z := range zones {
			if z.Resource == resource {
				have[z.Name] = true
			}
		}
	}
	for _, h := range hints {
		if name, _ := h.(string); !have[name] {
			return nerr.NotFound("AvailabilityZoneNotFound", "AvailabilityZone %s could not be found.", api.PyStr(h))
		}
	}
	return nil
}

// LoadHosting fills availability_zones of objs (networks or routers, per
// resource) from the agents hosting them, or from the zone driver; without
// either it leaves them alone.
func LoadHosting(ctx context.Context, q db.Querier, env *plugin.Env, resource string, objs []api.Object) error {
	var zones map[string][]string
	var err error
	if d := driverOf(env); d != nil {
		zones, err = d.Hosting(ctx, resource, store.IDs(objs))
	} else if s := sourceOf(env); s != nil {
		zones, err = s.Hosting(ctx, q, resource, store.IDs(objs))
	} else {
		return nil
	}
	if err != nil {
		return err
	}
	for _, o := range objs {
		list := []any{}
		for _, z := range zones[o["id"].(string)] {
			list = append(list, z)
		}
		o["availability_zones"] = list
	}
	return nil
}

// List is get_availability_zones: agents' zones, for admins only. Without
// availability_zone_filter (ML2/OVN) a filter is a 400, as Neutron hands
// the filters to its agents query, which knows none of them.
func (b backend) List(ctx context.Context, q *api.Query) ([]api.Object, error) {
	if len(q.Filters) > 0 && !b.env.HasExtension("availability_zone_filter") {
		var keys []string
		for _, f := range q.Filters {
			keys = append(keys, f.Attr)
		}
		return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not supported for filtering", strings.Join(keys, ", ")))
	}
	out := []api.Object{}
	s := sourceOf(b.env)
	if rc := reqctx.From(ctx); s == nil || (rc != nil && !rc.IsAdmin) {
		return out, nil
	}
	zones, err := s.Zones(ctx, b.env.DB)
	if err != nil {
		return nil, err
	}
	for _, z := range zones {
		state := "unavailable"
		if z.Available {
			state = "available"
		}
		o := api.Object{"name": z.Name, "resource": z.Resource, "state": state}
		if matches(o, q.Filters) {
			out = append(out, o)
		}
	}
	return out, nil
}

func matches(o api.Object, fs []api.Filter) bool {
	for _, f := range fs {
		ok := false
		for _, v := range f.Values {
			ok = ok || api.PyStr(v) == o[f.Attr]
		}
		if !ok {
			return false
		}
	}
	return true
}

// Get: Neutron has no show of a zone (a 500); neutrino answers 404.
func (b backend) Get(context.Context, string, []string) (api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (b backend) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (b backend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (b backend) Delete(context.Context, string, *int64) error { return nerr.HTTPNotFound() }
