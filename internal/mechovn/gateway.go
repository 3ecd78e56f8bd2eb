package mechovn

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// Gateway scheduling, as ML2/OVN's (get_candidates_for_scheduling and the l3_ovn_scheduler): a
// router's gateway port goes to at most five chassis, as Gateway_Chassis rows named
// <lrp>_<chassis> with priorities from five (or the number of chassis) down to one. The candidates
// are the gateway chassis (ovn-cms-options enable-chassis-as-gw) whose bridge mappings have the
// physical network of the gateway's network, or else the chassis with such mappings, or else all
// gateway chassis; with availability zone hints on the router, only those of the candidates in one
// of the zones (ovn-cms-options availability-zones=az1:az2). No candidate: any chassis; no chassis
// at all: neutron-ovn-invalid-chassis. [ovn] ovn_l3_scheduler orders them: leastloaded (the fewest
// gateway ports, counted by priority from the highest) or chance (at random).

const (
	maxGatewayChassis = 5
	invalidChassis    = "neutron-ovn-invalid-chassis"
)

// physnetOf is the physical network of a flat or VLAN network ("" for others).
func (d *Driver) physnetOf(ctx context.Context, netID string) string {
	net, err := d.tables.networks.Get(ctx, netID, nil)
	if err != nil {
		return ""
	}
	if t := str(net["provider:network_type"]); t == "flat" || t == "vlan" {
		return str(net["provider:physical_network"])
	}
	return ""
}

// chassisPhysnets are the physical networks of a chassis' ovn-bridge-mappings.
func chassisPhysnets(ch sbdb.Chassis) []string {
	var out []string
	for _, m := range strings.Split(chassisOption(ch, "ovn-bridge-mappings"), ",") {
		if p, _, ok := strings.Cut(strings.TrimSpace(m), ":"); ok && p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cmsOptions are a chassis' ovn-cms-options, trimmed.
func cmsOptions(ch sbdb.Chassis) []string {
	var out []string
	for _, o := range strings.Split(chassisOption(ch, "ovn-cms-options"), ",") {
		out = append(out, strings.TrimSpace(o))
	}
	return out
}

func isGatewayChassis(ch sbdb.Chassis) bool {
	return slices.Contains(cmsOptions(ch), "enable-chassis-as-gw")
}

// gatewayCandidates are the chassis a gateway on physnet with the zone hints may go to.
func gatewayCandidates(all []sbdb.Chassis, physnet string, hints []string) []string {
	var cmsMapped, mapped, cms []string
	byName := map[string]sbdb.Chassis{}
	for _, ch := range all {
		byName[ch.Name] = ch
		gw := isGatewayChassis(ch)
		if gw {
			cms = append(cms, ch.Name)
		}
		if physnet != "" && slices.Contains(chassisPhysnets(ch), physnet) {
			if gw {
				cmsMapped = append(cmsMapped, ch.Name)
			} else {
				mapped = append(mapped, ch.Name)
			}
		}
	}
	cands := cmsMapped
	if len(cands) == 0 {
		cands = mapped
	}
	if len(cands) == 0 {
		cands = cms
	}
	if len(hints) == 0 {
		return cands
	}
	var out []string
	for _, name := range cands {
		for _, z := range zones(chassisOption(byName[name], "ovn-cms-options")) {
			if slices.Contains(hints, strings.TrimSpace(z)) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

// scheduleGateway gives a new gateway LRP its Gateway_Chassis rows.
func (d *Driver) scheduleGateway(ctx context.Context, txn *ovn.Txn, lrp *nbdb.LogicalRouterPort, physnet string, hints []string) {
	all := d.allChassis()
	d.gatewayRows(txn, lrp, d.pickGateway(ctx, all, gatewayCandidates(all, physnet, hints), nil))
}

// pickGateway is Neutron's _schedule_gateway: the existing chassis first, then up to five in all
// of the candidates (any chassis when there are none) in the scheduler's order.
func (d *Driver) pickGateway(ctx context.Context, all []sbdb.Chassis, cands, existing []string) []string {
	if len(cands) == 0 {
		for _, ch := range all {
			cands = append(cands, ch.Name)
		}
	}
	var fresh []string
	for _, c := range cands {
		if !slices.Contains(existing, c) {
			fresh = append(fresh, c)
		}
	}
	if len(existing) > 0 && (len(fresh) == 0 || len(existing) >= maxGatewayChassis) {
		return existing
	}
	if len(fresh) == 0 {
		return []string{invalidChassis}
	}
	if d.s.l3Scheduler == "chance" {
		rand.Shuffle(len(fresh), func(i, j int) { fresh[i], fresh[j] = fresh[j], fresh[i] })
	} else {
		fresh = leastLoaded(d.gatewayLoads(ctx), fresh)
	}
	return append(slices.Clone(existing), fresh[:min(maxGatewayChassis-len(existing), len(fresh))]...)
}

// gatewayRows adds to txn the Gateway_Chassis rows of chassis (by priority, highest first) and
// makes them the LRP's.
func (d *Driver) gatewayRows(txn *ovn.Txn, lrp *nbdb.LogicalRouterPort, chassis []string) {
	lrp.GatewayChassis = nil
	for i, ch := range chassis {
		gc := &nbdb.GatewayChassis{UUID: ovn.NamedUUID("gc" + lrp.Name + ch), Name: lrp.Name + "_" + ch, ChassisName: ch,
			Priority: len(chassis) - i}
		txn.Create(gc)
		lrp.GatewayChassis = append(lrp.GatewayChassis, gc.UUID)
	}
}

// gatewayValid is the reverse of Neutron's is_gateway_chassis_invalid.
func gatewayValid(ch *sbdb.Chassis, physnet string, anyGW bool, hints []string) bool {
	switch {
	case ch == nil:
		return false
	case physnet != "" && !slices.Contains(chassisPhysnets(*ch), physnet):
		return false
	case anyGW && !isGatewayChassis(*ch):
		return false
	}
	if len(hints) == 0 {
		return true
	}
	for _, z := range zones(chassisOption(*ch, "ovn-cms-options")) {
		if slices.Contains(hints, strings.TrimSpace(z)) {
			return true
		}
	}
	return false
}

// rescheduleGateways is Neutron's schedule_unhosted_gateways, run by the lease holder: a gateway
// whose chassis are not all valid any more (gone, without the physical network, no longer a
// gateway, out of the router's zones) or fewer than the valid chassis is scheduled again, keeping
// its valid chassis and its primary on top when it stays.
func (d *Driver) rescheduleGateways(ctx context.Context) {
	all := d.allChassis()
	byName := map[string]*sbdb.Chassis{}
	anyGW := false
	for i := range all {
		byName[all[i].Name] = &all[i]
		anyGW = anyGW || isGatewayChassis(all[i])
	}
	var lrs []nbdb.LogicalRouter
	_ = d.nb.OVSDB().WhereCache(func(lr *nbdb.LogicalRouter) bool { return lr.ExternalIDs["neutron:gw_port_id"] != "" }).List(ctx, &lrs)
	for _, lr := range lrs {
		physnet := d.physnetOf(ctx, lr.ExternalIDs["neutron:gw_network_id"])
		var hints []string
		if h := lr.ExternalIDs["neutron:availability_zone_hints"]; h != "" {
			hints = strings.Split(h, ",")
		}
		name := lrpName(lr.ExternalIDs["neutron:gw_port_id"])
		unlock := d.locked(resRouter, strings.TrimPrefix(lr.Name, switchPrefix))
		err := d.rescheduleGateway(ctx, all, byName, anyGW, name, physnet, hints)
		unlock()
		if err != nil {
			d.log.Warn("gateway not rescheduled", "port", name, "error", err.Error())
		}
	}
}

func (d *Driver) rescheduleGateway(ctx context.Context, all []sbdb.Chassis, byName map[string]*sbdb.Chassis, anyGW bool,
	name, physnet string, hints []string) error {
	var lrps []nbdb.LogicalRouterPort
	_ = d.nb.OVSDB().WhereCache(func(p *nbdb.LogicalRouterPort) bool { return p.Name == name }).List(ctx, &lrps)
	if len(lrps) == 0 {
		return nil
	}
	lrp := &lrps[0]
	var gcs []nbdb.GatewayChassis
	for _, u := range lrp.GatewayChassis {
		gc := nbdb.GatewayChassis{UUID: u}
		if d.nb.OVSDB().Get(ctx, &gc) == nil {
			gcs = append(gcs, gc)
		}
	}
	sort.Slice(gcs, func(i, j int) bool { return gcs[i].Priority > gcs[j].Priority })
	var original, valid []string
	for _, gc := range gcs {
		original = append(original, gc.ChassisName)
		if gatewayValid(byName[gc.ChassisName], physnet, anyGW, hints) {
			valid = append(valid, gc.ChassisName)
		}
	}
	if len(valid) >= maxGatewayChassis {
		return nil
	}
	var available []string
	for _, ch := range all {
		if (isGatewayChassis(ch) || !anyGW) && gatewayValid(&ch, physnet, anyGW, hints) {
			available = append(available, ch.Name)
		}
	}
	if len(available) == 0 || sameSet(available, original) {
		return nil
	}
	chassis := d.pickGateway(ctx, all, gatewayCandidates(all, physnet, hints), valid)
	if len(original) > 0 {
		if i := slices.Index(chassis, original[0]); i > 0 {
			chassis[0], chassis[i] = chassis[i], chassis[0]
		}
	}
	txn := d.nb.Txn()
	d.gatewayRows(txn, lrp, chassis)
	txn.Update(lrp, &lrp.GatewayChassis)
	_, err := txn.Commit(ctx)
	return err
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// gatewayLoads are the Gateway_Chassis priorities each chassis holds.
func (d *Driver) gatewayLoads(ctx context.Context) map[string][]int {
	var gcs []nbdb.GatewayChassis
	_ = d.nb.OVSDB().List(ctx, &gcs)
	out := map[string][]int{}
	for _, g := range gcs {
		out[g.ChassisName] = append(out[g.ChassisName], g.Priority)
	}
	return out
}

// leastLoaded orders chassis as Neutron's least loaded scheduler: by their (priority, count)
// pairs, the highest priority first, compared in turn (a chassis with nothing comes first; ties
// by name).
func leastLoaded(loads map[string][]int, chassis []string) []string {
	type pc struct{ prio, n int }
	key := map[string][]pc{}
	for _, ch := range chassis {
		count := map[int]int{}
		for _, p := range loads[ch] {
			count[p]++
		}
		var k []pc
		for p, n := range count {
			k = append(k, pc{p, n})
		}
		sort.Slice(k, func(i, j int) bool { return k[i].prio > k[j].prio || k[i].prio == k[j].prio && k[i].n > k[j].n })
		key[ch] = k
	}
	less := func(a, b []pc) int {
		for i := 0; i < len(a) && i < len(b); i++ {
			if a[i].prio != b[i].prio {
				return a[i].prio - b[i].prio
			}
			if a[i].n != b[i].n {
				return a[i].n - b[i].n
			}
		}
		return len(a) - len(b)
	}
	out := slices.Clone(chassis)
	slices.SortStableFunc(out, func(a, b string) int {
		if c := less(key[a], key[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}
