package testutil

import (
	"maps"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

// ReferenceConfig is the configuration neutron-up.sh gives the reference
// Neutron (Zed) the conformance answers were recorded from ("group.name" →
// value). Tests compare neutrino with it through ReferenceLike.
func ReferenceConfig() map[string]string {
	return map[string]string{
		"DEFAULT.service_plugins":             "router,segments,trunk,qos,port_forwarding",
		"DEFAULT.allow_overlapping_ips":       "true",
		"ml2.type_drivers":                    "flat,vlan,vxlan,geneve",
		"ml2.tenant_network_types":            "vxlan",
		"ml2.mechanism_drivers":               "openvswitch",
		"ml2.extension_drivers":               "port_security,dns,qos",
		"ml2_type_flat.flat_networks":         "*",
		"ml2_type_vlan.network_vlan_ranges":   "physnet1:100:200",
		"ml2_type_vxlan.vni_ranges":           "1:10000",
		"ml2_type_geneve.vni_ranges":          "1:10000",
		"securitygroup.enable_security_group": "true",
	}
}

// ReferenceLike is ReferenceConfig restricted to the options and service
// plugins neutrino has so far, plus overrides (their service_plugins
// restricted too): the Options.Set of a server to compare with the
// reference.
func ReferenceLike(overrides map[string]string) map[string]string {
	known := map[string]bool{}
	for _, o := range config.Options() {
		known[o.Group+"."+o.Name] = true
	}
	out := map[string]string{}
	for k, v := range ReferenceConfig() {
		if known[k] {
			out[k] = v
		}
	}
	maps.Copy(out, overrides)
	if v, ok := out["DEFAULT.service_plugins"]; ok {
		out["DEFAULT.service_plugins"] = KnownPlugins(v)
	}
	return out
}

// KnownPlugins keeps the plugins of a comma-separated list neutrino has.
func KnownPlugins(list string) string {
	have := map[string]bool{}
	for _, n := range plugin.Names() {
		have[n] = true
	}
	var keep []string
	for _, p := range strings.Split(list, ",") {
		if p = strings.TrimSpace(p); have[p] {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

// INI renders a "group.name" → value map as a configuration file, one
// section per group in sorted order ([DEFAULT] first), options sorted.
func INI(set map[string]string) string {
	groups := map[string][]string{}
	for k, v := range set {
		g, name, _ := strings.Cut(k, ".")
		groups[g] = append(groups[g], name+" = "+v)
	}
	names := slices.Sorted(maps.Keys(groups))
	if i := slices.Index(names, "DEFAULT"); i > 0 {
		names = append([]string{"DEFAULT"}, slices.Delete(names, i, i+1)...)
	}
	var b strings.Builder
	for _, g := range names {
		slices.Sort(groups[g])
		b.WriteString("[" + g + "]\n" + strings.Join(groups[g], "\n") + "\n")
	}
	return b.String()
}
