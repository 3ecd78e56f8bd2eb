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

// scheduleGateway gives a gateway LRP its Gateway_Chassis rows.
func (d *Driver) scheduleGateway(ctx context.Context, txn *ovn.Txn, lrp *nbdb.LogicalRouterPort, physnet string, hints []string) {
	all := d.allChassis()
	cands := gatewayCandidates(all, physnet, hints)
	if len(cands) == 0 {
		for _, ch := range all {
			cands = append(cands, ch.Name)
		}
	}
	if len(cands) == 0 {
		cands = []string{invalidChassis}
	} else if d.s.l3Scheduler == "chance" {
		rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	} else {
		cands = leastLoaded(d.gatewayLoads(ctx), cands)
	}
	cands = cands[:min(maxGatewayChassis, len(cands))]
	for i, ch := range cands {
		gc := &nbdb.GatewayChassis{UUID: ovn.NamedUUID("gc" + lrp.Name + ch), Name: lrp.Name + "_" + ch, ChassisName: ch,
			Priority: len(cands) - i}
		txn.Create(gc)
		lrp.GatewayChassis = append(lrp.GatewayChassis, gc.UUID)
	}
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
