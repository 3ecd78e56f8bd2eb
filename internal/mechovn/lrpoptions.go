package mechovn

import (
	"context"
	"maps"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// routerPortOptions sets the options of a router's LRPs as Zed's _gen_router_port_options (the
// interfaces first, the gateway LRP gw last; gw "" while it has none):
//   - a port on a VLAN network: reside-on-redirect-chassis, "true" (its routing is centralized on
//     the gateway chassis); with enable_distributed_floating_ip "false" unless an interface network
//     is neither VLAN nor flat;
//   - the gateway port, with enable_distributed_floating_ip and interfaces all on VLAN or flat
//     networks: redirect-type "bridged" (no tunnelling to the gateway chassis);
//   - the gateway port, with ovn_emit_need_to_frag and an interface network of a larger MTU than the
//     gateway's: gateway_mtu = the gateway network's MTU.
func (d *Driver) routerPortOptions(ctx context.Context, ports []*nbdb.LogicalRouterPort, gw string) {
	nets := map[string]struct {
		typ string
		mtu int64
	}{}
	netOf := func(p *nbdb.LogicalRouterPort) (string, int64) {
		id := strings.TrimPrefix(p.ExternalIDs["neutron:network_name"], switchPrefix)
		n, ok := nets[id]
		if !ok {
			if o, err := d.tables.networks.Get(ctx, id, []string{"provider:network_type", "mtu"}); err == nil {
				n.typ, n.mtu = str(o["provider:network_type"]), intOf(o["mtu"])
			}
			nets[id] = n
		}
		return n.typ, n.mtu
	}
	ifaces, bridged, maxMTU := 0, true, int64(0)
	for _, p := range ports {
		if p.Name == gw {
			continue
		}
		typ, mtu := netOf(p)
		ifaces++
		bridged = bridged && (typ == "vlan" || typ == "flat")
		maxMTU = max(maxMTU, mtu)
	}
	reside := "true"
	if d.s.distributedFIP && (ifaces == 0 || bridged) {
		reside = "false"
	}
	for _, p := range ports {
		p.Options = nil
		typ, mtu := netOf(p)
		set := func(k, v string) {
			if p.Options == nil {
				p.Options = map[string]string{}
			}
			p.Options[k] = v
		}
		if typ == "vlan" {
			set("reside-on-redirect-chassis", reside)
		}
		if p.Name != gw || gw == "" {
			continue
		}
		if d.s.needToFrag && maxMTU > mtu {
			set("gateway_mtu", strconv.FormatInt(mtu, 10))
		}
		if d.s.distributedFIP && ifaces > 0 && bridged {
			set("redirect-type", "bridged")
		}
	}
}

// syncGatewayRouters rewrites the routers whose gateway is on the network.
func (d *Driver) syncGatewayRouters(ctx context.Context, netID string) error {
	var lrs []nbdb.LogicalRouter
	_ = d.nb.OVSDB().WhereCache(func(lr *nbdb.LogicalRouter) bool { return lr.ExternalIDs["neutron:gw_network_id"] == netID }).List(ctx, &lrs)
	for _, lr := range lrs {
		if err := d.syncRouter(ctx, strings.TrimPrefix(lr.Name, switchPrefix)); err != nil {
			return err
		}
	}
	return nil
}

// routerPortDrift says whether a router's LRPs have other options than they should (ovn-db-sync;
// the options also follow other resources, as the networks' MTUs, which a router's revision does
// not).
func (d *Driver) routerPortDrift(ctx context.Context, id string) string {
	rs, err := d.l3.SyncRouters(ctx, []string{id})
	if err != nil || len(rs) == 0 {
		return ""
	}
	for _, want := range d.routerChildren(ctx, rs[0]).ports {
		got := &nbdb.LogicalRouterPort{Name: want.Name}
		var lrps []nbdb.LogicalRouterPort
		_ = d.nb.OVSDB().WhereCache(func(p *nbdb.LogicalRouterPort) bool { return p.Name == want.Name }).List(ctx, &lrps)
		if len(lrps) > 0 {
			got = &lrps[0]
		}
		if !maps.Equal(got.Options, want.Options) {
			return "options of router port " + want.Name + " differ"
		}
	}
	return ""
}
