package mechovn

import (
	"context"
	"fmt"
	"sort"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// Port forwardings (the port_forwarding service plugin) are Load_Balancer rows, as Neutron's OVN
// port forwarding driver writes them: one per floating IP and protocol (tcp, udp), named
// pf-floatingip-<floating IP id>-<protocol> (a forwarding of a port range gets one per external
// port, named with -<port> appended), vips "<floating IP>:<external port>" to "<internal IP>:<internal
// port>", the floating IP's revision number (not on the rows of ranges), referenced by the router's
// Logical_Router and by the switches of its interfaces. They are part of the router's rows:
// syncRouter writes them.

const (
	pfOwner  = "port_forwarding_plugin" // external_ids neutron:device_owner of the rows
	pfPrefix = "pf-floatingip"
	extOwner = "neutron:device_owner"
	extFIPID = "neutron:fip_id"
	extRtr   = "neutron:router_name"
)

// forwarding is one port forwarding with its floating IP's address and revision.
type forwarding struct {
	fip, addr, proto, internalIP    string
	rev, extLo, extHi, intLo, intHi int64
}

// routerForwardings are the port forwardings of the floating IPs of a router.
func (d *Driver) routerForwardings(ctx context.Context, routerID string) ([]forwarding, error) {
	rows, err := d.env.DB.Query(ctx, `SELECT f.id, f.floating_ip_address, f.revision_number, pf.protocol, pf.internal_ip_address,
		pf.internal_port_start, pf.internal_port_end, pf.external_port_start, pf.external_port_end
		FROM portforwardings pf JOIN floatingips f ON f.id = pf.floatingip_id WHERE f.router_id = ?
		ORDER BY f.id, pf.protocol, pf.external_port_start`, routerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []forwarding
	for rows.Next() {
		var f forwarding
		if err := rows.Scan(&f.fip, &f.addr, &f.rev, &f.proto, &f.internalIP, &f.intLo, &f.intHi, &f.extLo, &f.extHi); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// pfLBName is the Load_Balancer of a floating IP's forwardings of a protocol (port: of a range).
func pfLBName(fip, proto string, port int64) string {
	if port > 0 {
		return fmt.Sprintf("%s-%s-%s-%d", pfPrefix, fip, proto, port)
	}
	return fmt.Sprintf("%s-%s-%s", pfPrefix, fip, proto)
}

// pfLoadBalancers are the Load_Balancer rows of a router's forwardings, by name. Forwardings of
// protocols OVN load balancers do not have (Neutron's LB_PROTOCOL_MAP holds tcp and udp) get none.
func pfLoadBalancers(routerID string, fws []forwarding) []*nbdb.LoadBalancer {
	byName := map[string]*nbdb.LoadBalancer{}
	var names []string
	for _, f := range fws {
		if f.proto != "tcp" && f.proto != "udp" {
			continue
		}
		step := int64(0) // the internal range is one port for all, or as long as the external one
		if f.intLo != f.intHi {
			step = 1
		}
		for i := int64(0); f.extLo+i <= f.extHi; i++ {
			suffix := int64(0)
			if f.extHi > f.extLo {
				suffix = f.extLo + i
			}
			name := pfLBName(f.fip, f.proto, suffix)
			lb := byName[name]
			if lb == nil {
				proto := f.proto
				lb = &nbdb.LoadBalancer{Name: name, Protocol: &proto, Vips: map[string]string{},
					ExternalIDs: map[string]string{extOwner: pfOwner, extFIPID: f.fip, extRtr: routerName(routerID)}}
				if suffix == 0 { // Neutron checks the revision of the rows without a port in their name only
					lb.ExternalIDs[extRevision] = fmt.Sprint(f.rev)
				}
				byName[name] = lb
				names = append(names, name)
			}
			lb.Vips[fmt.Sprintf("%s:%d", f.addr, f.extLo+i)] = fmt.Sprintf("%s:%d", f.internalIP, f.intLo+i*step)
		}
	}
	sort.Strings(names)
	out := make([]*nbdb.LoadBalancer, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

// pfRows are the forwarding Load_Balancer rows in the NB matching keep.
func (d *Driver) pfRows(ctx context.Context, keep func(*nbdb.LoadBalancer) bool) []nbdb.LoadBalancer {
	var out []nbdb.LoadBalancer
	_ = d.nb.OVSDB().WhereCache(func(lb *nbdb.LoadBalancer) bool {
		return lb.ExternalIDs[extOwner] == pfOwner && keep(lb)
	}).List(ctx, &out)
	return out
}

// writeForwardings adds to txn the writes that make a router's forwarding Load_Balancer rows
// those of want, referenced by the switches named in switches, and returns the router's
// load_balancer column (the rows of want and whatever else cur referenced that is not a forwarding).
func (d *Driver) writeForwardings(ctx context.Context, txn *ovn.Txn, routerID string, cur *nbdb.LogicalRouter,
	want []*nbdb.LoadBalancer, switches map[string]bool) []string {
	rtr := routerName(routerID)
	have := map[string]nbdb.LoadBalancer{}
	for _, lb := range d.pfRows(ctx, func(lb *nbdb.LoadBalancer) bool { return true }) {
		have[lb.Name] = lb
	}
	keep := map[string]bool{}
	var uuids []string
	for _, lb := range want {
		if old, ok := have[lb.Name]; ok {
			lb.UUID = old.UUID
			txn.Update(lb, &lb.Vips, &lb.Protocol, &lb.ExternalIDs)
		} else {
			lb.UUID = ovn.NamedUUID(lb.Name)
			txn.Create(lb)
		}
		keep[lb.UUID] = true
		uuids = append(uuids, lb.UUID)
	}
	pf := map[string]bool{}
	for _, lb := range have {
		pf[lb.UUID] = true
		if lb.ExternalIDs[extRtr] == rtr && !keep[lb.UUID] {
			txn.Delete(&nbdb.LoadBalancer{UUID: lb.UUID}) // the weak references go with it
		}
	}
	d.attachForwardings(ctx, txn, uuids, keep, switches)
	lbs := append([]string{}, uuids...)
	if cur != nil {
		for _, u := range cur.LoadBalancer {
			if !pf[u] {
				lbs = append(lbs, u)
			}
		}
	}
	return lbs
}

// attachForwardings makes the router's interface switches reference its forwarding rows (uuids)
// and the other switches not.
func (d *Driver) attachForwardings(ctx context.Context, txn *ovn.Txn, uuids []string, keep, switches map[string]bool) {
	var lss []nbdb.LogicalSwitch
	_ = d.nb.OVSDB().List(ctx, &lss)
	for _, ls := range lss {
		has := map[string]bool{}
		for _, u := range ls.LoadBalancer {
			has[u] = true
		}
		var add, del []string
		for _, u := range uuids {
			if switches[ls.Name] && !has[u] {
				add = append(add, u)
			} else if !switches[ls.Name] && has[u] && keep[u] {
				del = append(del, u)
			}
		}
		m := &nbdb.LogicalSwitch{UUID: ls.UUID}
		if len(add) > 0 {
			txn.Mutate(m, model.Mutation{Field: &m.LoadBalancer, Mutator: "insert", Value: add})
		}
		if len(del) > 0 {
			txn.Mutate(m, model.Mutation{Field: &m.LoadBalancer, Mutator: "delete", Value: del})
		}
	}
}

// deleteForwardings adds the deletion of a router's forwarding rows to txn.
func (d *Driver) deleteForwardings(ctx context.Context, txn *ovn.Txn, routerID string) {
	rtr := routerName(routerID)
	for _, lb := range d.pfRows(ctx, func(lb *nbdb.LoadBalancer) bool { return lb.ExternalIDs[extRtr] == rtr }) {
		txn.Delete(&nbdb.LoadBalancer{UUID: lb.UUID})
	}
}

// forwardingDrift says how a floating IP's forwarding rows differ from want (the router's rows).
func (d *Driver) forwardingDrift(ctx context.Context, fip string, want []*nbdb.LoadBalancer) string {
	got := map[string]nbdb.LoadBalancer{}
	for _, lb := range d.pfRows(ctx, func(lb *nbdb.LoadBalancer) bool { return lb.ExternalIDs[extFIPID] == fip }) {
		got[lb.Name] = lb
	}
	n := 0
	for _, w := range want {
		if w.ExternalIDs[extFIPID] != fip {
			continue
		}
		n++
		g, ok := got[w.Name]
		if !ok || fmt.Sprint(g.Vips) != fmt.Sprint(w.Vips) || g.ExternalIDs[extRevision] != w.ExternalIDs[extRevision] ||
			g.ExternalIDs[extRtr] != w.ExternalIDs[extRtr] {
			return "port forwarding Load_Balancer " + w.Name + " missing or stale"
		}
	}
	if len(got) != n {
		return "port forwarding Load_Balancer rows left behind"
	}
	return ""
}
