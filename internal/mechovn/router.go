package mechovn

import (
	"context"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

func routerName(id string) string { return switchPrefix + id }

func lrpName(portID string) string { return "lrp-" + portID }

// routerRow is a router's Logical_Router without its children.
func routerRow(r map[string]any) *nbdb.LogicalRouter {
	enabled, _ := r["admin_state_up"].(bool)
	gwNet := ""
	if gi, ok := r["external_gateway_info"].(map[string]any); ok {
		gwNet = str(gi["network_id"])
	}
	return &nbdb.LogicalRouter{
		Name: routerName(str(r["id"])), Enabled: &enabled,
		Options: map[string]string{"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
		ExternalIDs: map[string]string{
			"neutron:router_name": str(r["name"]), "neutron:gw_port_id": str(r["gw_port_id"]),
			"neutron:gw_network_id": gwNet, extRevision: strconv.FormatInt(intOf(r["revision_number"]), 10),
			"neutron:availability_zone_hints": strings.Join(strList(r["availability_zone_hints"]), ","),
		},
	}
}

// lrpRow is the Logical_Router_Port of a router port (a sync_routers port dict).
func lrpRow(routerID string, port map[string]any) *nbdb.LogicalRouterPort {
	bits := map[string]int{} // prefix length by subnet, from the port's subnets
	for _, sub := range objList(port["subnets"]) {
		if pf, err := netip.ParsePrefix(str(sub["cidr"])); err == nil {
			bits[str(sub["id"])] = pf.Bits()
		}
	}
	var nets, subnets []string
	for _, f := range objList(port["fixed_ips"]) {
		nets = append(nets, str(f["ip_address"])+"/"+strconv.Itoa(bits[str(f["subnet_id"])]))
		subnets = append(subnets, str(f["subnet_id"]))
	}
	return &nbdb.LogicalRouterPort{
		Name: lrpName(str(port["id"])), MAC: str(port["mac_address"]), Networks: nets,
		ExternalIDs: map[string]string{
			"neutron:network_name": switchName(str(port["network_id"])), "neutron:router_name": routerID,
			"neutron:subnet_ids": strings.Join(subnets, " "), extRevision: strconv.FormatInt(intOf(port["revision_number"]), 10),
		},
	}
}

// interfaceSwitches are the names of the switches of a router's interfaces.
func interfaceSwitches(r map[string]any) map[string]bool {
	out := map[string]bool{}
	for _, p := range objList(r["_interfaces"]) {
		out[switchName(str(p["network_id"]))] = true
	}
	return out
}

// routerChildren are the router's ports, static routes and NAT rules as they should be.
type routerChildren struct {
	ports []*nbdb.LogicalRouterPort
	gw    string // the gateway LRP's name
	// the physical network of the gateway's network (flat, vlan) and the router's zone hints
	physnet string
	azHints []string
	routes  []*nbdb.LogicalRouterStaticRoute
	nat     []*nbdb.NAT
}

func (d *Driver) routerChildren(ctx context.Context, r map[string]any) routerChildren {
	id := str(r["id"])
	var c routerChildren
	var v4 []string
	for _, p := range objList(r["_interfaces"]) {
		c.ports = append(c.ports, lrpRow(id, p))
		for _, s := range objList(p["subnets"]) {
			if pf, err := netip.ParsePrefix(str(s["cidr"])); err == nil && pf.Addr().Is4() {
				v4 = append(v4, pf.String())
			}
		}
	}
	for _, rt := range objList(r["routes"]) {
		c.routes = append(c.routes, &nbdb.LogicalRouterStaticRoute{IPPrefix: str(rt["destination"]), Nexthop: str(rt["nexthop"])})
	}
	gw, _ := r["gw_port"].(map[string]any)
	if gw == nil || len(objList(gw["fixed_ips"])) == 0 {
		// no gateway port, or one without an address (an external network
		// without subnets): the NB refuses a router port without networks
		d.routerPortOptions(ctx, c.ports, "")
		return c
	}
	c.ports = append(c.ports, lrpRow(id, gw))
	c.gw = lrpName(str(gw["id"]))
	d.routerPortOptions(ctx, c.ports, c.gw)
	c.physnet, c.azHints = d.physnetOf(ctx, str(gw["network_id"])), strList(r["availability_zone_hints"])
	gwIP := ""
	for _, s := range objList(gw["subnets"]) {
		if g := str(s["gateway_ip"]); g != "" {
			dst := "0.0.0.0/0"
			if strings.Contains(g, ":") {
				dst = "::/0"
			}
			c.routes = append(c.routes, &nbdb.LogicalRouterStaticRoute{IPPrefix: dst, Nexthop: g,
				ExternalIDs: map[string]string{"neutron:is_ext_gw": "true", "neutron:subnet_id": str(s["id"])}})
		}
	}
	for _, f := range objList(gw["fixed_ips"]) {
		if a, err := netip.ParseAddr(str(f["ip_address"])); err == nil && a.Is4() && gwIP == "" {
			gwIP = a.String()
		}
	}
	snat := true
	if gi, ok := r["external_gateway_info"].(map[string]any); ok {
		if b, ok := gi["enable_snat"].(bool); ok {
			snat = b
		}
	}
	for _, cidr := range v4 {
		if snat && gwIP != "" {
			c.nat = append(c.nat, &nbdb.NAT{Type: nbdb.NATTypeSNAT, ExternalIP: gwIP, LogicalIP: cidr})
		}
	}
	for _, f := range objList(r["_floatingips"]) {
		if n := d.fipNAT(ctx, id, f); n != nil {
			c.nat = append(c.nat, n)
		}
	}
	return c
}

func (d *Driver) routerByName(ctx context.Context, name string) *nbdb.LogicalRouter {
	var out []nbdb.LogicalRouter
	err := d.nb.OVSDB().WhereCache(func(r *nbdb.LogicalRouter) bool { return r.Name == name }).List(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil
	}
	return &out[0]
}

// syncRouter makes a router's NB rows what the database says (deleting them when it is gone).
func (d *Driver) syncRouter(ctx context.Context, id string) error {
	if d.l3 == nil || id == "" {
		return nil
	}
	defer d.locked(resRouter, id)()
	rs, err := d.l3.SyncRouters(ctx, []string{id})
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		return d.removeRouter(ctx, id)
	}
	r := rs[0]
	fws, err := d.routerForwardings(ctx, id)
	if err != nil {
		return err
	}
	want, kids := routerRow(r), d.routerChildren(ctx, r)
	cur := d.routerByName(ctx, want.Name)
	txn := d.nb.Txn()
	want.UUID = ovn.NamedUUID("lr" + id)
	if cur != nil {
		want.UUID = cur.UUID
	}
	want.Ports = d.routerPorts(ctx, txn, cur, kids)
	for i, rt := range kids.routes {
		rt.UUID = ovn.NamedUUID(fmt.Sprintf("rt%d", i))
		want.StaticRoutes = append(want.StaticRoutes, rt.UUID)
		txn.Create(rt)
	}
	for i, n := range kids.nat {
		n.UUID = ovn.NamedUUID(fmt.Sprintf("nat%d", i))
		want.Nat = append(want.Nat, n.UUID)
		txn.Create(n)
	}
	defer d.markFIPPorts(ctx, txn, cur, kids.nat)()
	want.LoadBalancer = d.writeForwardings(ctx, txn, id, cur, pfLoadBalancers(id, fws), interfaceSwitches(r))
	if cur == nil {
		txn.Create(want)
	} else {
		txn.Update(want, &want.Enabled, &want.Options, &want.ExternalIDs, &want.Ports, &want.StaticRoutes, &want.Nat, &want.LoadBalancer)
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	if err := d.syncRouterQoS(ctx, id); err != nil {
		return err
	}
	return d.recordRevision(ctx, resRouter, id, intOf(r["revision_number"]))
}

// routerPorts writes the router's LRPs (updating the ones that exist, so that their datapath
// ports stay) and returns the UUIDs (or named UUIDs) of all of them.
func (d *Driver) routerPorts(ctx context.Context, txn *ovn.Txn, cur *nbdb.LogicalRouter, kids routerChildren) []string {
	have := map[string]*nbdb.LogicalRouterPort{}
	if cur != nil {
		for _, u := range cur.Ports {
			p := &nbdb.LogicalRouterPort{UUID: u}
			if d.nb.OVSDB().Get(ctx, p) == nil {
				have[p.Name] = p
			}
		}
	}
	var out []string
	for _, p := range kids.ports {
		p.Ipv6RaConfigs = d.raConfigs(ctx, p, p.Name == kids.gw)
		if old := have[p.Name]; old != nil {
			p.UUID = old.UUID
			txn.Update(p, &p.MAC, &p.Networks, &p.ExternalIDs, &p.Ipv6RaConfigs, &p.Options)
			if p.Name == kids.gw && len(old.GatewayChassis) == 0 {
				d.scheduleGateway(ctx, txn, p, kids.physnet, kids.azHints)
				txn.Update(p, &p.GatewayChassis)
			}
		} else {
			p.UUID = ovn.NamedUUID(p.Name)
			if p.Name == kids.gw {
				d.scheduleGateway(ctx, txn, p, kids.physnet, kids.azHints)
			}
			txn.Create(p)
		}
		out = append(out, p.UUID)
	}
	return out
}

// deleteRouter removes a router's Logical_Router (its ports, routes and NAT rules go with it).
func (d *Driver) deleteRouter(ctx context.Context, id string) error {
	defer d.locked(resRouter, id)()
	return d.removeRouter(ctx, id)
}

func (d *Driver) removeRouter(ctx context.Context, id string) error {
	txn := d.nb.Txn()
	if lr := d.routerByName(ctx, routerName(id)); lr != nil {
		txn.Delete(&nbdb.LogicalRouter{UUID: lr.UUID})
		defer d.markFIPPorts(ctx, txn, lr, nil)()
	}
	d.deleteForwardings(ctx, txn, id)
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	if err := d.placeQoS(ctx, "", extRouterID, id, nil); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resRouter, id)
}

// routerOfFIP is the router of a floating IP event's old or new state.
func routerOfFIP(objs ...api.Object) []string {
	var out []string
	for _, o := range objs {
		if r := str(o["router_id"]); r != "" {
			out = append(out, r)
		}
	}
	return out
}
