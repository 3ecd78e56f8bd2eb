package flavors

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// L3 is the service type of the router plugin (plugin_constants.L3).
const L3 = "L3_ROUTER_NAT"

// Support is a provider's support of a router flag (Neutron's
// _FeatureFlag): Unsupported takes false only, Mandatory true only.
type Support int

// The supports.
const (
	Unsupported Support = iota
	Mandatory
	Optional
)

// compatible is _FeatureFlag.is_compatible.
func (s Support) compatible(v bool) bool {
	return s == Optional || (s == Mandatory) == v
}

// Provider is a service provider (the service type manager's entries).
type Provider struct {
	ServiceType, Name, Driver string
	Default                   bool
	// Distributed and HA are what an L3 provider supports.
	Distributed, HA Support
}

const l3DriverPrefix = "neutron.services.l3_router.service_providers."

// l3Providers are the L3 providers the router plugin adds
// (_LegacyPlusProviderConfiguration), in its order.
var l3Providers = []Provider{
	{ServiceType: L3, Name: "dvrha", Driver: l3DriverPrefix + "dvrha.DvrHaDriver", Distributed: Mandatory, HA: Mandatory},
	{ServiceType: L3, Name: "dvr", Driver: l3DriverPrefix + "dvr.DvrDriver", Distributed: Mandatory, HA: Unsupported},
	{ServiceType: L3, Name: "ha", Driver: l3DriverPrefix + "ha.HaDriver", Distributed: Unsupported, HA: Mandatory},
	{ServiceType: L3, Name: "single_node", Driver: l3DriverPrefix + "single_node.SingleNodeDriver",
		Distributed: Unsupported, HA: Unsupported},
}

// serviceTypes are the plugin types (get_plugin_type) of the plugins
// neutrino has, by plugin name; a flavor's service_type must name a
// loaded one.
var serviceTypes = map[string]string{
	"router": L3, "qos": "QOS", "trunk": "trunk", "segments": "segments", "metering": "METERING",
	"port_forwarding": "port_forwarding", Name: "FLAVORS", "auto_allocate": "auto-allocated-topology",
}

// finish adds the L3 providers when the router plugin is loaded (as
// Neutron's L3 driver controller does) and wires the router checks.
func (p *Plugin) finish() error {
	if p.env.Loaded("router") {
		p.AddProviders(L3Providers()...)
	}
	return p.wireRouters()
}

// L3Providers are the L3 providers the router plugin brings.
func L3Providers() []Provider { return slices.Clone(l3Providers) }

// AddProviders registers service providers (the service type manager's
// add_provider).
func (p *Plugin) AddProviders(prs ...Provider) { p.providers = append(p.providers, prs...) }

// Providers returns the service providers of a type ("" = all).
func (p *Plugin) Providers(serviceType string) []Provider {
	var out []Provider
	for _, pr := range p.providers {
		if serviceType == "" || pr.ServiceType == serviceType {
			out = append(out, pr)
		}
	}
	return out
}

// checkServiceType is validate_service_plugin_type.
func (p *Plugin) checkServiceType(v any) error {
	s, _ := v.(string)
	for name, typ := range serviceTypes {
		if typ == s && p.env.Loaded(name) {
			return nil
		}
	}
	return nerr.Typed(400, "InvalidServiceType", "Invalid service type: %s.", s)
}

// validateDriver is _validate_driver: a driver of a registered provider.
func (p *Plugin) validateDriver(driver string) error {
	for _, pr := range p.providers {
		if pr.Driver == driver {
			return nil
		}
	}
	return nerr.NotFound("ServiceProfileDriverNotFound", "Service Profile driver %s could not be found.", driver)
}

// providerResource is /v2.0/service-providers (list only; the service
// type manager ignores sorting and pagination and filters on any key).
func (p *Plugin) providerResource() *api.Resource {
	r := &api.Resource{ExtensionController: true, Extension: "service-type", Name: "service_provider",
		Collection: "service_providers", Path: "service-providers", NoSorting: true, NoPagination: true, AnyFilter: true,
		NoCreate: true, NoUpdate: true, NoDelete: true,
		Attrs: []*api.Attribute{
			{Name: "service_type", Visible: true},
			{Name: "name", Visible: true},
			{Name: "default", Visible: true},
		}}
	r.Backend = providerBackend{p}
	return r
}

// providerBackend lists the providers (get_service_providers).
type providerBackend struct{ p *Plugin }

func (b providerBackend) List(_ context.Context, q *api.Query) ([]api.Object, error) {
	var out []api.Object
	for _, pr := range b.p.providers {
		o := api.Object{"service_type": pr.ServiceType, "name": pr.Name, "default": pr.Default, "driver": pr.Driver}
		if matches(o, q.Filters) {
			out = append(out, o)
		}
	}
	return out, nil
}

// matches is the service type manager's filter: every filtered key's
// value is one of the filter's values.
func matches(o api.Object, filters []api.Filter) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(f.Values, func(v any) bool { return v == o[f.Attr] }) {
			return false
		}
	}
	return true
}

func (providerBackend) Get(context.Context, string, []string) (api.Object, error) {
	return nil, nerr.HTTPNotFound()
}

func (providerBackend) Create(context.Context, []api.Object) ([]api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (providerBackend) Update(context.Context, string, api.Object, *int64) (api.Object, error) {
	return nil, nerr.HTTPMethodNotAllowed()
}

func (providerBackend) Delete(context.Context, string, *int64) error {
	return nerr.HTTPMethodNotAllowed()
}
