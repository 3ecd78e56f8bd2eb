package ml2

import (
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- create ----

type portCreateState struct {
	fixedIPs    any // []any or nil (not given)
	pairs       []any
	pairsGiven  bool
	dhcpOpts    []any
	tags        []any
	hostSet     bool
	binding     *bindResult
	deviceOwner string
	macParsed   [6]byte
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
	st := p.newPortCreateState(obj, mac)
	if err := p.bindNewPort(op, st); err != nil {
		return err
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
	if err := p.allocateNewPortIPs(op, st); err != nil {
		return err
	}
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

// newPortCreateState keeps what the create's after-hook needs of the
// request: the lists stored in child tables, the owner and the MAC.
func (p *Plugin) newPortCreateState(obj api.Object, mac string) *portCreateState {
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
	st.macParsed, _ = netaddr.ParseMAC(mac)
	return st
}

// bindNewPort sets the binding attributes of a new port and, when it has
// a host, binds it.
func (p *Plugin) bindNewPort(op *store.Op, st *portCreateState) error {
	obj := op.New
	host := ""
	if h, ok := obj["binding:host_id"]; ok && h != nil {
		host = pyfmt.Str(h)
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
		b, err := p.bindPort(op.Ctx, op.Tx, obj, host)
		if err != nil {
			return err
		}
		obj["binding:vif_type"], st.binding = b.vifType, b
	}
	return nil
}

// allocateNewPortIPs allocates a new port's addresses (ipallocations rows
// first; the port row keeps a copy) and sets ip_allocation.
func (p *Plugin) allocateNewPortIPs(op *store.Op, st *portCreateState) error {
	obj := op.New
	fixedGiven := st.fixedIPs != nil && st.fixedIPs != api.NotSpecified
	var fixed []any
	if fixedGiven {
		fixed, _ = st.fixedIPs.([]any)
	}
	netID, _ := obj["network_id"].(string)
	alloc, ips, err := p.allocatePortIPs(op.Ctx, op.Tx, obj["id"].(string), netID, st.deviceOwner, st.macParsed, st.hostSet, fixedGiven, fixed)
	if e, ok := nerr.As(err); ok && e.Type == "HostNotConnectedToAnySegment" {
		host, _ := obj["binding:host_id"].(string)
		return hostNotConnected(host, netID)
	}
	if err != nil {
		return err
	}
	if fixedGiven && len(fixed) == 0 {
		alloc = "none"
	}
	obj["ip_allocation"] = alloc
	obj["fixed_ips"] = encodeFixedIPs(ips)
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
		pr := pair{portMAC, pyfmt.Str(m["ip_address"])}
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
		if _, err := tx.Exec(ctx, "INSERT INTO tags (resource_id, tag) VALUES (?, ?)", id, pyfmt.Str(tg)); err != nil {
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
		v, _ := pyfmt.Int(m["ip_version"])
		k := key{pyfmt.Str(m["opt_name"]), v}
		if _, dup := vals[k]; !dup {
			order = append(order, k)
		}
		vals[k] = pyfmt.Str(m["opt_value"])
	}
	changed := false
	for _, e := range req {
		m, _ := e.(map[string]any)
		k := key{pyfmt.Str(m["opt_name"]), 4}
		if v, ok := m["ip_version"]; ok && v != nil {
			k.ver, _ = pyfmt.Int(v)
		}
		val := m["opt_value"]
		if old, exists := vals[k]; exists {
			if val == nil {
				delete(vals, k)
				changed = true
			} else if validDHCPOptValue(k.name, val) && pyfmt.Str(val) != old {
				vals[k] = pyfmt.Str(val)
				changed = true
			}
			continue
		}
		if validDHCPOptValue(k.name, val) {
			vals[k] = pyfmt.Str(val)
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
