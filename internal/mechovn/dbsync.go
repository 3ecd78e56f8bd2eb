package mechovn

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// DBSync compares the whole NB with the database in both directions, as neutron-ovn-db-sync-util
// does: resources whose rows are missing or stale, and NB rows of resources that do not exist. It
// prints one line per difference to out and, with repair, fixes each one with the code the API
// path uses. It returns the number of differences found.
func (d *Driver) DBSync(ctx context.Context, repair bool, out io.Writer) (int, error) {
	if err := d.connected(ctx); err != nil {
		return 0, err
	}
	ctx = admin(ctx)
	found := 0
	fix := func(what string, f func() error) {
		found++
		action := ""
		if repair {
			action = " (repaired)"
			if err := f(); err != nil {
				action = " (repair failed: " + err.Error() + ")"
			}
		}
		fmt.Fprintln(out, what+action)
	}
	exists := map[string]map[string]bool{}
	for _, k := range d.kinds() {
		exists[k.typ] = map[string]bool{}
		err := k.table.ListBatches(ctx, &api.Query{}, func(objs []api.Object) error {
			for _, o := range objs {
				exists[k.typ][str(o["id"])] = true
				if why := d.drift(ctx, k.typ, o); why != "" {
					fix(fmt.Sprintf("%s %s: %s", strings.TrimSuffix(k.typ, "s"), str(o["id"]), why), func() error { return k.sync(ctx, o) })
				}
			}
			return nil
		})
		if err != nil {
			return found, err
		}
	}
	for _, x := range d.extras(ctx, exists) {
		fix(x.what, x.del)
	}
	return found, nil
}

// drift says how a resource's NB rows differ from what they should be ("" when they do not).
func (d *Driver) drift(ctx context.Context, typ string, o api.Object) string {
	rev := intOf(o["revision_number"])
	stale := func(ext map[string]string) string {
		if r := revisionOf(ext); r != rev {
			return fmt.Sprintf("stale in the NB (revision %d, database %d)", r, rev)
		}
		return ""
	}
	switch typ {
	case resNetwork:
		if ls := d.switchByName(ctx, switchName(str(o["id"]))); ls != nil {
			if why := stale(ls.ExternalIDs); why != "" {
				return why
			}
			if p, err := d.metadataPort(ctx, str(o["id"])); err == nil && p == nil && d.s.metadata {
				return "no metadata port"
			}
			return ""
		}
	case resPort:
		if str(o["device_owner"]) == "network:floatingip" {
			return ""
		}
		if lsp := d.lspByName(ctx, str(o["id"])); lsp != nil {
			if why := stale(lsp.ExternalIDs); why != "" {
				return why
			}
			if why := subportDrift(o, lsp); why != "" {
				return why
			}
			if why := d.vtepDrift(o, lsp); why != "" {
				return why
			}
			if why := d.lspDHCPDrift(ctx, o, lsp); why != "" {
				return why
			}
			if why := d.haDrift(ctx, o, lsp); why != "" {
				return why
			}
			if why := d.dnsDrift(ctx, o); why != "" {
				return why
			}
			return d.portQoSDrift(ctx, o, lsp)
		}
	case resSubnet:
		net, err := d.tables.networks.Get(ctx, str(o["network_id"]), nil)
		if err != nil {
			return ""
		}
		row, want := d.subnetDHCP(ctx, str(o["id"])), d.dhcpOptions(o, net, "x", d.metadataIP(ctx, o)) != nil
		switch {
		case row != nil && !want:
			return "DHCP_Options in the NB for a subnet without DHCP"
		case row != nil:
			return stale(row.ExternalIDs)
		case !want:
			return ""
		}
	case resRouter:
		if lr := d.routerByName(ctx, routerName(str(o["id"]))); lr != nil {
			if why := stale(lr.ExternalIDs); why != "" {
				return why
			}
			return d.routerPortDrift(ctx, str(o["id"]))
		}
	case resFloatingIP:
		var nats []nbdb.NAT
		_ = d.nb.OVSDB().WhereCache(func(n *nbdb.NAT) bool { return n.ExternalIDs["neutron:fip_id"] == str(o["id"]) }).List(ctx, &nats)
		if (len(nats) > 0) != (str(o["port_id"]) != "" && str(o["router_id"]) != "") {
			return "NAT rule missing or left behind"
		}
		var want []*nbdb.LoadBalancer
		if r := str(o["router_id"]); r != "" {
			fws, err := d.routerForwardings(ctx, r)
			if err != nil {
				return ""
			}
			want = pfLoadBalancers(r, fws)
		}
		return d.forwardingDrift(ctx, str(o["id"]), want)
	case resSecurityGroup:
		if pg := d.pgByName(ctx, pgName(str(o["id"]))); pg != nil {
			return d.aclDrift(ctx, o, pg)
		}
	}
	return "missing from the NB"
}

// lspDHCPDrift says whether the LSP points at other DHCP rows than the port should: its subnet's,
// or its own when it has extra options, or none.
func (d *Driver) lspDHCPDrift(ctx context.Context, port api.Object, lsp *nbdb.LogicalSwitchPort) string {
	ips, err := d.portIPs(ctx, port)
	if err != nil {
		return ""
	}
	for v, ref := range map[int64]*string{4: lsp.Dhcpv4Options, 6: lsp.Dhcpv6Options} {
		want := ""
		if disabled, extra := d.portDHCPOpts(port, v); !disabled {
			if sub := d.subnetDHCPFor(ctx, ips, v); sub != nil {
				want = sub.UUID
				if len(extra) > 0 {
					want = "own"
					if own := d.portDHCPRow(ctx, sub.ExternalIDs["subnet_id"], str(port["id"])); own != nil {
						want = own.UUID
					}
				}
			}
		}
		got := ""
		if ref != nil {
			got = *ref
		}
		if got != want {
			return fmt.Sprintf("DHCPv%d options differ from the port's", v)
		}
	}
	return ""
}

// haDrift says whether an external port's LSP lacks its network's HA chassis group (or another
// port has one).
func (d *Driver) haDrift(ctx context.Context, port api.Object, lsp *nbdb.LogicalSwitchPort) string {
	if want, _ := d.lspRow(port, nil); want.Type != "external" {
		if lsp.HaChassisGroup != nil {
			return "HA chassis group on a port that is not external"
		}
		return ""
	}
	g := d.haGroupByName(ctx, switchName(str(port["network_id"])))
	if g == nil || lsp.HaChassisGroup == nil || *lsp.HaChassisGroup != g.UUID {
		return "external port without its network's HA_Chassis_Group"
	}
	return ""
}

// vtepDrift says whether the LSP's type or VTEP options are not what the port's binding:profile
// makes them (a VTEP port written as an ordinary one, or the other way round).
func (d *Driver) vtepDrift(port api.Object, lsp *nbdb.LogicalSwitchPort) string {
	want, _ := d.lspRow(port, nil)
	if want.Type != "vtep" && lsp.Type != "vtep" {
		return ""
	}
	for _, k := range []string{"vtep-physical-switch", "vtep-logical-switch"} {
		if want.Type != lsp.Type || want.Options[k] != lsp.Options[k] {
			return "type or VTEP options differ from the port's binding:profile"
		}
	}
	return ""
}

// dnsDrift says whether the port's DNS records are missing from its network's DNS row.
func (d *Driver) dnsDrift(ctx context.Context, port api.Object) string {
	ips, err := d.portIPs(ctx, port)
	if err != nil {
		return ""
	}
	want := d.portDNSRecords(ctx, port, ips)
	if len(want) == 0 {
		return ""
	}
	row := d.dnsRow(ctx, switchName(str(port["network_id"])))
	for k, v := range want {
		if row == nil || row.Records[k] != v {
			return "DNS records missing or different"
		}
	}
	return ""
}

// aclDrift compares a group's ACLs with its rules.
func (d *Driver) aclDrift(ctx context.Context, sg api.Object, pg *nbdb.PortGroup) string {
	want := map[string]*nbdb.ACL{}
	for _, r := range objList(sg["security_group_rules"]) {
		want[str(r["id"])] = ruleACL(sg, r)
	}
	n := len(want)
	d.diffACLs(ctx, d.nb.Txn(), pg, want) // leaves in want the ACLs missing or different
	if len(want) > 0 || len(pg.ACLs) != n {
		return fmt.Sprintf("ACLs differ from the rules (%d ACLs, %d rules)", len(pg.ACLs), n)
	}
	return ""
}

type extra struct {
	what string
	del  func() error
}

// extras are the NB rows written for Neutron resources that no longer exist.
func (d *Driver) extras(ctx context.Context, exists map[string]map[string]bool) []extra {
	var out []extra
	var switches []nbdb.LogicalSwitch
	_ = d.nb.OVSDB().List(ctx, &switches)
	for _, ls := range switches {
		if id, ok := strings.CutPrefix(ls.Name, switchPrefix); ok && !exists[resNetwork][id] {
			out = append(out, extra{"Logical_Switch " + ls.Name + ": no such network", func() error { return d.deleteNetwork(ctx, id, nil) }})
		}
	}
	var dns []nbdb.DNS
	_ = d.nb.OVSDB().List(ctx, &dns)
	for _, r := range dns {
		if id, ok := strings.CutPrefix(r.ExternalIDs["ls_name"], switchPrefix); ok && !exists[resNetwork][id] {
			u := r.UUID
			out = append(out, extra{"DNS " + r.ExternalIDs["ls_name"] + ": no such network", func() error {
				_, err := d.nb.Txn().Delete(&nbdb.DNS{UUID: u}).Commit(ctx)
				return err
			}})
		}
	}
	var hcgs []nbdb.HAChassisGroup
	_ = d.nb.OVSDB().List(ctx, &hcgs)
	for _, g := range hcgs {
		// (with the switch still there, the switch's deletion takes the group too)
		if id, ok := strings.CutPrefix(g.Name, switchPrefix); ok && !exists[resNetwork][id] && d.switchByName(ctx, g.Name) == nil {
			u := g.UUID
			out = append(out, extra{"HA_Chassis_Group " + g.Name + ": no such network", func() error {
				_, err := d.nb.Txn().Delete(&nbdb.HAChassisGroup{UUID: u}).Commit(ctx)
				return err
			}})
		}
	}
	var lrs []nbdb.LogicalRouter
	_ = d.nb.OVSDB().List(ctx, &lrs)
	for _, lr := range lrs {
		if id, ok := strings.CutPrefix(lr.Name, switchPrefix); ok && exists[resRouter] != nil && !exists[resRouter][id] {
			out = append(out, extra{"Logical_Router " + lr.Name + ": no such router", func() error { return d.deleteRouter(ctx, id) }})
		}
	}
	var lsps []nbdb.LogicalSwitchPort
	_ = d.nb.OVSDB().List(ctx, &lsps)
	for _, p := range lsps {
		if _, ours := p.ExternalIDs[extRevision]; ours && !exists[resPort][p.Name] {
			name := p.Name
			out = append(out, extra{"Logical_Switch_Port " + name + ": no such port", func() error { return d.deletePortAnywhere(ctx, name) }})
		}
	}
	var pgs []nbdb.PortGroup
	_ = d.nb.OVSDB().List(ctx, &pgs)
	for _, pg := range pgs {
		if id := pg.ExternalIDs[extSGID]; id != "" && !exists[resSecurityGroup][id] {
			out = append(out, extra{"Port_Group " + pg.Name + ": no such security group", func() error { return d.deleteSecurityGroup(ctx, id) }})
		}
	}
	fips := map[string]bool{}
	for _, lb := range d.pfRows(ctx, func(lb *nbdb.LoadBalancer) bool {
		return exists[resFloatingIP] != nil && !exists[resFloatingIP][lb.ExternalIDs[extFIPID]]
	}) {
		if id := lb.ExternalIDs[extFIPID]; !fips[id] {
			fips[id] = true
			out = append(out, extra{"Load_Balancer " + lb.Name + ": no such floating IP", func() error { return d.deleteFIP(ctx, id) }})
		}
	}
	out = append(out, d.qosExtras(ctx, exists)...)
	var dhcp []nbdb.DHCPOptions
	_ = d.nb.OVSDB().List(ctx, &dhcp)
	seen := map[string]bool{}
	for _, o := range dhcp {
		if id := o.ExternalIDs["subnet_id"]; id != "" && !exists[resSubnet][id] && !seen[id] {
			seen[id] = true
			out = append(out, extra{"DHCP_Options " + o.Cidr + ": no such subnet " + id, func() error { return d.deleteSubnet(ctx, id) }})
		} else if p := o.ExternalIDs["port_id"]; p != "" && exists[resSubnet][id] && !exists[resPort][p] {
			u := o.UUID
			out = append(out, extra{"DHCP_Options " + o.Cidr + ": no such port " + p, func() error {
				_, err := d.nb.Txn().Delete(&nbdb.DHCPOptions{UUID: u}).Commit(ctx)
				return err
			}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].what < out[j].what })
	return out
}

// qosExtras are the QoS rows of ports, floating IPs and routers that do not exist.
func (d *Driver) qosExtras(ctx context.Context, exists map[string]map[string]bool) []extra {
	var out []extra
	seen := map[string]bool{}
	var qs []nbdb.QoS
	_ = d.nb.OVSDB().List(ctx, &qs)
	for _, q := range qs {
		for _, k := range []struct{ key, typ string }{{extPortID, resPort}, {extFIPID, resFloatingIP}, {extRouterID, resRouter}} {
			id := q.ExternalIDs[k.key]
			if id == "" || exists[k.typ] == nil || exists[k.typ][id] || seen[k.key+id] {
				continue
			}
			seen[k.key+id] = true
			key := k.key
			out = append(out, extra{"QoS " + key + "=" + id + ": no such " + strings.TrimSuffix(k.typ, "s"),
				func() error { return d.placeQoS(ctx, "", key, id, nil) }})
		}
	}
	return out
}
