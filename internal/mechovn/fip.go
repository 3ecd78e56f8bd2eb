package mechovn

import (
	"context"
	"sort"
	"strconv"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// Floating IPs with a port are dnat_and_snat NAT rules of their router, as ML2/OVN writes them
// (_create_or_update_floatingip): the port as logical_port, the MAC address of the floating IP's
// own port in external_ids (neutron:fip_external_mac) and, with [ovn]
// enable_distributed_floating_ip, as external_mac once the port is up (then the port's chassis
// answers for the floating IP instead of the gateway chassis). The port's LSP carries the address
// (external_ids neutron:port_fip).

const (
	extFIPMAC  = "neutron:fip_external_mac"
	extPortFIP = "neutron:port_fip"
)

// fipNAT is an associated floating IP's dnat_and_snat rule (nil for one without a port).
func (d *Driver) fipNAT(ctx context.Context, routerID string, f map[string]any) *nbdb.NAT {
	fixed, port := str(f["fixed_ip_address"]), str(f["port_id"])
	if fixed == "" || port == "" {
		return nil
	}
	n := &nbdb.NAT{Type: nbdb.NATTypeDNATAndSNAT, ExternalIP: str(f["floating_ip_address"]), LogicalIP: fixed, LogicalPort: &port,
		ExternalIDs: map[string]string{extFIPID: str(f["id"]), "neutron:fip_port_id": port,
			"neutron:fip_network_id": str(f["floating_network_id"]), extRtr: routerName(routerID),
			extRevision: strconv.FormatInt(intOf(f["revision_number"]), 10)}}
	if fp, err := d.tables.ports.Get(ctx, str(f["floating_port_id"]), []string{"mac_address"}); err == nil {
		mac := str(fp["mac_address"])
		n.ExternalIDs[extFIPMAC] = mac
		if lsp := d.lspByName(ctx, port); d.s.distributedFIP && lsp != nil && isUp(lsp) {
			n.ExternalMAC = &mac
		}
	}
	return n
}

// markFIPPorts adds to txn the neutron:port_fip marks of the ports of a router's floating IP
// rules (nats) and the removal of the marks of the ports cur's rules had and nats do not. It holds
// those ports' locks (syncPort keeps the mark of the LSP it rewrites) until the returned unlock.
func (d *Driver) markFIPPorts(ctx context.Context, txn *ovn.Txn, cur *nbdb.LogicalRouter, nats []*nbdb.NAT) (unlock func()) {
	want := map[string]string{}
	for _, n := range nats {
		if n.Type == nbdb.NATTypeDNATAndSNAT && n.LogicalPort != nil {
			want[*n.LogicalPort] = n.ExternalIP
		}
	}
	ports := map[string]bool{}
	if cur != nil {
		for _, u := range cur.Nat {
			n := &nbdb.NAT{UUID: u}
			if d.nb.OVSDB().Get(ctx, n) == nil && n.LogicalPort != nil {
				ports[*n.LogicalPort] = true
			}
		}
	}
	for p := range want {
		ports[p] = true
	}
	names := make([]string, 0, len(ports))
	for p := range ports {
		names = append(names, p)
	}
	sort.Strings(names) // one order for every router: no deadlock
	var unlocks []func()
	for _, p := range names {
		unlocks = append(unlocks, d.locked(resPort, p))
	}
	unlock = func() {
		for _, u := range unlocks {
			u()
		}
	}
	for _, p := range names {
		lsp := d.lspByName(ctx, p)
		if lsp == nil {
			continue
		}
		old, had := lsp.ExternalIDs[extPortFIP]
		ip, ok := want[p]
		if had == ok && old == ip {
			continue
		}
		m := &nbdb.LogicalSwitchPort{UUID: lsp.UUID}
		if had {
			txn.Mutate(m, model.Mutation{Field: &m.ExternalIDs, Mutator: "delete", Value: map[string]string{extPortFIP: old}})
		}
		if ok {
			txn.Mutate(m, model.Mutation{Field: &m.ExternalIDs, Mutator: "insert", Value: map[string]string{extPortFIP: ip}})
		}
	}
	return unlock
}

// updateDNAT follows a port's up state in its floating IP's rule, as ML2/OVN does when a port's
// status changes: with distributed floating IPs the rule gets external_mac once the port is up;
// without, it has none.
func (d *Driver) updateDNAT(ctx context.Context, port string, up bool) error {
	var nats []nbdb.NAT
	_ = d.nb.OVSDB().WhereCache(func(n *nbdb.NAT) bool {
		return n.Type == nbdb.NATTypeDNATAndSNAT && n.LogicalPort != nil && *n.LogicalPort == port
	}).List(ctx, &nats)
	if len(nats) == 0 {
		return nil
	}
	n := &nats[0]
	mac, has := n.ExternalIDs[extFIPMAC], n.ExternalMAC != nil && *n.ExternalMAC != ""
	switch {
	case d.s.distributedFIP && up && mac != "" && (!has || *n.ExternalMAC != mac):
		n.ExternalMAC = &mac
	case !d.s.distributedFIP && has:
		n.ExternalMAC = nil
	default:
		return nil
	}
	_, err := d.nb.Txn().Update(n, &n.ExternalMAC).Commit(ctx)
	return err
}
