// Package registry is neutrino's one registry of named parts, in the
// manner of Caddy's modules: every pluggable part (core and service
// plugins, ML2 type, mechanism and extension drivers, ML2 components, RBAC
// object types, schema migrations) registers a Module under a namespaced
// ID ("ml2.mechanism_drivers.ovn") from its package's init, and the
// configuration selects parts by name within a namespace
// (service_plugins = router → "plugins.router").
//
// The registry holds definitions only: what a part is and how to make
// one. The parts a server makes, and their state, live on that server's
// environment (plugin.Env), never in package variables, so two servers in
// one process share nothing but these definitions. Registering an ID or
// alias twice is a programming error and panics at start-up.
package registry

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Namespaces of the parts.
const (
	Plugins              = "plugins"
	TypeDrivers          = "ml2.type_drivers"
	MechanismDrivers     = "ml2.mechanism_drivers"
	ExtensionDrivers     = "ml2.extension_drivers"
	ML2Components        = "ml2.components"
	RBACObjectTypes      = "rbac.object_types"
	Migrations           = "db.migrations"
	unknownNamespaceHint = "(nothing registered)"
)

// Module is one named part.
type Module struct {
	// ID is "<namespace>.<name>"; the name is what configuration uses.
	ID string
	// Aliases are other names configuration may use for it in its
	// namespace (Neutron's entry point and class paths).
	Aliases []string
	// Order sorts the namespace's modules where order matters (ML2
	// components, migrations); ties sort by ID.
	Order int
	// New makes the part; its type is set by the namespace's owner
	// (e.g. func() plugin.Plugin for "plugins").
	New any
}

// Namespace returns the module's namespace.
func (m Module) Namespace() string {
	i := strings.LastIndexByte(m.ID, '.')
	if i < 0 {
		return ""
	}
	return m.ID[:i]
}

// Name returns the module's name within its namespace.
func (m Module) Name() string { return m.ID[strings.LastIndexByte(m.ID, '.')+1:] }

var (
	mu      sync.RWMutex
	modules = map[string]Module{} // by ID
	aliases = map[string]string{} // namespace + "\n" + alias → ID
)

// Register adds a module; a second module with the same ID, or an alias
// already taken in the namespace, panics.
func Register(m Module) {
	ns := m.Namespace()
	if ns == "" || m.Name() == "" || m.New == nil {
		panic(fmt.Sprintf("registry: module %q needs a namespaced ID and a constructor", m.ID))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := modules[m.ID]; dup {
		panic("registry: module registered twice: " + m.ID)
	}
	for _, a := range m.Aliases {
		k := ns + "\n" + a
		if other, dup := aliases[k]; dup || a == m.Name() {
			panic(fmt.Sprintf("registry: alias %q of %s already names %s", a, m.ID, other))
		}
	}
	for _, a := range m.Aliases {
		aliases[ns+"\n"+a] = m.ID
	}
	modules[m.ID] = m
}

// Get returns the module named name (or by one of its aliases) in
// namespace.
func Get(namespace, name string) (Module, bool) {
	mu.RLock()
	defer mu.RUnlock()
	if m, ok := modules[namespace+"."+name]; ok {
		return m, true
	}
	if id, ok := aliases[namespace+"\n"+name]; ok {
		return modules[id], true
	}
	return Module{}, false
}

// Lookup is Get with an error for unknown names that lists the names the
// namespace has, for start-up messages.
func Lookup(namespace, name string) (Module, error) {
	if m, ok := Get(namespace, name); ok {
		return m, nil
	}
	have := strings.Join(Names(namespace), ", ")
	if have == "" {
		have = unknownNamespaceHint
	}
	return Module{}, fmt.Errorf("%s: unknown name %q (available: %s)", namespace, name, have)
}

// Modules returns a namespace's modules by Order, then ID.
func Modules(namespace string) []Module {
	mu.RLock()
	var out []Module
	for id, m := range modules {
		if strings.HasPrefix(id, namespace+".") && m.Namespace() == namespace {
			out = append(out, m)
		}
	}
	mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Order != out[j].Order {
			return out[i].Order < out[j].Order
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Names returns a namespace's module names, sorted.
func Names(namespace string) []string {
	ms := Modules(namespace)
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name()
	}
	sort.Strings(out)
	return out
}
