package mechovn

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// randomMAC draws a fa:16:3e MAC, as Neutron does for a subnet's DHCP server.
func randomMAC() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
}

// dhcpOptions are a subnet's DHCP options as ML2/OVN writes them; nil when the subnet gets no
// DHCP_Options row (DHCP off, SLAAC, IPv4 without a gateway or metadata address). serverMAC is kept
// from the row already written, if any; metaIP is the metadata port's address on the subnet.
func (d *Driver) dhcpOptions(sub, net api.Object, serverMAC, metaIP string) map[string]string {
	if on, _ := sub["enable_dhcp"].(bool); !on {
		return nil
	}
	if serverMAC == "" {
		serverMAC = randomMAC()
	}
	dns := d.dhcpDNSServers(sub)
	opts := map[string]string{}
	if intOf(sub["ip_version"]) == 6 {
		mode := str(sub["ipv6_address_mode"])
		if mode != "dhcpv6-stateful" && mode != "dhcpv6-stateless" {
			return nil
		}
		opts["server_id"] = serverMAC
		if mode == "dhcpv6-stateless" {
			opts["dhcpv6_stateless"] = "true"
		}
		if len(dns) > 0 {
			opts["dns_server"] = "{" + strings.Join(dns, ", ") + "}"
		}
		return mergeGlobal(opts, d.s.dhcp6Global, 6)
	}
	gw := str(sub["gateway_ip"])
	server := gw
	if server == "" {
		server = metaIP // a subnet without a gateway has DHCP through its metadata port's address
	}
	if server == "" {
		return nil
	}
	opts["server_id"], opts["server_mac"] = server, serverMAC
	if gw != "" {
		opts["router"] = gw
	}
	opts["lease_time"] = strconv.Itoa(d.s.leaseTime)
	opts["mtu"] = strconv.FormatInt(intOf(net["mtu"]), 10)
	if len(dns) > 0 {
		opts["dns_server"] = "{" + strings.Join(dns, ", ") + "}"
	}
	if d.s.dnsDomain != "" {
		opts["domain_name"] = `"` + d.s.dnsDomain + `"`
	}
	var routes []string
	if metaIP != "" {
		routes = append(routes, metadataCIDR+","+metaIP)
	}
	if routes = append(routes, hostRoutes(sub["host_routes"])...); len(routes) > 0 {
		if gw != "" {
			routes = append(routes, "0.0.0.0/0,"+gw)
		}
		opts["classless_static_route"] = "{" + strings.Join(routes, ", ") + "}"
	}
	return mergeGlobal(opts, d.s.dhcp4Global, 4)
}

// dhcpDNSServers are the DNS servers DHCP hands out on the subnet (Neutron's get_dhcp_dns_servers):
// the subnet's, else [ovn] dns_servers of its IP version, else the system's of its IP version;
// none when one of them is the any address (0.0.0.0 or ::).
func (d *Driver) dhcpDNSServers(sub api.Object) []string {
	v6 := intOf(sub["ip_version"]) == 6
	ofVersion := func(l []string) []string {
		var out []string
		for _, s := range l {
			if a, err := netip.ParseAddr(s); err == nil && a.Is6() == v6 {
				out = append(out, s)
			}
		}
		return out
	}
	dns := strList(sub["dns_nameservers"])
	if len(dns) == 0 {
		dns = ofVersion(d.s.dnsServers)
	}
	if len(dns) == 0 {
		dns = ofVersion(d.s.sysDNS)
	}
	for _, s := range dns {
		if a, err := netip.ParseAddr(s); err == nil && a.IsUnspecified() && a.Is6() == v6 {
			return nil
		}
	}
	return dns
}

func hostRoutes(v any) []string {
	var out []string
	for _, m := range objList(v) {
		out = append(out, str(m["destination"])+","+str(m["nexthop"]))
	}
	return out
}

// globalProhibited are the options the global DHCP options may not set (Neutron's
// GLOBAL_DHCP_OPTS_PROHIBIT_LIST): Neutron sets them itself.
var globalProhibited = map[int][]string{
	4: {"server_id", "lease_time", "mtu", "router", "server_mac", "dns_server", "classless_static_route"},
	6: {"dhcpv6_stateless", "dns_server", "server_id"},
}

// mergeGlobal applies [ovn] ovn_dhcp<version>_global_options: a value sets an option, an empty one
// removes it.
func mergeGlobal(opts, global map[string]string, version int) map[string]string {
	for k, v := range global {
		if slices.Contains(globalProhibited[version], k) {
			continue
		}
		if v == "" {
			delete(opts, k)
		} else {
			opts[k] = v
		}
	}
	return opts
}

// syncSubnet makes the subnet's DHCP_Options row what it should be (or removes it).
func (d *Driver) syncSubnet(ctx context.Context, sub, net api.Object) error {
	defer d.locked(resSubnet, str(sub["id"]))()
	id := str(sub["id"])
	rev := intOf(sub["revision_number"])
	cur := d.subnetDHCP(ctx, id)
	if cur != nil && revisionOf(cur.ExternalIDs) > rev {
		return nil
	}
	mac := ""
	if cur != nil {
		mac = cur.Options["server_mac"]
		if mac == "" && intOf(sub["ip_version"]) == 6 {
			mac = cur.Options["server_id"]
		}
	}
	opts := d.dhcpOptions(sub, net, mac, d.metadataIP(ctx, sub))
	txn := d.nb.Txn()
	switch {
	case opts == nil && cur != nil:
		for _, o := range d.dhcpRows(ctx, id) { // the subnet's and its ports'
			txn.Delete(&nbdb.DHCPOptions{UUID: o.UUID})
		}
	case opts != nil:
		d.syncPortsDHCP(ctx, txn, id, intOf(sub["ip_version"]), opts)
		row := &nbdb.DHCPOptions{Cidr: str(sub["cidr"]), Options: opts,
			ExternalIDs: map[string]string{"subnet_id": id, extRevision: strconv.FormatInt(rev, 10)}}
		if cur == nil {
			row.UUID = ovn.NamedUUID("dhcp" + id)
			txn.Create(row)
		} else if cur.Cidr != row.Cidr || !maps.Equal(cur.Options, row.Options) || !maps.Equal(cur.ExternalIDs, row.ExternalIDs) {
			row.UUID = cur.UUID
			txn.Update(row, &row.Cidr, &row.Options, &row.ExternalIDs)
		}
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	if cur == nil && opts != nil {
		// DHCP turned on: the subnet's ports point at the new row (Neutron's _enable_subnet_dhcp_options)
		if err := d.syncSubnetPorts(ctx, id); err != nil {
			return err
		}
	}
	return d.recordRevision(ctx, resSubnet, id, rev)
}

// syncSubnetPorts rewrites the LSPs of the subnet's ports.
func (d *Driver) syncSubnetPorts(ctx context.Context, subnetID string) error {
	ids, err := db.Strings(ctx, d.env.DB, "SELECT DISTINCT port_id FROM ipallocations WHERE subnet_id = ?", subnetID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		port, err := d.tables.ports.Get(ctx, id, nil)
		if gone(err) {
			continue
		} else if err != nil {
			return err
		}
		if networkDevice(port) {
			continue // no DHCP for them
		}
		if err := d.syncPort(ctx, port); err != nil {
			return err
		}
	}
	return nil
}

// deleteSubnet removes the subnet's DHCP rows (its own and its ports').
func (d *Driver) deleteSubnet(ctx context.Context, id string) error {
	defer d.locked(resSubnet, id)()
	txn := d.nb.Txn()
	for _, o := range d.dhcpRows(ctx, id) {
		txn.Delete(&nbdb.DHCPOptions{UUID: o.UUID})
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resSubnet, id)
}
