package mechovn

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// External ports, as ML2/OVN's (Zed): a port of VNIC type direct, direct-physical, macvtap or
// baremetal without the switchdev capability (binding:profile capabilities) is an SR-IOV VF or a
// bare metal NIC that no ovn-controller plugs. The driver does not bind it; its Logical_Switch_Port
// has type "external" (no requested-chassis) and the network's HA_Chassis_Group
// neutron-<network id>, whose highest priority chassis answers the port's DHCP and ARP. The group
// holds the gateway chassis (ovn-cms-options enable-chassis-as-gw) in the network's availability
// zone hints (without hints, the gateway chassis in no zone) and external_ids
// neutron:availability_zone_hints. It is written with each external port (sync_ha_chassis_group:
// the highest priority chassis keeps 32767 while it stays, the others follow in random order one
// below the other; once it went, all of them are drawn anew in random order from 32767), follows the chassis as they come and go (ChassisEvent: a new one joins one below
// the lowest, one gone leaves; here the maintenance loop compares) and goes with the network.

const (
	haPriorityHighest = 32767
	resHAGroup        = "ha_chassis_group" // lock key of a network's group
	extAZHints        = "neutron:availability_zone_hints"
)

// externalVNICs are the VNIC types of external ports (EXTERNAL_PORT_TYPES).
var externalVNICs = []string{"direct", "direct-physical", "macvtap", "baremetal"}

// isExternal is ML2/OVN's is_port_external for a VNIC type and binding profile.
func isExternal(vnic string, profile any) bool {
	m, _ := profile.(map[string]any)
	return slices.Contains(externalVNICs, vnic) && !slices.Contains(strList(m["capabilities"]), "switchdev")
}

func isExternalPort(port api.Object) bool {
	return isExternal(str(port["binding:vnic_type"]), port["binding:profile"])
}

// haChassisFor are the chassis an HA chassis group with the zone hints holds.
func haChassisFor(all []sbdb.Chassis, hints []string) map[string]bool {
	out := map[string]bool{}
	for _, ch := range all {
		if !isGatewayChassis(ch) {
			continue
		}
		azs := chassisZones(ch)
		if len(hints) == 0 && len(azs) == 0 || slices.ContainsFunc(hints, func(h string) bool { return slices.Contains(azs, h) }) {
			out[ch.Name] = true
		}
	}
	return out
}

// chassisZones are a chassis' availability zones, trimmed, without empty ones.
func chassisZones(ch sbdb.Chassis) []string {
	var out []string
	for _, z := range zones(chassisOption(ch, "ovn-cms-options")) {
		if z = strings.TrimSpace(z); z != "" {
			out = append(out, z)
		}
	}
	return out
}

func groupHints(g *nbdb.HAChassisGroup) []string {
	var out []string
	for _, h := range strings.Split(g.ExternalIDs[extAZHints], ",") {
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

func (d *Driver) haGroupByName(ctx context.Context, name string) *nbdb.HAChassisGroup {
	var out []nbdb.HAChassisGroup
	err := d.nb.OVSDB().WhereCache(func(g *nbdb.HAChassisGroup) bool { return g.Name == name }).List(ctx, &out)
	if err != nil || len(out) == 0 {
		return nil
	}
	return &out[0]
}

// haMembers are the HA_Chassis rows of a group.
func (d *Driver) haMembers(ctx context.Context, g *nbdb.HAChassisGroup) []nbdb.HAChassis {
	var out []nbdb.HAChassis
	for _, u := range g.HaChassis {
		hc := nbdb.HAChassis{UUID: u}
		if d.nb.OVSDB().Get(ctx, &hc) == nil {
			out = append(out, hc)
		}
	}
	return out
}

// ensureHAGroup returns the network's group, created (empty) when missing, in a transaction of its
// own as Neutron's.
func (d *Driver) ensureHAGroup(ctx context.Context, netID string) (*nbdb.HAChassisGroup, error) {
	name := switchName(netID)
	if g := d.haGroupByName(ctx, name); g != nil {
		return g, nil
	}
	g := &nbdb.HAChassisGroup{UUID: ovn.NamedUUID("hcg" + netID), Name: name}
	named, err := d.nb.Txn().Create(g).Commit(ctx)
	if err != nil {
		if g := d.haGroupByName(ctx, name); g != nil { // made at the same time by another process
			return g, nil
		}
		return nil, err
	}
	g.UUID = named[g.UUID]
	return g, nil
}

// syncHAGroup is Neutron's sync_ha_chassis_group: it makes the network's group what it should be
// and returns its UUID.
func (d *Driver) syncHAGroup(ctx context.Context, netID string) (string, error) {
	net, err := d.tables.networks.Get(ctx, netID, []string{"availability_zone_hints"})
	if err != nil {
		return "", err
	}
	hints := strList(net["availability_zone_hints"])
	defer d.locked(resHAGroup, netID)()
	g, err := d.ensureHAGroup(ctx, netID)
	if err != nil {
		return "", err
	}
	txn := d.nb.Txn()
	g.ExternalIDs = map[string]string{extAZHints: strings.Join(hints, ",")}
	txn.Update(g, &g.ExternalIDs)
	if waitFirst(d.sb); !d.sb.Connected() { // the chassis are unknown: the members stay as they are
		_, err = txn.Commit(ctx)
		return g.UUID, err
	}
	want := haChassisFor(d.allChassis(), hints)
	members := d.haMembers(ctx, g)
	cur := map[string]*nbdb.HAChassis{}
	for i, hc := range members {
		if !want[hc.ChassisName] {
			dropHAChassis(txn, g, hc.UUID)
		}
		cur[hc.ChassisName] = &members[i]
	}
	for name, prio := range haPriorities(members, want, shuffle) {
		setHAChassis(txn, g, cur[name], name, prio)
	}
	_, err = txn.Commit(ctx)
	return g.UUID, err
}

// haPriorities are the priorities sync_ha_chassis_group (Zed 21.0.0) gives the chassis a group
// should hold (want), given its members: when the member of the highest priority is one of them, it
// keeps 32767 and the others follow one below the other in the order shuffle leaves them (sorted
// before); when it is not, all of them are ordered so, from 32767 down.
func haPriorities(members []nbdb.HAChassis, want map[string]bool, shuffle func([]string)) map[string]int {
	out := map[string]int{}
	prio := haPriorityHighest
	var top *nbdb.HAChassis
	for i := range members {
		if top == nil || members[i].Priority > top.Priority {
			top = &members[i]
		}
	}
	if top != nil && want[top.ChassisName] {
		out[top.ChassisName] = prio
		prio--
	}
	var rest []string
	for name := range want {
		if _, ok := out[name]; !ok {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	shuffle(rest)
	for _, name := range rest {
		out[name] = prio
		prio--
	}
	return out
}

func shuffle(names []string) {
	rand.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
}

// setHAChassis gives a chassis its priority in a group: the row cur when it has one, else a new one.
func setHAChassis(txn *ovn.Txn, g *nbdb.HAChassisGroup, cur *nbdb.HAChassis, name string, prio int) {
	if cur != nil {
		hc := &nbdb.HAChassis{UUID: cur.UUID, Priority: prio}
		txn.Update(hc, &hc.Priority)
		return
	}
	hc := &nbdb.HAChassis{UUID: ovn.NamedUUID("hc" + g.Name + name), ChassisName: name, Priority: prio}
	txn.Create(hc)
	m := &nbdb.HAChassisGroup{UUID: g.UUID}
	txn.Mutate(m, model.Mutation{Field: &m.HaChassis, Mutator: "insert", Value: []string{hc.UUID}})
}

func dropHAChassis(txn *ovn.Txn, g *nbdb.HAChassisGroup, uuid string) {
	m := &nbdb.HAChassisGroup{UUID: g.UUID}
	txn.Mutate(m, model.Mutation{Field: &m.HaChassis, Mutator: "delete", Value: []string{uuid}})
}

// followChassis is Neutron's ChassisEvent for the HA chassis groups, run by the lease holder: a
// gateway chassis that appeared in a group's zones (or, for a group without hints, in no zone)
// joins it one below its lowest priority, a chassis that is gone, no longer a gateway or out of
// the zones leaves.
func (d *Driver) followChassis(ctx context.Context) {
	var groups []nbdb.HAChassisGroup
	_ = d.nb.OVSDB().WhereCache(func(g *nbdb.HAChassisGroup) bool { return strings.HasPrefix(g.Name, switchPrefix) }).List(ctx, &groups)
	if len(groups) == 0 {
		return
	}
	all := d.allChassis()
	if len(all) == 0 {
		return // SB just (re)connected, or empty: no reason to empty the groups
	}
	for _, g := range groups {
		if err := d.followChassisIn(ctx, all, g.Name); err != nil {
			d.log.Warn("HA chassis group not updated", "group", g.Name, "error", err.Error())
		}
	}
}

func (d *Driver) followChassisIn(ctx context.Context, all []sbdb.Chassis, name string) error {
	defer d.locked(resHAGroup, strings.TrimPrefix(name, switchPrefix))()
	g := d.haGroupByName(ctx, name)
	if g == nil {
		return nil
	}
	want := haChassisFor(all, groupHints(g))
	txn := d.nb.Txn()
	lowest, changed := haPriorityHighest, false
	for _, hc := range d.haMembers(ctx, g) {
		lowest = min(lowest, hc.Priority)
		if !want[hc.ChassisName] {
			dropHAChassis(txn, g, hc.UUID)
			changed = true
		}
		delete(want, hc.ChassisName)
	}
	fresh := make([]string, 0, len(want))
	for ch := range want {
		fresh = append(fresh, ch)
	}
	slices.Sort(fresh)
	for _, ch := range fresh {
		lowest--
		setHAChassis(txn, g, nil, ch, lowest)
		changed = true
	}
	if !changed {
		return nil
	}
	_, err := txn.Commit(ctx)
	return err
}

// deleteHAGroup adds to txn the deletion of the network's group, if it has one.
func (d *Driver) deleteHAGroup(ctx context.Context, txn *ovn.Txn, netID string) {
	if g := d.haGroupByName(ctx, switchName(netID)); g != nil {
		txn.Delete(&nbdb.HAChassisGroup{UUID: g.UUID})
	}
}

// checkExternalPorts is Neutron's check_for_ha_chassis_group, run once by the lease holder: every
// external port is made to point at its network's group, synced (made) for it when the port does not
// (the members of the groups that exist are the chassis loop's: syncing those again would only
// reshuffle their lower priorities), and the default_ha_chassis_group of older releases goes.
func (d *Driver) checkExternalPorts(ctx context.Context) error {
	var lsps []nbdb.LogicalSwitchPort
	if err := d.nb.OVSDB().WhereCache(func(p *nbdb.LogicalSwitchPort) bool { return p.Type == "external" }).List(ctx, &lsps); err != nil {
		return err
	}
	for _, p := range lsps {
		netID, ok := strings.CutPrefix(p.ExternalIDs["neutron:network_name"], switchPrefix)
		if !ok {
			continue
		}
		if g := d.haGroupByName(ctx, switchName(netID)); g != nil && p.HaChassisGroup != nil && *p.HaChassisGroup == g.UUID {
			continue
		}
		g, err := d.syncHAGroup(ctx, netID)
		if gone(err) {
			continue // the network's deletion will take the switch away
		} else if err != nil {
			return err
		}
		lsp := &nbdb.LogicalSwitchPort{UUID: p.UUID, HaChassisGroup: &g}
		if _, err := d.nb.Txn().Update(lsp, &lsp.HaChassisGroup).Commit(ctx); err != nil {
			return err
		}
	}
	if g := d.haGroupByName(ctx, "default_ha_chassis_group"); g != nil { // older releases' single group
		_, err := d.nb.Txn().Delete(&nbdb.HAChassisGroup{UUID: g.UUID}).Commit(ctx)
		return err
	}
	return nil
}

// remoteManaged gives the LSP of a remote-managed port (a VF of a SmartNIC DPU, plugged by the
// DPU's ovn-controller) what Zed's _get_port_options does: requested-chassis = the DPU chassis'
// hostname (by the profile's card_serial_number), and with the profile's pf_mac_address the
// vif-plug options of a representor port (vif-plug-type representor, vif-plug-mtu-request = the
// network's MTU, vif-plug:representor:pf-mac, vif-plug:representor:vf-num).
func (d *Driver) remoteManaged(ctx context.Context, port api.Object, lsp *nbdb.LogicalSwitchPort) {
	if str(port["binding:vnic_type"]) != "remote-managed" || lsp.Type != "" {
		return
	}
	profile, _ := port["binding:profile"].(map[string]any)
	lsp.Options["requested-chassis"] = d.dpuHost(profile)
	pf := str(profile["pf_mac_address"])
	if pf == "" {
		return
	}
	mtu := ""
	if net, err := d.tables.networks.Get(ctx, str(port["network_id"]), []string{"mtu"}); err == nil {
		mtu = strconv.FormatInt(intOf(net["mtu"]), 10)
	}
	lsp.Options["vif-plug-type"], lsp.Options["vif-plug-mtu-request"] = "representor", mtu
	lsp.Options["vif-plug:representor:pf-mac"] = pf
	lsp.Options["vif-plug:representor:vf-num"] = strconv.FormatInt(intOf(profile["vf_num"]), 10)
}
