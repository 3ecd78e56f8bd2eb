package app

import (
	"log/slog"
	"strings"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

// The values of driver lists neutrino acts on. Anything else an operator's
// ml2_conf.ini names is reported at start as ignored (config.Implemented);
// a package that implements another driver declares it next to its code.
func init() {
	config.Implemented("ml2", "extension_drivers",
		"port_security", "dns", "dns_domain_ports", "dns_domain_keywords", "subnet_dns_publish_fixed_ip",
		"port_numa_affinity_policy", "port_device_profile", "tag_ports_during_bulk_creation")
	config.Implemented("ml2", "mechanism_drivers")
}

// builtinServicePlugins are Neutron service plugins whose API neutrino
// serves without being asked (Neutron loads them by default, too).
var builtinServicePlugins = map[string]bool{
	"tag": true, "timestamp": true, "revisions": true, "network_ip_availability": true,
	"neutron.services.tag.tag_plugin.TagPlugin":                                   true,
	"neutron.services.timestamp.timestamp_plugin.TimeStampPlugin":                 true,
	"neutron.services.revisions.revision_plugin.RevisionPlugin":                   true,
	"neutron.services.network_ip_availability.plugin.NetworkIPAvailabilityPlugin": true,
}

// defaultServicePlugins are the plugins of Neutron's
// DEFAULT_SERVICE_PLUGINS that are plugins of their own in neutrino:
// loaded after service_plugins, whatever it says.
var defaultServicePlugins = []string{"flavors", "auto_allocate"}

// loadDefaultServicePlugins loads the default plugins neutrino has.
func loadDefaultServicePlugins(env *plugin.Env) error {
	for _, n := range defaultServicePlugins {
		if plugin.Known(n) {
			if err := env.Load(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// servicePlugins is service_plugins without the names that are built in.
func servicePlugins(c *config.Config, log *slog.Logger) []string {
	var out []string
	for _, n := range c.List("DEFAULT", "service_plugins") {
		n = strings.TrimSpace(n)
		if builtinServicePlugins[n] && !plugin.Known(n) {
			log.Debug("service plugin is built in", "plugin", n)
			continue
		}
		out = append(out, n)
	}
	return out
}

// UnimplementedServicePlugins lists the service_plugins neutrino does not
// implement (for `neutrino db check`).
func UnimplementedServicePlugins(c *config.Config) []string {
	var out []string
	for _, n := range c.List("DEFAULT", "service_plugins") {
		if n = strings.TrimSpace(n); n != "" && !builtinServicePlugins[n] && !plugin.Known(n) {
			out = append(out, n)
		}
	}
	return out
}
