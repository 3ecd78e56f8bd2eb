// Package flavors is Neutron's flavors service plugin with the service
// type manager (the flavors and service-type extensions; a default
// plugin, loaded whatever service_plugins says): /v2.0/flavors,
// /v2.0/service_profiles, the flavor ↔ profile bindings under
// /v2.0/flavors/{id}/service_profiles and /v2.0/service-providers.
//
// It is also the L3 provider choice (Neutron's router driver
// controller): when the router plugin is loaded, the L3 providers are
// listed, a router create is checked against its flavor_id's provider on
// the routers' BEFORE_CREATE event (RouterProvider is the check), and each
// router's provider is kept in providerresourceassociations.
package flavors

import (
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Name is the plugin's name (Neutron's entry point).
const Name = "flavors"

func init() {
	plugin.Register(Name, func() plugin.Plugin { return &Plugin{} },
		"neutron.services.flavors.flavors_plugin.FlavorsPlugin", "neutron.services.flavors.flavors_plugin:FlavorsPlugin")
}

// Plugin is the flavors plugin of one server.
type Plugin struct {
	env               *plugin.Env
	flavors, profiles *store.Table
	providers         []Provider
	users             []InUse
}

type pluginKey struct{}

// Of returns the flavors plugin of a server, or nil.
func Of(env *plugin.Env) *Plugin {
	p, _ := env.Value(pluginKey{}).(*Plugin)
	return p
}

func flavorNotFound(id string) error {
	return nerr.NotFound("FlavorNotFound", "Flavor %s could not be found.", id)
}

func profileNotFound(id string) error {
	return nerr.NotFound("ServiceProfileNotFound", "Service Profile %s could not be found.", id)
}

func tenantAttr() *api.Attribute {
	return &api.Attribute{Name: "tenant_id", AllowPost: true, Required: true, Validate: api.String(255),
		RequiredByPolicy: true, Visible: true}
}

func enabledAttr() *api.Attribute {
	return &api.Attribute{Name: "enabled", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBoolIfNotNone,
		Visible: true, IsFilter: true, IsSortKey: true}
}

// FlavorResource is /v2.0/flavors; serviceType checks service_type
// (type:service_plugin_type).
func FlavorResource(serviceType func(v any) error) *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "flavors", Name: "flavor", Collection: "flavors",
		NotFound: flavorNotFound,
		Attrs: []*api.Attribute{
			{Name: "id", Validate: api.UUID, Visible: true, IsFilter: true, IsSortKey: true, PrimaryKey: true},
			{Name: "name", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.StringOrNone(1024),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "service_type", AllowPost: true, Required: true, Validate: api.String(0), Check: serviceType,
				Visible: true, IsFilter: true, IsSortKey: true},
			tenantAttr(),
			{Name: "service_profiles", AllowPost: true, AllowPut: true, Default: []any{}, Validate: api.UUIDList, Visible: true},
			enabledAttr(),
		}}
}

// ProfileResource is /v2.0/service_profiles.
func ProfileResource() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "flavors", Name: "service_profile",
		Collection: "service_profiles", NotFound: profileNotFound,
		Attrs: []*api.Attribute{
			{Name: "id", Validate: api.UUID, Visible: true, IsFilter: true, IsSortKey: true, PrimaryKey: true},
			{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.StringOrNone(1024),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "driver", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(1024),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "metainfo", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(4096),
				Visible: true, IsSortKey: true},
			tenantAttr(),
			enabledAttr(),
		}}
}

// Setup declares flavors, service profiles, their bindings and the
// service providers.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	env.Set(pluginKey{}, p)
	fres := FlavorResource(p.checkServiceType)
	p.flavors = &store.Table{Name: "flavors", Res: fres, DB: env.DB, NoScope: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{{Attr: "id"}, {Attr: "name"}, {Attr: "description"}, {Attr: "service_type"},
			{Attr: "enabled", Kind: store.Bool},
			{Attr: "service_profiles", Kind: store.JSON, Null: []any{},
				Child: &store.ChildList{Table: "flavorserviceprofilebindings", KeyCol: "flavor_id", ValueCol: "service_profile_id"}}}}
	p.flavors.AddHooks(store.Hooks{BeforeCreate: dropInput, BeforeUpdate: p.beforeUpdateFlavor,
		BeforeDelete: p.beforeDeleteFlavor})
	env.AddResource(fres, p.flavors)
	env.AddResource(BindingResource(fres, env.DB), nil)
	pres := ProfileResource()
	p.profiles = &store.Table{Name: "serviceprofiles", Res: pres, DB: env.DB, NoScope: true, IgnoreUnknownMarker: true,
		Cols: []store.Column{{Attr: "id"}, {Attr: "description"}, {Attr: "driver"},
			{Attr: "enabled", Kind: store.Bool}, {Attr: "metainfo"}}}
	p.profiles.AddHooks(store.Hooks{BeforeCreate: p.beforeCreateProfile, BeforeUpdate: p.beforeUpdateProfile,
		BeforeDelete: p.beforeDeleteProfile})
	env.AddResource(pres, p.profiles)
	env.AddResource(p.providerResource(), nil)
	env.AddExtensions("flavors", "service-type")
	env.OnFinish(p.finish)
	return nil
}
