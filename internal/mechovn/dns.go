package mechovn

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// A network's DNS row (external_ids ls_name = its switch, referenced by the switch's dns_records)
// holds the records of its ports that have a dns_name and a device_id, as ML2/OVN writes them
// (get_port_dns_records): hostname and FQDN to the port's addresses, each address's reverse name
// to the FQDN.

// portDNSRecords are the port's records (nil when it needs none).
func (d *Driver) portDNSRecords(ctx context.Context, port api.Object, ips []fixedIP) map[string]string {
	name := str(port["dns_name"])
	if name == "" || str(port["device_id"]) == "" || len(ips) == 0 || d.s.dnsDomain == "" {
		return nil
	}
	fqdn := strings.TrimSuffix(name, ".")
	if !strings.HasSuffix(name, ".") {
		fqdn = name + "." + strings.TrimSuffix(d.s.dnsDomain, ".")
	}
	netFQDN := ""
	if net, err := d.tables.networks.Get(ctx, str(port["network_id"]), nil); err == nil {
		if dom := strings.TrimSuffix(str(net["dns_domain"]), "."); dom != "" && name+"."+dom != fqdn {
			netFQDN = name + "." + dom
		}
	}
	addrs := make([]string, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, ip.addr.String())
	}
	all := strings.Join(addrs, " ")
	recs := map[string]string{name: all, fqdn: all}
	if netFQDN != "" {
		recs[netFQDN] = all
	}
	for _, ip := range ips {
		recs[reverseName(ip.addr)] = fqdn
	}
	return recs
}

// reverseName is the address's in-addr.arpa or ip6.arpa name (without the final dot).
func reverseName(a netip.Addr) string {
	var parts []string
	if a.Is4() {
		b := a.As4()
		for i := 3; i >= 0; i-- {
			parts = append(parts, fmt.Sprint(b[i]))
		}
		return strings.Join(parts, ".") + ".in-addr.arpa"
	}
	b := a.As16()
	for i := 15; i >= 0; i-- {
		parts = append(parts, fmt.Sprintf("%x", b[i]&0xf), fmt.Sprintf("%x", b[i]>>4))
	}
	return strings.Join(parts, ".") + ".ip6.arpa"
}

// dnsRow is the DNS row of a switch, or nil.
func (d *Driver) dnsRow(ctx context.Context, lsName string) *nbdb.DNS {
	var out []nbdb.DNS
	err := d.nb.OVSDB().WhereCache(func(r *nbdb.DNS) bool { return r.ExternalIDs["ls_name"] == lsName }).List(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil
	}
	return &out[0]
}

// syncPortDNS makes in txn the port's records in its network's DNS row what want says: the
// records of the port's addresses before (old, from its LSP) and now that want does not hold are
// removed, want's records added (a DNS row is created for the switch if it has none).
func (d *Driver) syncPortDNS(ctx context.Context, txn *ovn.Txn, netID string, old []string, want map[string]string) {
	ls := switchName(netID)
	row := d.dnsRow(ctx, ls)
	if row == nil {
		if len(want) == 0 {
			return
		}
		sw := d.switchByName(ctx, ls)
		if sw == nil {
			return
		}
		dns := &nbdb.DNS{UUID: ovn.NamedUUID("dns" + netID), ExternalIDs: map[string]string{"ls_name": ls}, Records: want}
		txn.Create(dns)
		m := &nbdb.LogicalSwitch{UUID: sw.UUID}
		txn.Mutate(m, model.Mutation{Field: &m.DNSRecords, Mutator: "insert", Value: []string{dns.UUID}})
		return
	}
	ptrs := map[string]bool{}
	for _, ip := range old {
		if a, err := netip.ParseAddr(ip); err == nil {
			ptrs[reverseName(a)] = true
		}
	}
	drop, add := map[string]string{}, map[string]string{}
	for k, v := range row.Records {
		mine := ptrs[k] || slices.ContainsFunc(strings.Fields(v), func(a string) bool { return slices.Contains(old, a) })
		if w, ok := want[k]; ok && w != v || !ok && mine {
			drop[k] = v
		}
	}
	for k, v := range want {
		if row.Records[k] != v {
			add[k] = v
		}
	}
	m := &nbdb.DNS{UUID: row.UUID}
	if len(drop) > 0 {
		txn.Mutate(m, model.Mutation{Field: &m.Records, Mutator: "delete", Value: drop})
	}
	if len(add) > 0 {
		txn.Mutate(m, model.Mutation{Field: &m.Records, Mutator: "insert", Value: add})
	}
}

// lspIPs are the addresses an LSP was written with (nil for none).
func lspIPs(lsp *nbdb.LogicalSwitchPort) []string {
	if lsp == nil || len(lsp.Addresses) == 0 {
		return nil
	}
	f := strings.Fields(lsp.Addresses[0])
	if len(f) < 2 {
		return nil
	}
	return f[1:]
}
