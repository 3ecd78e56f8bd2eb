package ml2

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
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
		{Name: "dns_name", AllowPost: true, AllowPut: true, Default: "", Convert: caseInsensitive,
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

// caseInsensitive is convert_string_to_case_insensitive.
func caseInsensitive(v any) (any, error) {
	if s, ok := v.(string); ok {
		return strings.ToLower(s), nil
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("Input value %s must be string type", api.PyStr(v)))
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

// ---- MAC addresses ----

// parseBaseMAC reads [DEFAULT] base_mac: the first three octets are kept,
// and the fourth when it is not zero.
func parseBaseMAC(s string) ([]byte, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return nil, fmt.Errorf("[DEFAULT] base_mac: %q is not a MAC address", s)
	}
	var out []byte
	for i, part := range parts {
		n, err := strconv.ParseUint(part, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("[DEFAULT] base_mac: %q is not a MAC address", s)
		}
		if i < 3 || (i == 3 && n != 0) {
			out = append(out, byte(n))
		}
	}
	return out, nil
}

func (p *Plugin) randomMAC() string {
	var m [6]byte
	rand.Read(m[:])
	copy(m[:], p.baseMAC)
	return ipam.FormatMAC(m)
}

// macKey is the form MACs are compared in (sanitized, lower case).
func macKey(s string) string { return strings.ToLower(api.SanitizeMAC(s)) }

// claimMAC reserves a MAC on a network; false when it is in use.
func claimMAC(ctx context.Context, tx *db.Tx, netID, mac, portID string) (bool, error) {
	pre, post := tx.Dialect().InsertIgnore()
	res, err := tx.Exec(ctx, pre+" INTO port_macs (network_id, mac_address, port_id) VALUES (?, ?, ?)"+post, netID, macKey(mac), portID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func releaseMAC(ctx context.Context, tx *db.Tx, netID, mac string) error {
	_, err := tx.Exec(ctx, "DELETE FROM port_macs WHERE network_id = ? AND mac_address = ?", netID, macKey(mac))
	return err
}

func macInUse(netID, mac string) error {
	return nerr.Conflict("MacAddressInUse", "Unable to complete operation for network %s. The mac address %s is in use.", netID, mac)
}

// assignMAC claims the requested MAC, or generates one.
func (p *Plugin) assignMAC(ctx context.Context, tx *db.Tx, netID, portID string, requested any) (string, error) {
	if s, ok := requested.(string); ok {
		ok, err := claimMAC(ctx, tx, netID, s, portID)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", macInUse(netID, s)
		}
		return s, nil
	}
	for i := 0; i < 32; i++ {
		mac := p.randomMAC()
		ok, err := claimMAC(ctx, tx, netID, mac, portID)
		if err != nil || ok {
			return mac, err
		}
	}
	return "", nerr.ServiceUnavailable("Unable to generate a unique MAC address on network %s.", netID)
}

// ---- network lookups ----

type netInfo struct {
	ID, ProjectID string
	PortSecurity  bool
}

// visibleNetwork reads the network of a port as the caller may see it.
func (p *Plugin) visibleNetwork(ctx context.Context, q db.Querier, id string) (*netInfo, error) {
	query := "SELECT t.id, t.project_id, t.port_security_enabled FROM networks t WHERE t.id = ?"
	args := []any{id}
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin {
		cond, cargs := sharing.VisibleCond("network", "t.id", rc.ProjectID, "")
		query += " AND (t.project_id = ? OR " + cond + ")"
		args = append(append(args, rc.ProjectID), cargs...)
	}
	var n netInfo
	var project *string
	var ps any
	if err := q.QueryRow(ctx, query, args...).Scan(&n.ID, &project, &ps); errors.Is(err, sql.ErrNoRows) {
		return nil, nerr.NotFound("NetworkNotFound", "Network %s could not be found.", id)
	} else if err != nil {
		return nil, err
	}
	n.ProjectID = nullStr(project)
	n.PortSecurity = dbBool(ps)
	return &n, nil
}

// ---- create ----

type portCreateState struct {
	fixedIPs     any // []any or nil (not given)
	pairs        []any
	pairsGiven   bool
	dhcpOpts     []any
	tags         []any
	subnets      []*subnetInfo
	hostSet      bool
	binding      *bindResult
	deviceOwner  string
	macParsed    [6]byte
	networkOwner string
}

type portCreateKey struct{}

// hiddenRevisionKey: the update answer shows revision_number - 1.
type hiddenRevisionKey struct{}

func (p *Plugin) beforeCreatePort(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	netID, _ := obj["network_id"].(string)
	net, err := p.visibleNetwork(ctx, tx, netID)
	if err != nil {
		return err
	}
	id := obj["id"].(string)
	mac, err := p.assignMAC(ctx, tx, netID, id, obj["mac_address"])
	if err != nil {
		return err
	}
	obj["mac_address"] = mac
	obj["status"] = "DOWN"
	if _, ok := obj["port_security_enabled"]; !ok {
		// trusted (network:*) ports have no port security by default
		owner, _ := obj["device_owner"].(string)
		obj["port_security_enabled"] = net.PortSecurity && !strings.HasPrefix(owner, ownerNetworkPrefix)
	}
	st := &portCreateState{}
	st.fixedIPs = obj["fixed_ips"]
	if v, ok := obj["allowed_address_pairs"]; ok {
		st.pairs, _ = v.([]any)
		st.pairsGiven = true
	}
	st.dhcpOpts, _ = obj["extra_dhcp_opts"].([]any)
	if p.ExtensionDriverLoaded("tag_ports_during_bulk_creation") {
		st.tags, _ = obj["tags"].([]any)
	}
	st.deviceOwner, _ = obj["device_owner"].(string)
	st.macParsed, _ = ipam.ParseMAC(mac)
	// binding
	host := ""
	if h, ok := obj["binding:host_id"]; ok && h != nil {
		host = api.PyStr(h)
	}
	obj["binding:host_id"] = host
	st.hostSet = host != ""
	if prof, ok := obj["binding:profile"]; !ok || prof == nil {
		obj["binding:profile"] = map[string]any{}
	} else if err := checkProfileSize(prof); err != nil {
		return err
	}
	obj["binding:vif_type"] = VIFUnbound
	if st.hostSet {
		b, err := p.bindPort(ctx, tx, obj, host)
		if err != nil {
			return err
		}
		obj["binding:vif_type"], st.binding = b.vifType, b
	}
	if !p.dnsNamesStored() {
		obj["dns_name"] = ""
	}
	if !p.ExtensionDriverLoaded("port_numa_affinity_policy") {
		delete(obj, "numa_affinity_policy")
	}
	if !p.ExtensionDriverLoaded("port_device_profile") {
		delete(obj, "device_profile")
	}
	// addresses (ipallocations rows first; the port row keeps a copy)
	fixedGiven := st.fixedIPs != nil && st.fixedIPs != api.NotSpecified
	var fixed []any
	if fixedGiven {
		fixed, _ = st.fixedIPs.([]any)
	}
	alloc, ips, err := p.allocatePortIPs(ctx, tx, id, netID, st.deviceOwner, st.macParsed, st.hostSet, fixedGiven, fixed)
	if err != nil {
		return err
	}
	if fixedGiven && len(fixed) == 0 {
		alloc = "none"
	}
	obj["ip_allocation"] = alloc
	obj["fixed_ips"] = encodeFixedIPs(ips)
	ps, _ := obj["port_security_enabled"].(bool)
	if st.pairsGiven && len(st.pairs) > 0 && !ps {
		return nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	obj["allowed_address_pairs"] = nilIfEmpty(normalizePairs(st.pairs, mac))
	opts, _ := mergeDHCPOpts(nil, st.dhcpOpts)
	obj["extra_dhcp_opts"] = nilIfEmpty(opts)
	obj["binding:profile"] = nilIfEmpty(obj["binding:profile"])
	obj["binding:vif_details"] = nil
	if st.binding != nil {
		obj["binding:vif_details"] = nilIfEmpty(st.binding.vifDetails)
	}
	if st.hostSet {
		// the binding attempt after the create is one more revision
		obj["revision_number"] = obj["revision_number"].(int64) + 1
	}
	op.Set(portCreateKey{}, st)
	return nil
}

// fixedIP is one address of a port.
type fixedIP struct{ subnetID, ip string }

// encodeFixedIPs writes a port's addresses, in Neutron's order (by
// address), as the row keeps them: "subnet|address;subnet|address".
func encodeFixedIPs(ips []fixedIP) string {
	sort.Slice(ips, func(i, j int) bool {
		if ips[i].ip != ips[j].ip {
			return ips[i].ip < ips[j].ip
		}
		return ips[i].subnetID < ips[j].subnetID
	})
	var b strings.Builder
	for i, f := range ips {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(f.subnetID)
		b.WriteByte('|')
		b.WriteString(f.ip)
	}
	return b.String()
}

// decodeFixedIPs is the API form of the row's fixed_ips.
func decodeFixedIPs(s string) []any {
	if s == "" {
		return []any{}
	}
	out := make([]any, 0, strings.Count(s, ";")+1)
	for len(s) > 0 {
		item, rest, _ := strings.Cut(s, ";")
		sub, ip, _ := strings.Cut(item, "|")
		out = append(out, map[string]any{"subnet_id": sub, "ip_address": ip})
		s = rest
	}
	return out
}

// nilIfEmpty stores empty lists and dicts as NULL (cheaper to read).
func nilIfEmpty(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) == 0 {
			return nil
		}
	case map[string]any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// normalizePairs gives address pairs the port's MAC when they have none,
// without duplicates, in Neutron's order (MAC, address).
func normalizePairs(pairs []any, portMAC string) []any {
	type pair struct{ mac, ip string }
	seen := map[pair]bool{}
	var list []pair
	for _, e := range pairs {
		m, _ := e.(map[string]any)
		pr := pair{portMAC, api.PyStr(m["ip_address"])}
		if s, ok := m["mac_address"].(string); ok {
			pr.mac = s
		}
		if !seen[pr] {
			seen[pr] = true
			list = append(list, pr)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].mac != list[j].mac {
			return list[i].mac < list[j].mac
		}
		return list[i].ip < list[j].ip
	})
	out := make([]any, len(list))
	for i, pr := range list {
		out[i] = map[string]any{"mac_address": pr.mac, "ip_address": pr.ip}
	}
	return out
}

// visibleUpdateAttrs are the attributes whose update shows in the
// revision_number of Neutron's answer; other updates (and the binding
// attempt of a port with a host) bump the revision after the answer is made.
var visibleUpdateAttrs = []string{"name", "description", "admin_state_up", "device_id", "device_owner",
	"mac_address", "port_security_enabled", "fixed_ips", "security_groups", "qos_policy_id"}

// portResult gives create and update answers Neutron's revision_number:
// the stored one minus the bumps Neutron makes after building its answer.
func (p *Plugin) portResult(op *store.Op, obj api.Object) {
	rev, ok := obj["revision_number"].(int64)
	if !ok {
		return
	}
	if op.Old == nil {
		if host, _ := obj["binding:host_id"].(string); host != "" {
			obj["revision_number"] = rev - 1
		}
		return
	}
	if hidden, _ := op.Value(hiddenRevisionKey{}).(bool); hidden {
		obj["revision_number"] = rev - 1
	}
}

func checkProfileSize(prof any) error {
	b := api.AppendJSONSpaced(nil, prof)
	if len(b) > 4095 {
		return nerr.InvalidInput("binding:profile value too large")
	}
	return nil
}

// dnsNamesStored: with the default dns_domain (openstacklocal) Neutron
// ignores the dns_name of ports.
func (p *Plugin) dnsNamesStored() bool {
	d := p.env.Config.String("DEFAULT", "dns_domain")
	return d != "" && strings.TrimSuffix(d, ".") != "openstacklocal"
}

func (p *Plugin) afterCreatePort(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	// later hooks see the API form of fixed_ips
	if s, ok := obj["fixed_ips"].(string); ok {
		obj["fixed_ips"] = decodeFixedIPs(s)
	}
	st, _ := op.Value(portCreateKey{}).(*portCreateState)
	if st == nil {
		return nil
	}
	id := obj["id"].(string)
	if st.binding != nil && len(st.binding.levels) > 0 {
		if err := writeBindingLevels(ctx, tx, id, st.binding.levels); err != nil {
			return err
		}
	}
	for _, tg := range st.tags {
		if _, err := tx.Exec(ctx, "INSERT INTO tags (resource_id, tag) VALUES (?, ?)", id, api.PyStr(tg)); err != nil {
			return err
		}
	}
	return nil
}

func validDHCPOptValue(name string, v any) bool {
	if in(name, blankableDHCPOpts) {
		return v != nil
	}
	s, ok := v.(string)
	return ok && s != ""
}

// mergeDHCPOpts applies requested extra DHCP options to the current
// ones: a null value deletes an option (same name and IP version), others
// replace or add theirs; it reports whether anything changed.
func mergeDHCPOpts(cur []any, req []any) ([]any, bool) {
	type key struct {
		name string
		ver  int64
	}
	vals := map[key]string{}
	var order []key
	for _, e := range cur {
		m, _ := e.(map[string]any)
		v, _ := api.PyInt(m["ip_version"])
		k := key{api.PyStr(m["opt_name"]), v}
		if _, dup := vals[k]; !dup {
			order = append(order, k)
		}
		vals[k] = api.PyStr(m["opt_value"])
	}
	changed := false
	for _, e := range req {
		m, _ := e.(map[string]any)
		k := key{api.PyStr(m["opt_name"]), 4}
		if v, ok := m["ip_version"]; ok && v != nil {
			k.ver, _ = api.PyInt(v)
		}
		val := m["opt_value"]
		if old, exists := vals[k]; exists {
			if val == nil {
				delete(vals, k)
				changed = true
			} else if validDHCPOptValue(k.name, val) && api.PyStr(val) != old {
				vals[k] = api.PyStr(val)
				changed = true
			}
			continue
		}
		if validDHCPOptValue(k.name, val) {
			vals[k] = api.PyStr(val)
			order = append(order, k)
			changed = true
		}
	}
	var keys []key
	for _, k := range order {
		if _, ok := vals[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i].name != keys[j].name {
			return keys[i].name < keys[j].name
		}
		return keys[i].ver < keys[j].ver
	})
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]any{"opt_name": k.name, "opt_value": vals[k], "ip_version": k.ver})
	}
	return out, changed
}

// ---- IP allocation ----

// fixedReq is one entry of a port's fixed_ips request.
type fixedReq struct {
	subnetID string
	ip       string
	hasIP    bool
	hasSub   bool
}

func parseFixed(list []any) []fixedReq {
	out := make([]fixedReq, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		var f fixedReq
		if v, ok := m["subnet_id"]; ok {
			f.subnetID, f.hasSub = api.PyStr(v), true
		}
		if v, ok := m["ip_address"]; ok {
			f.ip, f.hasIP = api.PyStr(v), true
		}
		out = append(out, f)
	}
	return out
}

// candidateSubnets is find_candidate_subnets for a port without a known
// segment host mapping (neutrino has no agents): subnets serving the device
// owner, not on segments unless fixed IPs name them.
func candidateSubnets(all []*subnetInfo, owner string, hostSet, fixedGiven bool, fixed []fixedReq) ([]*subnetInfo, error) {
	var served []*subnetInfo
	for _, s := range all {
		if s.serves(owner) {
			served = append(served, s)
		}
	}
	if !hostSet && fixedGiven {
		var seg *string
		for _, f := range fixed {
			var sub *subnetInfo
			if f.hasSub {
				for _, s := range served {
					if s.ID == f.subnetID {
						sub = s
					}
				}
				if sub == nil {
					return served, nil
				}
			} else if f.hasIP {
				a, err := netip.ParseAddr(f.ip)
				if err == nil {
					for _, s := range served {
						if s.Prefix.Contains(a) {
							sub = s
							break
						}
					}
				}
				if sub == nil {
					return served, nil
				}
			}
			if sub != nil {
				if seg != nil && *seg != sub.SegmentID {
					return nil, nerr.New(400, "FixedIpsSubnetsNotOnSameSegment", "Cannot allocate addresses from different segments.")
				}
				s := sub.SegmentID
				seg = &s
			}
		}
		want := ""
		if seg != nil {
			want = *seg
		}
		var out []*subnetInfo
		for _, s := range served {
			if s.SegmentID == want {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []*subnetInfo
	for _, s := range served {
		if s.SegmentID == "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// errDeferIpam marks a port whose addresses wait for its host.
var errDeferIpam = fmt.Errorf("defer ipam")

// ipamSubnets is _ipam_get_subnets: the candidate subnets, those with
// service types first; errDeferIpam or Neutron's errors when none.
func ipamSubnets(all []*subnetInfo, netID, owner string, hostSet, fixedGiven bool, fixed []fixedReq) ([]*subnetInfo, error) {
	subs, err := candidateSubnets(all, owner, hostSet, fixedGiven, fixed)
	if err != nil {
		return nil, err
	}
	if len(subs) > 0 {
		sort.SliceStable(subs, func(i, j int) bool { return len(subs[i].ServiceTypes) > 0 && len(subs[j].ServiceTypes) == 0 })
		return subs, nil
	}
	if hostSet {
		for _, s := range all {
			if s.SegmentID != "" {
				return nil, nerr.Conflict("HostNotConnectedToAnySegment", "Host %s is not connected to any segments on routed provider network '%s'.  It should be connected to one.", "", netID)
			}
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	for _, s := range all {
		if s.serves(owner) {
			return nil, errDeferIpam
		}
	}
	return nil, nerr.Conflict("IpAddressGenerationFailureNoMatchingSubnet", "No valid service subnet for the given device owner, network %s, service type %s.", netID, owner)
}

func ipGenerationFailure(netID string) error {
	return nerr.Conflict("IpAddressGenerationFailure", "No more IP addresses available on network %s.", netID)
}

// ipRequest is one address to allocate: a specific address, any address
// from one of several subnets, or an EUI-64 address.
type ipRequest struct {
	subnets []*subnetInfo // any of these (in order)
	ip      netip.Addr    // specific (or EUI-64) address
}

// testFixedIPs is _test_fixed_ips_for_port.
func (p *Plugin) testFixedIPs(ctx context.Context, q db.Querier, netID, owner string, fixed []fixedReq, subs []*subnetInfo) ([]ipRequest, error) {
	var out []ipRequest
	for _, f := range fixed {
		s, err := p.subnetForFixedIP(ctx, q, netID, owner, f, subs)
		if err != nil {
			return nil, err
		}
		auto := s.autoAddress()
		if f.hasIP {
			if auto && !in(owner, routerInterfaceOwners) {
				return nil, nerr.New(400, "AllocationOnAutoAddressSubnet", "IPv6 address %s cannot be directly assigned to a port on subnet %s as the subnet is configured for automatic addresses", f.ip, s.ID)
			}
			a, _ := netip.ParseAddr(f.ip)
			out = append(out, ipRequest{subnets: []*subnetInfo{s}, ip: a})
		} else if in(owner, routerInterfaceOwnersSNAT) || !auto {
			out = append(out, ipRequest{subnets: []*subnetInfo{s}})
		}
	}
	return out, nil
}

// subnetForFixedIP is _get_subnet_for_fixed_ip.
func (p *Plugin) subnetForFixedIP(ctx context.Context, q db.Querier, netID, owner string, f fixedReq, subs []*subnetInfo) (*subnetInfo, error) {
	if len(subs) == 0 {
		return nil, nerr.InvalidInput("IP allocation requires subnets for network")
	}
	if f.hasSub {
		for _, s := range subs {
			if s.ID == f.subnetID {
				if f.hasIP {
					a, err := netip.ParseAddr(f.ip)
					if err != nil || !ipam.CheckSubnetIP(s.Prefix, a, owner) {
						return nil, nerr.New(400, "InvalidIpForSubnet", "IP address %s is not a valid IP for the specified subnet.", f.ip)
					}
				}
				return s, nil
			}
		}
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM subnets WHERE id = ?", f.subnetID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, SubnetNotFound(f.subnetID)
		}
		return nil, nerr.InvalidInput(fmt.Sprintf("Failed to create port on network %s, because fixed_ips included invalid subnet %s", netID, f.subnetID))
	}
	if !f.hasIP {
		return nil, nerr.InvalidInput("IP allocation requires subnet_id or ip_address")
	}
	a, err := netip.ParseAddr(f.ip)
	if err == nil {
		for _, s := range subs {
			if ipam.CheckSubnetIP(s.Prefix, a, owner) {
				return s, nil
			}
		}
	}
	return nil, nerr.New(400, "InvalidIpForNetwork", "IP address %s is not a valid IP for any of the subnets on the specified network.", f.ip)
}

// autoAddressRequests are the EUI-64 addresses of a port on the network's
// SLAAC / DHCPv6-stateless subnets (none for router ports).
func autoAddressRequests(subs []*subnetInfo, owner string, mac [6]byte, exclude map[string]bool) []ipRequest {
	if in(owner, routerInterfaceOwnersSNAT) {
		return nil
	}
	var out []ipRequest
	for _, s := range subs {
		if s.autoAddress() && !exclude[s.ID] {
			out = append(out, ipRequest{subnets: []*subnetInfo{s}, ip: ipam.EUI64(s.Prefix, mac)})
		}
	}
	return out
}

// allocate claims addresses for a port: specific ones first, then any
// address from each group of subnets.
func (p *Plugin) allocate(ctx context.Context, tx *db.Tx, portID, netID, owner string, reqs []ipRequest) ([]fixedIP, error) {
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].ip.IsValid() && !reqs[j].ip.IsValid() })
	var out []fixedIP
	for _, r := range reqs {
		if r.ip.IsValid() {
			s := r.subnets[0]
			ok, err := ipam.Insert(ctx, tx, s.ipam(), r.ip, portID)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nerr.Conflict("IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", ipam.Format(r.ip), s.ID)
			}
			out = append(out, fixedIP{s.ID, ipam.Format(r.ip)})
			continue
		}
		done := false
		for _, s := range r.subnets {
			a, ok, err := ipam.AllocateAny(ctx, tx, s.ipam(), portID, owner == OwnerDHCP || owner == OwnerDistributed)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, fixedIP{s.ID, ipam.Format(a)})
				done = true
				break
			}
		}
		if !done {
			return nil, ipGenerationFailure(netID)
		}
	}
	return out, nil
}

// allocatePortIPs is _allocate_ips_for_port; it returns ip_allocation and
// the addresses given.
func (p *Plugin) allocatePortIPs(ctx context.Context, tx *db.Tx, portID, netID, owner string, mac [6]byte, hostSet, fixedGiven bool, fixedList []any) (string, []fixedIP, error) {
	all, err := networkSubnets(ctx, tx, "s.network_id = ?", netID)
	if err != nil {
		return "", nil, err
	}
	fixed := parseFixed(fixedList)
	subs, err := ipamSubnets(all, netID, owner, hostSet, fixedGiven, fixed)
	if err == errDeferIpam {
		return "deferred", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	var reqs []ipRequest
	if fixedGiven {
		if reqs, err = p.testFixedIPs(ctx, tx, netID, owner, fixed, subs); err != nil {
			return "", nil, err
		}
	} else {
		var v4, v6 []*subnetInfo
		for _, s := range subs {
			switch {
			case s.IPVersion == 4:
				v4 = append(v4, s)
			case !s.autoAddress():
				v6 = append(v6, s)
			}
		}
		if len(v4) > 0 {
			reqs = append(reqs, ipRequest{subnets: v4})
		}
		if len(v6) > 0 {
			reqs = append(reqs, ipRequest{subnets: v6})
		}
	}
	reqs = append(reqs, autoAddressRequests(subs, owner, mac, nil)...)
	ips, err := p.allocate(ctx, tx, portID, netID, owner, reqs)
	return "immediate", ips, err
}

// portFixedIPs reads a port's addresses from ipallocations.
func portFixedIPs(ctx context.Context, q db.Querier, portID string) ([]fixedIP, error) {
	rows, err := q.Query(ctx, "SELECT subnet_id, ip_address FROM ipallocations WHERE port_id = ?", portID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fixedIP
	for rows.Next() {
		var f fixedIP
		if err := rows.Scan(&f.subnetID, &f.ip); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// syncFixedIPs rewrites the fixed_ips copy of ports after their
// allocations changed elsewhere (subnet deletion, SLAAC addresses).
func syncFixedIPs(ctx context.Context, tx *db.Tx, portIDs []string) error {
	for _, id := range portIDs {
		ips, err := portFixedIPs(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE ports SET fixed_ips = ? WHERE id = ?", encodeFixedIPs(ips), id); err != nil {
			return err
		}
	}
	return nil
}

// ---- update ----

func (p *Plugin) beforeUpdatePort(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	id := old["id"].(string)
	netID := old["network_id"].(string)
	owner, _ := old["device_owner"].(string)
	if o, ok := ch["device_owner"].(string); ok {
		owner = o
	}
	oldMAC, _ := old["mac_address"].(string)
	// MAC changes (null regenerates one: port-mac-address-regenerate)
	macChanged := false
	if v, ok := ch["mac_address"]; ok {
		newMAC, _ := v.(string)
		if v == nil || api.SanitizeMAC(newMAC) != api.SanitizeMAC(oldMAC) {
			if strings.HasPrefix(owner, ownerNetworkPrefix) && owner != "" {
				return nerr.Conflict("UnsupportedPortDeviceOwner", "Operation %s is not supported for device_owner %s on port %s.", "mac address update", owner, "<built-in function id>")
			}
			if err := releaseMAC(ctx, tx, netID, oldMAC); err != nil {
				return err
			}
			mac, err := p.assignMAC(ctx, tx, netID, id, v)
			if err != nil {
				return err
			}
			ch["mac_address"] = mac
			macChanged = true
		} else {
			delete(ch, "mac_address")
		}
	}
	if err := p.updatePortIPs(ctx, tx, old, ch, owner, macChanged); err != nil {
		return err
	}
	// port security and address pairs
	ps, _ := old["port_security_enabled"].(bool)
	if v, ok := ch["port_security_enabled"].(bool); ok {
		ps = v
	}
	var pairs []any
	pairsGiven := false
	if v, ok := ch["allowed_address_pairs"]; ok {
		pairs, _ = v.([]any)
		pairsGiven = true
	} else {
		pairs, _ = old["allowed_address_pairs"].([]any)
	}
	if !ps && len(pairs) > 0 {
		if pairsGiven {
			return nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
		}
		return nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	pairsChanged, optsChanged := false, false
	if pairsGiven {
		mac := oldMAC
		if m, ok := ch["mac_address"].(string); ok {
			mac = m
		}
		norm := normalizePairs(pairs, mac)
		oldPairs, _ := old["allowed_address_pairs"].([]any)
		pairsChanged = api.PyRepr(norm) != api.PyRepr(oldPairs)
		ch["allowed_address_pairs"] = nilIfEmpty(norm)
	}
	if opts, ok := ch["extra_dhcp_opts"].([]any); ok && len(opts) > 0 {
		cur, _ := old["extra_dhcp_opts"].([]any)
		var merged []any
		merged, optsChanged = mergeDHCPOpts(cur, opts)
		ch["extra_dhcp_opts"] = nilIfEmpty(merged)
	} else {
		delete(ch, "extra_dhcp_opts")
	}
	// binding: a changed host, vnic type or profile unbinds the port
	changed := false
	if h, ok := ch["binding:host_id"]; ok {
		host := ""
		if h != nil {
			host = api.PyStr(h)
		}
		ch["binding:host_id"] = host
		changed = changed || host != api.PyStr(old["binding:host_id"])
	}
	if v, ok := ch["binding:vnic_type"]; ok {
		changed = changed || api.PyStr(v) != api.PyStr(old["binding:vnic_type"])
	}
	if prof, ok := ch["binding:profile"]; ok {
		if prof == nil {
			prof = map[string]any{}
			ch["binding:profile"] = prof
		}
		if err := checkProfileSize(prof); err != nil {
			return err
		}
		changed = changed || api.PyRepr(prof) != api.PyRepr(old["binding:profile"])
		ch["binding:profile"] = nilIfEmpty(prof)
	}
	if err := p.rebind(op, changed); err != nil {
		return err
	}
	// a port with a host is bound again after each update (one more
	// revision, not shown in the answer: see portResult)
	hostAfter, _ := old["binding:host_id"].(string)
	if h, ok := ch["binding:host_id"].(string); ok {
		hostAfter = h
	}
	hidden := true
	if hostAfter != "" {
		if err := p.ports.BumpRevision(ctx, tx, id); err != nil {
			return err
		}
	} else {
		for _, a := range visibleUpdateAttrs {
			if _, ok := ch[a]; ok {
				hidden = false
			}
		}
		if pairsChanged || optsChanged {
			hidden = false
		}
	}
	op.Set(hiddenRevisionKey{}, hidden)
	if _, ok := ch["dns_name"]; ok && !p.dnsNamesStored() {
		delete(ch, "dns_name")
	}
	if !p.ExtensionDriverLoaded("port_numa_affinity_policy") {
		delete(ch, "numa_affinity_policy")
	}
	return nil
}

// updatePortIPs is update_port_with_ips: the difference between the
// requested and current fixed IPs is deallocated and allocated; a new MAC
// moves EUI-64 addresses.
func (p *Plugin) updatePortIPs(ctx context.Context, tx *db.Tx, old, ch api.Object, owner string, macChanged bool) error {
	raw, given := ch["fixed_ips"]
	if !given && !macChanged {
		return nil
	}
	delete(ch, "fixed_ips") // set again below to the addresses the port has
	id := old["id"].(string)
	netID := old["network_id"].(string)
	orig, _ := old["fixed_ips"].([]any)
	type origIP struct{ subnetID, ip string }
	var origIPs []origIP
	for _, e := range orig {
		m, _ := e.(map[string]any)
		origIPs = append(origIPs, origIP{api.PyStr(m["subnet_id"]), api.PyStr(m["ip_address"])})
	}
	var newList []fixedReq
	deleteSubnets := map[string]bool{}
	if given {
		l, _ := raw.([]any)
		newList = parseFixed(l)
	} else if len(origIPs) > 0 {
		for _, o := range origIPs {
			newList = append(newList, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
		}
	}
	var mac [6]byte
	macStr, _ := old["mac_address"].(string)
	if m, ok := ch["mac_address"].(string); ok {
		macStr = m
	}
	mac, _ = ipam.ParseMAC(macStr)
	if macChanged {
		for _, o := range origIPs {
			a, err := netip.ParseAddr(o.ip)
			if err == nil && ipam.IsEUI64(a) {
				deleteSubnets[o.subnetID] = true
				// the entry naming this address is replaced by a deletion
				for i := range newList {
					if newList[i].subnetID == o.subnetID {
						newList[i] = fixedReq{subnetID: o.subnetID, hasSub: true}
					}
				}
			}
		}
	}
	all, err := networkSubnets(ctx, tx, "s.network_id = ?", netID)
	if err != nil {
		return err
	}
	byID := map[string]*subnetInfo{}
	for _, s := range all {
		byID[s.ID] = s
	}
	// _get_changed_ips_for_port
	var ips []fixedReq
	for _, f := range newList {
		if !deleteSubnets[f.subnetID] || !f.hasSub {
			ips = append(ips, f)
		}
	}
	var add []fixedReq
	var keep, remove []origIP
	origByIP := map[string]origIP{}
	for _, o := range origIPs {
		origByIP[o.ip] = o
	}
	for _, f := range ips {
		if !f.hasIP {
			continue
		}
		if o, ok := origByIP[f.ip]; ok {
			keep = append(keep, o)
			delete(origByIP, f.ip)
		} else {
			add = append(add, f)
		}
	}
	origBySubnet := map[string][]origIP{}
	var order []string
	for _, o := range origIPs {
		if _, ok := origByIP[o.ip]; ok {
			if _, seen := origBySubnet[o.subnetID]; !seen {
				order = append(order, o.subnetID)
			}
			origBySubnet[o.subnetID] = append(origBySubnet[o.subnetID], o)
		}
	}
	var candidates []origIP
	for _, f := range ips {
		if f.hasIP {
			continue
		}
		list := origBySubnet[f.subnetID]
		if len(list) == 0 {
			add = append(add, f)
			continue
		}
		o := list[len(list)-1]
		origBySubnet[f.subnetID] = list[:len(list)-1]
		a, err := netip.ParseAddr(o.ip)
		if err == nil && ipam.IsEUI64(a) {
			add = append(add, f)
			candidates = append(candidates, o)
		} else {
			keep = append(keep, o)
		}
	}
	var maybe []origIP
	for _, sid := range order {
		maybe = append(maybe, origBySubnet[sid]...)
	}
	maybe = append(maybe, candidates...)
	for _, o := range maybe {
		s := byID[o.subnetID]
		required := in(owner, routerInterfaceOwnersSNAT) || s == nil || !s.autoAddress()
		if required || deleteSubnets[o.subnetID] {
			remove = append(remove, o)
		} else {
			keep = append(keep, o)
		}
	}
	// validate the additions against the candidate subnets
	var check []fixedReq
	check = append(check, add...)
	for _, o := range keep {
		check = append(check, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
	}
	host := api.PyStr(old["binding:host_id"])
	if h, ok := ch["binding:host_id"]; ok && h != nil {
		host = api.PyStr(h)
	}
	subs, err := ipamSubnets(all, netID, owner, host != "", true, check)
	if err == errDeferIpam {
		subs, err = nil, nil
	}
	if err != nil {
		return err
	}
	reqs, err := p.testFixedIPs(ctx, tx, netID, owner, add, subs)
	if err != nil {
		return err
	}
	for _, o := range remove {
		if err := ipam.Release(ctx, tx, o.subnetID, o.ip); err != nil {
			return err
		}
	}
	handled := map[string]bool{}
	for _, r := range reqs {
		handled[r.subnets[0].ID] = true
	}
	for _, o := range keep {
		handled[o.subnetID] = true
	}
	for _, o := range remove {
		handled[o.subnetID] = true
	}
	reqs = append(reqs, autoAddressRequests(subs, owner, mac, handled)...)
	// a new MAC: EUI-64 addresses are made again (auto_assign_subnets)
	if len(deleteSubnets) > 0 {
		var again []*subnetInfo
		for _, s := range subs {
			if deleteSubnets[s.ID] {
				again = append(again, s)
			}
		}
		reqs = append(reqs, autoAddressRequests(again, owner, mac, nil)...)
	}
	added, err := p.allocate(ctx, tx, id, netID, owner, reqs)
	if err != nil {
		return err
	}
	now := added
	for _, o := range keep {
		now = append(now, fixedIP{o.subnetID, o.ip})
	}
	ch["fixed_ips"] = encodeFixedIPs(now)
	return nil
}

// ---- delete ----

func (p *Plugin) beforeDeletePort(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	netID, _ := obj["network_id"].(string)
	mac, _ := obj["mac_address"].(string)
	if _, err := tx.Exec(ctx, "DELETE FROM ipallocations WHERE port_id = ?", obj["id"]); err != nil {
		return err
	}
	if err := writeBindingLevels(ctx, tx, op.ID, nil); err != nil {
		return err
	}
	return releaseMAC(ctx, tx, netID, mac)
}

// networkDeleteCleanup refuses to delete a network with ports other than
// DHCP (and other automatically deleted) ones, deletes those, then the
// subnets.
func (p *Plugin) networkDeleteCleanup(ctx context.Context, tx *db.Tx, net api.Object) error {
	id := net["id"].(string)
	args := []any{id}
	for _, o := range autoDeletePortOwners {
		args = append(args, o)
	}
	inUse, err := db.Strings(ctx, tx, "SELECT id FROM ports WHERE network_id = ? AND device_owner NOT IN ("+store.Placeholders(len(autoDeletePortOwners))+") ORDER BY device_owner, id", args...)
	if err != nil {
		return err
	}
	if len(inUse) > 0 {
		return nerr.Conflict("NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network, id for these ports is: %s.", id, strings.Join(inUse, ","))
	}
	auto, err := db.Strings(ctx, tx, "SELECT id FROM ports WHERE network_id = ?", id)
	if err != nil {
		return err
	}
	admin := reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
	for _, pid := range auto {
		if err := p.ports.DeleteTx(admin, tx, pid, nil); err != nil {
			return err
		}
	}
	return p.deleteNetworkSubnets(ctx, tx, id)
}

// ---- loading ----

// dnsAssignment is one entry of a port's dns_assignment, computed on every
// read and written straight into the response.
type dnsAssignment struct{ ip, hostname, fqdn string }

// AppendJSON writes {"fqdn": ..., "hostname": ..., "ip_address": ...}.
func (d dnsAssignment) AppendJSON(b []byte) []byte {
	b = append(b, `{"fqdn":`...)
	b = api.AppendString(b, d.fqdn)
	b = append(b, `,"hostname":`...)
	b = api.AppendString(b, d.hostname)
	b = append(b, `,"ip_address":`...)
	b = api.AppendString(b, d.ip)
	return append(b, '}')
}

// dnsHostReplacer turns an address into a host label (host-10-0-0-3).
var dnsHostReplacer = strings.NewReplacer(".", "-", ":", "-")

func (p *Plugin) loadPorts(ctx context.Context, q db.Querier, objs []api.Object) error {
	for _, o := range objs {
		o["resource_request"] = nil
		if s, ok := o["fixed_ips"].(string); ok {
			o["fixed_ips"] = decodeFixedIPs(s)
		}
	}
	domain := p.env.Config.String("DEFAULT", "dns_domain")
	if domain != "" && !strings.HasSuffix(domain, ".") {
		domain += "."
	}
	stored := p.dnsNamesStored()
	for _, o := range objs {
		name := ""
		if stored {
			name, _ = o["dns_name"].(string)
		} else {
			o["dns_name"] = ""
		}
		fixed := o["fixed_ips"].([]any)
		assign := make([]any, 0, len(fixed))
		for _, f := range fixed {
			ip := f.(map[string]any)["ip_address"].(string)
			var host, fqdn string
			if name != "" {
				host, fqdn = name, name
				if !strings.HasSuffix(name, ".") {
					fqdn = name + "." + domain
				}
			} else {
				host = "host-" + dnsHostReplacer.Replace(ip)
				fqdn = host
				if domain != "" {
					fqdn = host + "." + domain
				}
			}
			assign = append(assign, dnsAssignment{ip: ip, hostname: host, fqdn: fqdn})
		}
		o["dns_assignment"] = assign
	}
	return nil
}

// ---- filters ----

// fixedIPsFilter renders fixed_ips=ip_address=...&fixed_ips=subnet_id=...
// (and ip_address_substr, ip-substring-filtering).
func fixedIPsFilter(_ context.Context, values []any) (string, []any) {
	var conds []string
	var args []any
	for _, v := range values {
		m, _ := v.(map[string][]string)
		if ips := m["ip_address"]; len(ips) > 0 {
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE ip_address IN ("+store.Placeholders(len(ips))+"))")
			for _, ip := range ips {
				args = append(args, ip)
			}
		}
		if subs := m["subnet_id"]; len(subs) > 0 {
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE subnet_id IN ("+store.Placeholders(len(subs))+"))")
			for _, s := range subs {
				args = append(args, s)
			}
		}
		if subs := m["ip_address_substr"]; len(subs) > 0 {
			var likes []string
			for _, s := range subs {
				likes = append(likes, "ip_address LIKE ?")
				args = append(args, "%"+s+"%")
			}
			conds = append(conds, "t.id IN (SELECT port_id FROM ipallocations WHERE "+strings.Join(likes, " OR ")+")")
		}
	}
	return strings.Join(conds, " AND "), args
}

// macFilter compares sanitized MACs case-insensitively.
func macFilter(_ context.Context, values []any) (string, []any) {
	var args []any
	for _, v := range values {
		args = append(args, strings.ToLower(api.SanitizeMAC(api.PyStr(v))))
	}
	if len(args) == 0 {
		return "1 = 0", nil
	}
	return "LOWER(t.mac_address) IN (" + store.Placeholders(len(args)) + ")", args
}
