// Package plugin is neutrino's module registry, the counterpart of
// Neutron's plugin entry points: core and service plugins register
// themselves by name (ml2, router, segments, ...), the server instantiates
// those named by core_plugin and service_plugins, and each one declares its
// resources, the attributes it adds to other plugins' resources, and the API
// extension aliases it implements.
package plugin

import (
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/registry"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Plugin is a core or service plugin.
type Plugin interface {
	// Setup declares resources and extensions on env.
	Setup(env *Env) error
}

// Factory makes a plugin.
type Factory func() Plugin

// Register adds a plugin to the registry (namespace registry.Plugins)
// under name and optional alternative names (such as Neutron's class
// paths, e.g. neutron.plugins.ml2.plugin.Ml2Plugin).
func Register(name string, f Factory, alt ...string) {
	registry.Register(registry.Module{ID: registry.Plugins + "." + name, Aliases: alt, New: f})
}

// Names lists the registered plugins.
func Names() []string { return registry.Names(registry.Plugins) }

// Env is what plugins build on.
type Env struct {
	Config *config.Config
	DB     *db.DB
	Log    *slog.Logger
	// Bus carries the server's events (internal/events).
	Bus *events.Bus

	resources []*api.Resource
	byColl    map[string]*api.Resource
	tables    map[string]*store.Table
	exts      map[string]bool
	extFilter func(alias string) bool
	loaded    map[string]Plugin
	finishers []func() error
	values    map[any]any
}

// Set keeps a per-server value under key (an unexported type of the
// package that owns it): the parts a server made and their state live
// here, never in package variables.
func (e *Env) Set(key, v any) {
	if e.values == nil {
		e.values = map[any]any{}
	}
	e.values[key] = v
}

// Value returns what Set kept under key, or nil.
func (e *Env) Value(key any) any { return e.values[key] }

// NewEnv makes an empty environment.
func NewEnv(c *config.Config, d *db.DB, log *slog.Logger) *Env {
	return &Env{Config: c, DB: d, Log: log, Bus: events.NewBus(log),
		byColl: map[string]*api.Resource{}, tables: map[string]*store.Table{},
		exts: map[string]bool{}, loaded: map[string]Plugin{}}
}

// Load instantiates and sets up the named plugins, in order.
func (e *Env) Load(names ...string) error {
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		m, err := registry.Lookup(registry.Plugins, n)
		if err != nil {
			return fmt.Errorf("plugin %q is not available (have: %s)", n, strings.Join(Names(), ", "))
		}
		f, canonical := m.New.(Factory), m.Name()
		if _, done := e.loaded[canonical]; done {
			continue
		}
		p := f()
		e.loaded[canonical] = p
		if err := p.Setup(e); err != nil {
			return fmt.Errorf("plugin %s: %w", canonical, err)
		}
	}
	return nil
}

// neutronServicePlugins are the service plugin names (entry points) of
// Neutron's tree: one neutrino lacks is a start-up warning, so that an
// operator's files start; any other unknown name is an error.
var neutronServicePlugins = []string{"router", "ovn-router", "metering", "qos", "segments", "trunk", "port_forwarding",
	"flavors", "auto_allocate", "network_segment_range", "placement", "log", "local_ip", "ndp_proxy",
	"conntrack_helper", "tag", "timestamp", "revisions", "network_ip_availability", "loki", "vpnaas",
	"firewall_v2", "bgp", "taas", "address_group", "port_hints", "port_trusted"}

// LoadServicePlugins loads the service plugins named by service_plugins.
// A Neutron service plugin neutrino does not implement (yet) is not fatal:
// it is logged as a WARNING naming it, and the server starts without it.
// A name that is no Neutron plugin either fails, listing the names that
// exist.
func (e *Env) LoadServicePlugins(names ...string) error {
	for _, n := range names {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !Known(n) {
			if !slices.Contains(neutronServicePlugins, n) && !strings.Contains(n, ".") {
				return fmt.Errorf("service_plugins: unknown plugin %q (available: %s)", n, strings.Join(Names(), ", "))
			}
			e.Log.Warn(fmt.Sprintf("service plugin %q is not implemented by neutrino: ignored, its API is not served (have: %s)", n, strings.Join(Names(), ", ")))
			continue
		}
		if err := e.Load(n); err != nil {
			return err
		}
	}
	return nil
}

// Known reports whether a plugin name (or class path) is registered.
func Known(name string) bool { _, ok := registry.Get(registry.Plugins, name); return ok }

// Plugin returns a loaded plugin by name.
func (e *Env) Plugin(name string) Plugin { return e.loaded[name] }

// Loaded reports whether a plugin is loaded.
func (e *Env) Loaded(name string) bool { _, ok := e.loaded[name]; return ok }

// AddResource declares a resource served by the API, with its table.
func (e *Env) AddResource(r *api.Resource, t *store.Table) {
	e.resources = append(e.resources, r)
	e.byColl[r.Collection] = r
	if t != nil {
		e.tables[r.Collection] = t
		t.Bus = e.Bus
	}
}

// Resource returns a declared resource by collection name, or nil.
func (e *Env) Resource(collection string) *api.Resource { return e.byColl[collection] }

// Table returns the table of a collection, or nil.
func (e *Env) Table(collection string) *store.Table { return e.tables[collection] }

// Resources returns every declared resource.
func (e *Env) Resources() []*api.Resource { return e.resources }

// AddExtensions records implemented API extension aliases.
func (e *Env) AddExtensions(aliases ...string) {
	for _, a := range aliases {
		e.exts[a] = true
	}
}

// SetExtensionFilter installs the core plugin's filter of the aliases it
// serves (Neutron's Ml2Plugin asks its mechanism drivers which of its
// aliases they support): an alias keep refuses is not served, whoever
// declared it. Neutron filters only the core plugin's own list; here an
// alias is dropped whoever declares it, which gives the same list because
// the aliases the ovn driver drops are declared by nobody else (Zed's OVN
// L3 plugin also lists agent and availability_zone, which the driver keeps).
func (e *Env) SetExtensionFilter(keep func(alias string) bool) { e.extFilter = keep }

// HasExtension reports whether alias is implemented.
func (e *Env) HasExtension(alias string) bool {
	return e.exts[alias] && (e.extFilter == nil || e.extFilter(alias))
}

// ExtensionAliases returns the implemented aliases, sorted.
func (e *Env) ExtensionAliases() []string {
	out := make([]string, 0, len(e.exts))
	for a := range e.exts {
		if e.HasExtension(a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// OnFinish registers work to run once every plugin is set up (e.g. hooks
// that depend on another plugin's resources).
func (e *Env) OnFinish(f func() error) { e.finishers = append(e.finishers, f) }

// Tables returns every table by collection.
func (e *Env) Tables() map[string]*store.Table { return e.tables }

// Finish runs the OnFinish callbacks and finalizes resources and tables.
func (e *Env) Finish() error {
	// (a callback may add another, which runs after every one added before it)
	for i := 0; i < len(e.finishers); i++ {
		if err := e.finishers[i](); err != nil {
			return err
		}
	}
	for _, r := range e.resources {
		r.Finish()
	}
	for _, t := range e.tables {
		t.Init()
	}
	return nil
}
