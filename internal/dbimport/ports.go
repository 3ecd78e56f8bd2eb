package dbimport

import (
	"context"
	"encoding/json"
	"net/netip"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ipam"
)

func init() {
	Register(Importer{
		Name: "ports", Order: 60,
		Reads: []string{"ports", "ipallocations", "ml2_port_bindings", "portsecuritybindings", "portdnses", "extradhcpopts",
			"allowedaddresspairs", "securitygroupportbindings", "portnumaaffinitypolicies", "portdeviceprofiles"},
		Writes: []string{"ports", "port_macs", "ipallocations", "securitygroupportbindings"},
		Tagged: []string{"ports"},
		Run:    importPorts,
	})
}

// portExtras are a port's rows in Neutron's child tables, as neutrino
// keeps them in the port's row.
type portExtras struct {
	binding  map[string]Row // the active binding of each port
	fixed    map[string][]fixedIP
	pairs    map[string][]any
	dhcpOpts map[string][]any
	macs     [][3]string // network, MAC, port
}

type fixedIP struct{ subnet, ip, network string }

func importPorts(ctx context.Context, s *Source, w *Writer) error {
	x := &portExtras{binding: map[string]Row{}, fixed: map[string][]fixedIP{}, pairs: map[string][]any{}, dhcpOpts: map[string][]any{}}
	for _, load := range []func(context.Context, *Source, *Writer) error{x.loadBindings, x.loadFixedIPs, x.loadPairs, x.loadDHCPOpts} {
		if err := load(ctx, s, w); err != nil {
			return err
		}
	}
	if err := x.importRows(ctx, s, w); err != nil {
		return err
	}
	if err := x.importAllocations(ctx, s, w); err != nil {
		return err
	}
	return s.Each(ctx, "SELECT port_id, security_group_id FROM securitygroupportbindings ORDER BY port_id, security_group_id", func(r Row) error {
		return w.Insert(ctx, "securitygroupportbindings", "port_id, security_group_id", r.Str("port_id"), r.Str("security_group_id"))
	})
}

func (x *portExtras) importRows(ctx context.Context, s *Source, w *Writer) error {
	numa, profile := "NULL", "NULL"
	join := ""
	if s.Has("portnumaaffinitypolicies") {
		numa, join = "na.numa_affinity_policy", join+" LEFT JOIN portnumaaffinitypolicies na ON na.port_id = p.id"
	}
	if s.Has("portdeviceprofiles") {
		profile, join = "dp.device_profile", join+" LEFT JOIN portdeviceprofiles dp ON dp.port_id = p.id"
	}
	err := s.Each(ctx, `SELECT p.id, p.project_id, p.name, p.network_id, p.mac_address, p.admin_state_up, p.status, p.device_id,
		p.device_owner, p.ip_allocation, `+stdCols+`, ps.port_security_enabled, pd.dns_name, `+numa+` AS numa, `+profile+` AS profile
		FROM ports p JOIN standardattributes sa ON sa.id = p.standard_attr_id
		LEFT JOIN portsecuritybindings ps ON ps.port_id = p.id
		LEFT JOIN portdnses pd ON pd.port_id = p.id`+join+`
		ORDER BY p.id`, func(r Row) error {
		id, mac := r.Str("id"), r.Str("mac_address")
		vals := []any{id, r.NStr("project_id"), r.Str("name")}
		vals = append(vals, std(r)...)
		vals = append(vals, r.Str("network_id"), mac, r.Bool("admin_state_up"), r.Str("status"), r.Str("device_id"),
			r.Str("device_owner"), r.NStr("ip_allocation"), r.NBool("port_security_enabled"), r.Str("dns_name"))
		vals = append(vals, x.bindingValues(w, id)...)
		vals = append(vals, r.NStr("numa"), r.NStr("profile"), encodeFixedIPs(x.fixed[id]),
			jsonOrNull(x.pairs[id]), jsonOrNull(x.dhcpOpts[id]))
		x.macs = append(x.macs, [3]string{r.Str("network_id"), mac, id})
		return w.Insert(ctx, "ports", `id, project_id, name, description, created_at, updated_at, revision_number,
			network_id, mac_address, admin_state_up, status, device_id, device_owner, ip_allocation, port_security_enabled,
			dns_name, binding_host_id, binding_vnic_type, binding_profile, binding_vif_type, binding_vif_details,
			numa_affinity_policy, device_profile, fixed_ips, allowed_address_pairs, extra_dhcp_opts`, vals...)
	})
	if err != nil {
		return err
	}
	// port_macs decides MAC races: the network and the normalized MAC
	for _, m := range x.macs {
		if err := w.Insert(ctx, "port_macs", "network_id, mac_address, port_id", m[0], strings.ToLower(api.SanitizeMAC(m[1])), m[2]); err != nil {
			return err
		}
	}
	return nil
}

// loadBindings reads ml2_port_bindings: the ACTIVE binding of a port (a
// port being migrated has an INACTIVE one for its destination too).
func (x *portExtras) loadBindings(ctx context.Context, s *Source, _ *Writer) error {
	return s.Each(ctx, "SELECT port_id, host, vif_type, vnic_type, profile, vif_details, status FROM ml2_port_bindings ORDER BY port_id, host",
		func(r Row) error {
			id := r.Str("port_id")
			if old, ok := x.binding[id]; ok && strings.EqualFold(old.Str("status"), "ACTIVE") {
				return nil
			}
			x.binding[id] = Row{idx: r.idx, vals: append([]any(nil), r.vals...)}
			return nil
		})
}

// bindingValues are the port's binding columns: host, vnic type, profile,
// vif type, vif details (the dicts as JSON, NULL when empty).
func (x *portExtras) bindingValues(w *Writer, id string) []any {
	b, ok := x.binding[id]
	if !ok {
		return []any{"", "normal", nil, "unbound", nil}
	}
	return []any{b.Str("host"), b.Str("vnic_type"), jsonDict(w, id, "binding:profile", b.Str("profile")),
		b.Str("vif_type"), jsonDict(w, id, "binding:vif_details", b.Str("vif_details"))}
}

// jsonDict keeps a stored JSON dict, NULL when empty (as neutrino stores
// an empty one).
func jsonDict(w *Writer, id, attr, s string) any {
	if s == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		w.Note("port %s: %s %q is not a JSON dict; imported empty", id, attr, s)
		return nil
	}
	if len(m) == 0 {
		return nil
	}
	return s
}

func jsonOrNull(list []any) any {
	if len(list) == 0 {
		return nil
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func (x *portExtras) loadFixedIPs(ctx context.Context, s *Source, w *Writer) error {
	return s.Each(ctx, "SELECT port_id, ip_address, subnet_id, network_id FROM ipallocations ORDER BY port_id, ip_address, subnet_id", func(r Row) error {
		if r.Null("port_id") {
			w.Note("ip allocation %s of subnet %s has no port; not imported", r.Str("ip_address"), r.Str("subnet_id"))
			return nil
		}
		id := r.Str("port_id")
		x.fixed[id] = append(x.fixed[id], fixedIP{subnet: r.Str("subnet_id"), ip: r.Str("ip_address"), network: r.Str("network_id")})
		return nil
	})
}

// encodeFixedIPs is the row's copy of a port's addresses, as neutrino's
// ML2 keeps it: "subnet|address;..." ordered by address, then subnet.
func encodeFixedIPs(ips []fixedIP) string {
	sorted := append([]fixedIP(nil), ips...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].ip != sorted[j].ip {
			return sorted[i].ip < sorted[j].ip
		}
		return sorted[i].subnet < sorted[j].subnet
	})
	parts := make([]string, len(sorted))
	for i, f := range sorted {
		parts[i] = f.subnet + "|" + f.ip
	}
	return strings.Join(parts, ";")
}

// importAllocations writes ipallocations, the source of truth for
// addresses, with their offsets in the subnet (ipam.Insert).
func (x *portExtras) importAllocations(ctx context.Context, s *Source, w *Writer) error {
	subnets := map[string]*ipam.Subnet{}
	err := s.Each(ctx, "SELECT id, network_id, cidr FROM subnets", func(r Row) error {
		p, err := netip.ParsePrefix(r.Str("cidr"))
		if err != nil {
			w.Note("subnet %s: cidr %q is not valid; its addresses are not imported", r.Str("id"), r.Str("cidr"))
			return nil
		}
		subnets[r.Str("id")] = &ipam.Subnet{ID: r.Str("id"), NetworkID: r.Str("network_id"), Prefix: p.Masked()}
		return nil
	})
	if err != nil {
		return err
	}
	ports := make([]string, 0, len(x.fixed))
	for id := range x.fixed {
		ports = append(ports, id)
	}
	sort.Strings(ports)
	for _, port := range ports {
		for _, f := range x.fixed[port] {
			sub := subnets[f.subnet]
			a, err := netip.ParseAddr(f.ip)
			if sub == nil || err != nil {
				w.Note("port %s: address %s of subnet %s not imported (no such subnet, or not an address)", port, f.ip, f.subnet)
				continue
			}
			tx, err := w.Tx(ctx)
			if err != nil {
				return err
			}
			ok, err := ipam.Insert(ctx, tx, &ipam.Subnet{ID: sub.ID, NetworkID: f.network, Prefix: sub.Prefix}, a, port)
			if err != nil {
				return err
			}
			if !ok {
				w.Note("port %s: address %s of subnet %s is allocated twice; kept once", port, f.ip, f.subnet)
				continue
			}
			w.Counted("ipallocations", 1)
		}
	}
	return nil
}

// loadPairs reads the allowed address pairs, ordered as neutrino (and
// Neutron's primary key) orders them: by MAC, then address.
func (x *portExtras) loadPairs(ctx context.Context, s *Source, _ *Writer) error {
	type pair struct{ port, mac, ip string }
	var all []pair
	err := s.Each(ctx, "SELECT port_id, mac_address, ip_address FROM allowedaddresspairs", func(r Row) error {
		all = append(all, pair{r.Str("port_id"), r.Str("mac_address"), r.Str("ip_address")})
		return nil
	})
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.port != b.port {
			return a.port < b.port
		}
		if a.mac != b.mac {
			return a.mac < b.mac
		}
		return a.ip < b.ip
	})
	for _, p := range all {
		x.pairs[p.port] = append(x.pairs[p.port], map[string]any{"mac_address": p.mac, "ip_address": p.ip})
	}
	return err
}

// loadDHCPOpts reads the extra DHCP options in the order of their ids:
// the order Neutron (on MySQL) answers them in.
func (x *portExtras) loadDHCPOpts(ctx context.Context, s *Source, _ *Writer) error {
	return s.Each(ctx, "SELECT port_id, opt_name, opt_value, ip_version FROM extradhcpopts ORDER BY port_id, id", func(r Row) error {
		id := r.Str("port_id")
		x.dhcpOpts[id] = append(x.dhcpOpts[id], map[string]any{"opt_name": r.Str("opt_name"), "opt_value": r.Str("opt_value"),
			"ip_version": r.Int("ip_version")})
		return nil
	})
}
