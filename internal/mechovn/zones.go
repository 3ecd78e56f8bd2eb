package mechovn

import (
	"context"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// zoneDriver gives the availability zones of ML2/OVN (az.Driver), as Zed's mech_driver.py
// get_network_availability_zones and ovn_l3/plugin.py get_router_availability_zones: a network's
// or router's zones are the hints written on its Logical_Switch or Logical_Router (external_ids
// neutron:availability_zone_hints), none while it is not in the NB; hints may name the zones of
// the gateway chassis (list_availability_zones).
type zoneDriver struct{ d *Driver }

// Hosting reads the zones of networks or routers from the NB.
func (z zoneDriver) Hosting(ctx context.Context, resource string, ids []string) (map[string][]string, error) {
	byName := make(map[string]string, len(ids))
	for _, id := range ids {
		byName[switchPrefix+id] = id
	}
	out := map[string][]string{}
	add := func(name string, ext map[string]string) {
		for _, h := range strings.Split(ext["neutron:availability_zone_hints"], ",") {
			if h = strings.TrimSpace(h); h != "" {
				out[byName[name]] = append(out[byName[name]], h)
			}
		}
	}
	if !z.d.nb.Connected() {
		return out, nil
	}
	if resource == "router" {
		var lrs []nbdb.LogicalRouter
		_ = z.d.nb.OVSDB().WhereCache(func(lr *nbdb.LogicalRouter) bool { _, ok := byName[lr.Name]; return ok }).List(ctx, &lrs)
		for _, lr := range lrs {
			add(lr.Name, lr.ExternalIDs)
		}
		return out, nil
	}
	var lss []nbdb.LogicalSwitch
	_ = z.d.nb.OVSDB().WhereCache(func(ls *nbdb.LogicalSwitch) bool { _, ok := byName[ls.Name]; return ok }).List(ctx, &lss)
	for _, ls := range lss {
		add(ls.Name, ls.ExternalIDs)
	}
	return out, nil
}

// Zones are the zones of the gateway chassis.
func (z zoneDriver) Zones(context.Context) ([]string, error) {
	waitFirst(z.d.sb) // just started: the chassis are not known before the first connection
	var out []string
	for _, ch := range z.d.allChassis() {
		if !isGatewayChassis(ch) {
			continue
		}
		for _, zone := range zones(chassisOption(ch, "ovn-cms-options")) {
			if zone = strings.TrimSpace(zone); zone != "" && !slices.Contains(out, zone) {
				out = append(out, zone)
			}
		}
	}
	return out, nil
}
