package ml2

// ExtensionSupporter is a mechanism driver that supports only some of the
// core plugin's API extensions (Neutron's MechanismDriver.
// supported_extensions; a driver without it supports them all).
type ExtensionSupporter interface {
	SupportsExtension(alias string) bool
}

// coreAliases are Ml2Plugin._supported_extension_aliases (Zed 21.0.0):
// the aliases the mechanism drivers filter, with those of the configured
// extension drivers (Ml2Plugin.supported_extension_aliases).
var coreAliases = map[string]bool{}

func init() {
	for _, a := range []string{"provider", "external-net", "binding", "quotas", "security-group",
		"rbac-address-scope", "rbac-address-group", "rbac-security-groups", "rbac-subnetpool", "agent",
		"dhcp_agent_scheduler", "multi-provider", "allowed-address-pairs", "extra_dhcp_opt", "subnet_allocation",
		"net-mtu", "net-mtu-writable", "vlan-transparent", "address-scope", "availability_zone",
		"network_availability_zone", "availability_zone_filter", "default-subnetpools", "subnet-service-types",
		"ip-substring-filtering", "security-groups-normalized-cidr", "port-security-groups-filtering",
		"security-groups-remote-address-group", "security-groups-shared-filtering", "empty-string-filtering",
		"filter-validation", "port-mac-address-regenerate", "binding-extended", "agent-resources-synced",
		"subnet_onboard", "subnetpool-prefix-ops", "stateful-security-group", "address-group",
		"port-numa-affinity-policy", "port-device-profile", "quota-check-limit", "port-mac-override"} {
		coreAliases[a] = true
	}
}

// Offers reports whether the server serves alias as far as the core
// plugin is concerned (Ml2Plugin._filter_extensions_by_mech_driver): one
// of its own aliases only when every mechanism driver supports it, any
// other alias always. Components ask it before they declare an
// extension's resources, attributes and actions, which Neutron does not
// load for an extension no plugin supports.
func (p *Plugin) Offers(alias string) bool {
	if !coreAliases[alias] && (p.ext == nil || !p.ext.aliases[alias]) || p.mech == nil {
		return true
	}
	for _, d := range p.mech.drivers {
		if s, ok := d.MechanismDriver.(ExtensionSupporter); ok && !s.SupportsExtension(alias) {
			return false
		}
	}
	return true
}
