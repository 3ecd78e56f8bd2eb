package mechovn

// supportedExtensions is ML2_SUPPORTED_API_EXTENSIONS (neutron/common/ovn/extensions.py, Zed
// 21.0.0): of the core plugin's aliases, ML2 serves only these with the ovn driver. The others
// (dhcp_agent_scheduler, agent-resources-synced, subnet_onboard, subnetpool-prefix-ops,
// empty-string-filtering, ...) disappear from /v2.0/extensions with their resources and actions.
var supportedExtensions = map[string]bool{}

func init() {
	for _, a := range []string{"address-group", "address-scope", "agent", "allowed-address-pairs",
		"auto-allocated-topology", "availability_zone", "binding", "binding-extended", "default-subnetpools",
		"dns-integration", "external-net", "extra_dhcp_opt", "filter-validation", "multi-provider", "net-mtu",
		"net-mtu-writable", "network_availability_zone", "network-ip-availability", "port-device-profile",
		"port-mac-address-regenerate", "port-numa-affinity-policy", "port-security", "provider",
		"port-resource-request", "qos", "qos-bw-limit-direction", "qos-default", "qos-rule-type-details",
		"qos-rule-type-filter", "qos-rules-alias", "quotas", "quota-check-limit", "quota_details",
		"rbac-address-scope", "rbac-policies", "rbac-security-groups", "standard-attr-revisions",
		"security-group", "security-groups-normalized-cidr", "security-groups-remote-address-group",
		"security-groups-shared-filtering", "stateful-security-group", "standard-attr-description",
		"subnet_allocation", "standard-attr-tag", "standard-attr-timestamp", "subnet-service-types", "trunk",
		"segment", "expose-port-forwarding-in-fip", "floating-ip-port-forwarding-description",
		"floating-ip-port-forwarding-port-ranges", "floating-ip-port-forwarding", "vlan-transparent", "logging",
		"vpnaas", "vpn-endpoint-groups"} {
		supportedExtensions[a] = true
	}
}

// SupportsExtension is the driver's supported_extensions (ml2.ExtensionSupporter).
func (d *Driver) SupportsExtension(alias string) bool { return supportedExtensions[alias] }
