package ml2

import (
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	config.Register(
		&config.Option{Name: "max_allowed_address_pair", Type: config.Int, Default: "10",
			Help: "Maximum number of allowed address pairs per port."},
	)
}

// VNIC types of the binding extension.
var vnicTypes = []any{"normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder",
	"smart-nic", "vdpa", "accelerator-direct", "accelerator-direct-physical", "remote-managed"}

var blankableDHCPOpts = []string{"router", "classless-static-route"}

// Port is the port resource as Neutron Zed's ML2 declares it with the
// port_security and dns extension drivers (binding, allowed address pairs,
// extra DHCP options, ip_allocation, NUMA affinity, device profile,
// resource request, tags at creation).
func (p *Plugin) Port() *api.Resource {
	dnsDomain := func() string { return p.env.Config.String("DEFAULT", "dns_domain") }
	maxPairs := func() int { return p.env.Config.Int("DEFAULT", "max_allowed_address_pair") }
	edoSpecs := []map[string]api.KeySpec{
		{
			"opt_name":   {Required: true, Validate: api.Values("router", "classless-static-route")},
			"opt_value":  {Required: true, Validate: api.StringOrNone(255)},
			"ip_version": {Convert: api.ToInt, Validate: api.Values(4, 6)},
		},
		{
			"opt_name":   {Required: true, Validate: api.OnelineNotEmptyString(64)},
			"opt_value":  {Required: true, Validate: api.OnelineNotEmptyStringOrNone(255)},
			"ip_version": {Convert: api.ToInt, Validate: api.Values(4, 6)},
		},
	}
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		{Name: "network_id", AllowPost: true, Required: true, Validate: api.UUID, IsFilter: true, IsSortKey: true,
			Visible: true, RequiredByPolicy: true},
		api.TenantAttr(),
		{Name: "mac_address", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Validate: api.MacAddressOrNone, EnforcePolicy: true, IsFilter: true, IsSortKey: true, Visible: true,
			ConvertFilter: func(v any) (any, error) { return v, nil }},
		{Name: "admin_state_up", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "status", Visible: true, IsFilter: true, IsSortKey: true},
		// before device_owner, as in Neutron's attribute map (the order of
		// the attribute rules in policy errors)
		{Name: "fixed_ips", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Validate: api.FixedIPs,
			ConvertFilterList: api.KVPListToDict, EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "device_id", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255),
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "device_owner", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255),
			EnforcePolicy: true, IsFilter: true, IsSortKey: true, Visible: true},
		// port-security
		{Name: "port_security_enabled", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.ToBool, EnforcePolicy: true, Visible: true},
		// binding
		{Name: "binding:vnic_type", AllowPost: true, AllowPut: true, Default: "normal", Validate: api.Values(vnicTypes...),
			EnforcePolicy: true, Visible: true},
		{Name: "binding:profile", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Validate: api.DictOrNone,
			EnforcePolicy: true, Visible: true},
		{Name: "binding:host_id", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "binding:vif_type", Default: api.NotSpecified, EnforcePolicy: true, Visible: true},
		{Name: "binding:vif_details", Default: api.NotSpecified, EnforcePolicy: true, Visible: true},
		// allowed-address-pairs, extra_dhcp_opt
		{Name: "allowed_address_pairs", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.AllowedAddressPairs(maxPairs), EnforcePolicy: true, Visible: true},
		{Name: "extra_dhcp_opts", AllowPost: true, AllowPut: true, Default: nil,
			Convert: api.ListOfAnyKeySpecsOrNone(edoSpecs, []string{"opt_name", "opt_value", "ip_version"}), Visible: true},
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true},
		// dns-integration
		{Name: "dns_name", AllowPost: true, AllowPut: true, Default: "", Convert: CaseInsensitive,
			Validate: api.DNSHostName(255, dnsDomain), Visible: true},
		{Name: "dns_assignment", Visible: true},
		// ip_allocation, port-resource-request
		{Name: "ip_allocation", Visible: true, IsFilter: true, IsSortKey: true},
		{Name: "resource_request", Default: api.NotSpecified, Visible: true},
		// standard attributes; tags may be given at creation
		{Name: "tags", AllowPost: true, Default: []any{}, Validate: api.ListOfUniqueStrings(255), Visible: true, IsFilter: true},
		{Name: "created_at", Default: nil, Visible: true},
		{Name: "updated_at", Default: nil, Visible: true},
		{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		{Name: "tags-any", IsFilter: true},
		{Name: "not-tags", IsFilter: true},
		{Name: "not-tags-any", IsFilter: true},
		// port-numa-affinity-policy, port-device-profile
		{Name: "numa_affinity_policy", AllowPost: true, AllowPut: true, Default: nil,
			Validate: api.Values("required", "preferred", "legacy", nil), Visible: true},
		{Name: "device_profile", AllowPost: true, Default: nil, Validate: api.StringOrNone(255), Visible: true},
	}
	return &api.Resource{Name: "port", Collection: "ports", Attrs: attrs, AllowBulk: true, Tags: true}
}

// CaseInsensitive is convert_string_to_case_insensitive.
func CaseInsensitive(v any) (any, error) {
	if s, ok := v.(string); ok {
		return strings.ToLower(s), nil
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("Input value %s must be string type", pyfmt.Str(v)))
}

// PortNotFound is the port 404.
func PortNotFound(id string) error {
	return nerr.NotFound("PortNotFound", "Port %s could not be found.", id)
}

func (p *Plugin) setupPorts(env *plugin.Env) error {
	mac, err := parseBaseMAC(env.Config.String("DEFAULT", "base_mac"))
	if err != nil {
		return err
	}
	p.baseMAC = mac
	res := p.Port()
	res.NotFound = PortNotFound
	cols := []store.Column{
		{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
		{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
		{Attr: "network_id"}, {Attr: "mac_address"}, {Attr: "admin_state_up", Kind: store.Bool},
		{Attr: "status"}, {Attr: "device_id"}, {Attr: "device_owner"}, {Attr: "ip_allocation"},
		{Attr: "port_security_enabled", Kind: store.Bool}, {Attr: "dns_name"},
		{Attr: "binding:host_id", Name: "binding_host_id"}, {Attr: "binding:vnic_type", Name: "binding_vnic_type"},
		{Attr: "binding:profile", Name: "binding_profile", Kind: store.JSON, Null: map[string]any{}},
		{Attr: "binding:vif_type", Name: "binding_vif_type"},
		{Attr: "binding:vif_details", Name: "binding_vif_details", Kind: store.JSON, Null: map[string]any{}},
		// kept in the row (ipallocations remains the truth for addresses)
		{Attr: "fixed_ips", Kind: store.String, Null: ""}, // "subnet|address;..."
		{Attr: "allowed_address_pairs", Kind: store.JSON, Null: []any{}},
		{Attr: "extra_dhcp_opts", Kind: store.JSON, Null: []any{}},
	}
	if p.ExtensionDriverLoaded("port_numa_affinity_policy") {
		cols = append(cols, store.Column{Attr: "numa_affinity_policy"})
	}
	if p.ExtensionDriverLoaded("port_device_profile") {
		cols = append(cols, store.Column{Attr: "device_profile"})
	}
	t := &store.Table{
		Name: "ports", Res: res, DB: env.DB, Std: true, InitialRevision: 1,
		// every update is a new revision, even one that changes nothing
		Revisions: func(old, changes api.Object) int { return 1 },
		Cols:      cols,
		Filters: map[string]store.FilterFunc{
			"fixed_ips":   fixedIPsFilter,
			"mac_address": macFilter,
		},
	}
	t.AddHooks(store.Hooks{
		// the network first (lock order: store/lock.go), shared: port
		// writes on one network go on side by side
		Lock:         store.ParentLock("networks", "network_id", store.Shared),
		BeforeCreate: p.beforeCreatePort,
		AfterCreate:  p.afterCreatePort,
		BeforeUpdate: p.beforeUpdatePort,
		AfterUpdate: func(op *store.Op) error {
			// later hooks see the API form of fixed_ips
			if s, ok := op.New["fixed_ips"].(string); ok {
				op.New["fixed_ips"] = decodeFixedIPs(s)
			}
			if b, ok := op.Value(rebindKey{}).(*bindResult); ok {
				return writeBindingLevels(op.Ctx, op.Tx, op.ID, b.levels)
			}
			return nil
		},
		BeforeDelete: p.beforeDeletePort,
		Load:         p.loadPorts,
		Result:       p.portResult,
	})
	p.ports = t
	t.Init() // columns resolvable (Col) before env.Finish
	env.AddResource(res, t)
	p.OnNetworkDelete(p.networkDeleteCleanup)
	env.AddExtensions("binding", "binding-extended", "allowed-address-pairs", "extra_dhcp_opt", "ip_allocation",
		"ip-substring-filtering", "port-mac-address-regenerate", "port-resource-request", "port-resource-request-groups",
		"port-numa-affinity-policy", "port-device-profile")
	return nil
}

// Ports is the ports table.
func (p *Plugin) Ports() *store.Table { return p.ports }
