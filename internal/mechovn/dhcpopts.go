package mechovn

import (
	"context"
	"maps"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// dhcpOptNames map the extra_dhcp_opts names (dnsmasq's names and option numbers) to OVN's DHCP
// option names, per IP version, as ML2/OVN supports them (SUPPORTED_DHCP_OPTS_MAPPING).
var dhcpOptNames = map[int64]map[string]string{
	4: withNumbers(map[string]string{
		"arp-timeout": "arp_cache_timeout", "tcp-keepalive": "tcp_keepalive_interval", "netmask": "netmask",
		"router": "router", "dns-server": "dns_server", "log-server": "log_server", "lpr-server": "lpr_server",
		"domain-name": "domain_name", "domain-search": "domain_search_list", "swap-server": "swap_server",
		"policy-filter": "policy_filter", "router-solicitation": "router_solicitation", "nis-server": "nis_server",
		"ntp-server": "ntp_server", "server-id": "server_id", "tftp-server": "tftp_server",
		"classless-static-route": "classless_static_route", "ms-classless-static-route": "ms_classless_static_route",
		"ip-forward-enable": "ip_forward_enable", "router-discovery": "router_discovery",
		"ethernet-encap": "ethernet_encap", "default-ttl": "default_ttl", "tcp-ttl": "tcp_ttl", "mtu": "mtu",
		"lease-time": "lease_time", "T1": "T1", "T2": "T2", "bootfile-name": "bootfile_name",
		"bootfile-name-alt": "bootfile_name_alt", "wpad": "wpad", "path-prefix": "path_prefix",
		"tftp-server-address": "tftp_server_address", "server-ip-address": "next_server",
	}, "1 netmask 3 router 6 dns_server 7 log_server 9 lpr_server 15 domain_name 16 swap_server 21 policy_filter "+
		"32 router_solicitation 35 arp_cache_timeout 38 tcp_keepalive_interval 41 nis_server 42 ntp_server "+
		"54 server_id 66 tftp_server 121 classless_static_route 249 ms_classless_static_route 19 ip_forward_enable "+
		"31 router_discovery 36 ethernet_encap 23 default_ttl 37 tcp_ttl 26 mtu 51 lease_time 58 T1 59 T2 "+
		"67 bootfile_name 119 domain_search_list 252 wpad 210 path_prefix 150 tftp_server_address 255 next_server"),
	6: withNumbers(map[string]string{"server-id": "server_id", "dns-server": "dns_server",
		"domain-search": "domain_search", "ia-addr": "ia_addr"}, "2 server_id 5 ia_addr 24 domain_search 23 dns_server"),
}

// bareMetalOptNames are the extra IPv4 names of baremetal ports (iPXE's boot file).
var bareMetalOptNames = map[string]string{"tag:ipxe,bootfile-name": "bootfile_name", "tag:ipxe,67": "bootfile_name",
	"tag:!ipxe,bootfile-name": "bootfile_name_alt", "tag:!ipxe,67": "bootfile_name_alt"}

// stringDHCPOpts are the OVN options whose values are strings (written quoted).
var stringDHCPOpts = map[string]bool{"domain_name": true, "domain_search_list": true, "bootfile_name": true,
	"bootfile_name_alt": true, "path_prefix": true, "wpad": true, "tftp_server": true}

func withNumbers(m map[string]string, pairs string) map[string]string {
	f := strings.Fields(pairs)
	for i := 0; i+1 < len(f); i += 2 {
		m[f[i]] = f[i+1]
	}
	return m
}

// portDHCPOpts are the port's extra DHCP options of an IP version in OVN's names (Neutron's
// get_lsp_dhcp_opts). disabled: the port gets no DHCP of that version (a network device port, a
// baremetal port with [ovn] disable_ovn_dhcp_for_baremetal_ports, or the option dhcp_disabled=true).
// Options OVN does not know are left out.
func (d *Driver) portDHCPOpts(port api.Object, version int64) (disabled bool, opts map[string]string) {
	baremetal := str(port["binding:vnic_type"]) == "baremetal"
	if networkDevice(port) || baremetal && d.s.noBaremetalDHCP {
		return true, nil
	}
	names := dhcpOptNames[version]
	if baremetal && version == 4 {
		names = maps.Clone(names)
		maps.Copy(names, bareMetalOptNames)
	}
	opts = map[string]string{}
	for _, o := range objList(port["extra_dhcp_opts"]) {
		v := intOf(o["ip_version"])
		if v == 0 {
			v = 4
		}
		if v != version {
			continue
		}
		name, val := str(o["opt_name"]), str(o["opt_value"])
		if name == "dhcp_disabled" && strings.EqualFold(val, "true") {
			return true, nil
		}
		ovnName, ok := names[name]
		if !ok {
			continue
		}
		if stringDHCPOpts[ovnName] && !(strings.HasPrefix(val, `"`) && strings.HasSuffix(val, `"`)) {
			val = `"` + val + `"`
		}
		opts[ovnName] = val
	}
	return false, opts
}

// networkDevice reports whether the port is one of Neutron's own (network:* and neutron:* owners).
func networkDevice(port api.Object) bool {
	o := str(port["device_owner"])
	return strings.HasPrefix(o, "network:") || strings.HasPrefix(o, "neutron:")
}

// subnetDHCPFor is the DHCP_Options row of the port's first subnet of that IP version that has
// one (for IPv6 a stateful subnet's first, as Neutron prefers it).
func (d *Driver) subnetDHCPFor(ctx context.Context, ips []fixedIP, version int64) *nbdb.DHCPOptions {
	var first *nbdb.DHCPOptions
	for _, ip := range ips {
		if (version == 4) != ip.addr.Is4() {
			continue
		}
		o := d.subnetDHCP(ctx, ip.subnetID)
		if o == nil {
			continue
		}
		if version == 4 || o.Options["dhcpv6_stateless"] != "true" {
			return o
		}
		if first == nil {
			first = o
		}
	}
	return first
}

// portDHCP sets the LSP's DHCP options of a version in txn: its subnet's row, or for a port with
// extra DHCP options a row of its own (external_ids subnet_id and port_id) holding the subnet's
// options with the port's on top, created or updated in txn. It returns the UUID of the port's own
// row ("" when it has none).
func (d *Driver) portDHCP(ctx context.Context, txn *ovn.Txn, port api.Object, ips []fixedIP, version int64) (ref *string, own string) {
	disabled, extra := d.portDHCPOpts(port, version)
	if disabled {
		return nil, ""
	}
	sub := d.subnetDHCPFor(ctx, ips, version)
	if sub == nil {
		return nil, ""
	}
	if len(extra) == 0 {
		return &sub.UUID, ""
	}
	opts := maps.Clone(sub.Options)
	maps.Copy(opts, extra)
	subnetID, portID := sub.ExternalIDs["subnet_id"], str(port["id"])
	row := &nbdb.DHCPOptions{Cidr: sub.Cidr, Options: opts, ExternalIDs: map[string]string{
		"subnet_id": subnetID, "port_id": portID, extRevision: sub.ExternalIDs[extRevision]}}
	if cur := d.portDHCPRow(ctx, subnetID, portID); cur != nil {
		row.UUID = cur.UUID
		if cur.Cidr != row.Cidr || !maps.Equal(cur.Options, row.Options) || !maps.Equal(cur.ExternalIDs, row.ExternalIDs) {
			txn.Update(row, &row.Cidr, &row.Options, &row.ExternalIDs)
		}
	} else {
		row.UUID = ovn.NamedUUID("dhcp" + portID + strconv.FormatInt(version, 10))
		txn.Create(row)
	}
	return &row.UUID, row.UUID
}

// portDHCPRow is a port's own DHCP_Options row on a subnet, or nil.
func (d *Driver) portDHCPRow(ctx context.Context, subnetID, portID string) *nbdb.DHCPOptions {
	for _, o := range d.dhcpRows(ctx, subnetID) {
		if o.ExternalIDs["port_id"] == portID {
			return &o
		}
	}
	return nil
}

// portDHCPRows are all the DHCP_Options rows of a port.
func (d *Driver) portDHCPRows(ctx context.Context, portID string) []nbdb.DHCPOptions {
	var out []nbdb.DHCPOptions
	_ = d.nb.OVSDB().WhereCache(func(o *nbdb.DHCPOptions) bool { return o.ExternalIDs["port_id"] == portID }).List(ctx, &out)
	return out
}

// dropPortDHCP deletes in txn the port's own DHCP rows other than keep4 and keep6.
func (d *Driver) dropPortDHCP(ctx context.Context, txn *ovn.Txn, portID, keep4, keep6 string) {
	for _, o := range d.portDHCPRows(ctx, portID) {
		if o.UUID != keep4 && o.UUID != keep6 {
			txn.Delete(&nbdb.DHCPOptions{UUID: o.UUID})
		}
	}
}

// syncPortsDHCP rewrites in txn the options of the ports' own rows of a subnet after the subnet's
// options changed (opts): the subnet's new options with each port's extra options on top (their
// external_ids stay, as Neutron leaves them).
func (d *Driver) syncPortsDHCP(ctx context.Context, txn *ovn.Txn, subnetID string, version int64, opts map[string]string) {
	for _, o := range d.dhcpRows(ctx, subnetID) {
		portID := o.ExternalIDs["port_id"]
		if portID == "" {
			continue
		}
		port, err := d.tables.ports.Get(ctx, portID, nil)
		if err != nil {
			continue // the port's delete removes its rows
		}
		_, extra := d.portDHCPOpts(port, version)
		want := maps.Clone(opts)
		maps.Copy(want, extra)
		if !maps.Equal(want, o.Options) {
			row := &nbdb.DHCPOptions{UUID: o.UUID, Options: want}
			txn.Update(row, &row.Options)
		}
	}
}
