package ml2

import (
	"context"
	"net/netip"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- update ----

func (p *Plugin) beforeUpdatePort(op *store.Op) error {
	old, ch := op.Old, op.New
	if _, ok := ch["status"]; ok && len(ch) == 1 {
		// Neutron's update_port_status (the API cannot write status): one revision, no rebinding
		return nil
	}
	owner, _ := old["device_owner"].(string)
	if o, ok := ch["device_owner"].(string); ok {
		owner = o
	}
	macChanged, err := p.updatePortMAC(op.Ctx, op.Tx, old, ch, owner)
	if err != nil {
		return err
	}
	if err := p.updatePortIPs(op.Ctx, op.Tx, old, ch, owner, macChanged); err != nil {
		return err
	}
	listsChanged, err := updatePairsAndOpts(old, ch)
	if err != nil {
		return err
	}
	bindingChanged, err := updateBinding(old, ch)
	if err != nil {
		return err
	}
	if err := p.rebind(op, bindingChanged); err != nil {
		return err
	}
	if err := p.markHiddenRevision(op, listsChanged); err != nil {
		return err
	}
	if _, ok := ch["dns_name"]; ok && !p.dnsNamesStored() {
		delete(ch, "dns_name")
	}
	if !p.ExtensionDriverLoaded("port_numa_affinity_policy") {
		delete(ch, "numa_affinity_policy")
	}
	return nil
}

// updatePortMAC applies a MAC change (null regenerates one:
// port-mac-address-regenerate); an unchanged MAC is dropped from the
// changes. It reports whether the MAC changed.
func (p *Plugin) updatePortMAC(ctx context.Context, tx *db.Tx, old, ch api.Object, owner string) (bool, error) {
	v, ok := ch["mac_address"]
	if !ok {
		return false, nil
	}
	id := old["id"].(string)
	netID := old["network_id"].(string)
	oldMAC, _ := old["mac_address"].(string)
	newMAC, _ := v.(string)
	if v != nil && api.SanitizeMAC(newMAC) == api.SanitizeMAC(oldMAC) {
		delete(ch, "mac_address")
		return false, nil
	}
	if strings.HasPrefix(owner, ownerNetworkPrefix) && owner != "" {
		return false, nerr.Conflict("UnsupportedPortDeviceOwner", "Operation %s is not supported for device_owner %s on port %s.", "mac address update", owner, "<built-in function id>")
	}
	if err := releaseMAC(ctx, tx, netID, oldMAC); err != nil {
		return false, err
	}
	mac, err := p.assignMAC(ctx, tx, netID, id, v)
	if err != nil {
		return false, err
	}
	ch["mac_address"] = mac
	return true, nil
}

// updatePairsAndOpts checks port security against the allowed address
// pairs, normalizes the given pairs and merges the given extra DHCP
// options. It reports whether either list changed.
func updatePairsAndOpts(old, ch api.Object) (bool, error) {
	ps, _ := old["port_security_enabled"].(bool)
	if v, ok := ch["port_security_enabled"].(bool); ok {
		ps = v
	}
	var pairs []any
	pairsGiven := false
	if v, ok := ch["allowed_address_pairs"]; ok {
		pairs, _ = v.([]any)
		pairsGiven = true
	} else {
		pairs, _ = old["allowed_address_pairs"].([]any)
	}
	if !ps && len(pairs) > 0 {
		return false, nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	pairsChanged, optsChanged := false, false
	if pairsGiven {
		mac, _ := old["mac_address"].(string)
		if m, ok := ch["mac_address"].(string); ok {
			mac = m
		}
		norm := normalizePairs(pairs, mac)
		oldPairs, _ := old["allowed_address_pairs"].([]any)
		pairsChanged = pyfmt.Repr(norm) != pyfmt.Repr(oldPairs)
		ch["allowed_address_pairs"] = nilIfEmpty(norm)
	}
	if opts, ok := ch["extra_dhcp_opts"].([]any); ok && len(opts) > 0 {
		cur, _ := old["extra_dhcp_opts"].([]any)
		var merged []any
		merged, optsChanged = mergeDHCPOpts(cur, opts)
		ch["extra_dhcp_opts"] = nilIfEmpty(merged)
	} else {
		delete(ch, "extra_dhcp_opts")
	}
	return pairsChanged || optsChanged, nil
}

// updateBinding normalizes the binding attributes of the changes; it
// reports whether the host, vnic type or profile changed (which unbinds
// the port).
func updateBinding(old, ch api.Object) (bool, error) {
	changed := false
	if h, ok := ch["binding:host_id"]; ok {
		host := ""
		if h != nil {
			host = pyfmt.Str(h)
		}
		ch["binding:host_id"] = host
		changed = changed || host != pyfmt.Str(old["binding:host_id"])
	}
	if v, ok := ch["binding:vnic_type"]; ok {
		changed = changed || pyfmt.Str(v) != pyfmt.Str(old["binding:vnic_type"])
	}
	if prof, ok := ch["binding:profile"]; ok {
		if prof == nil {
			prof = map[string]any{}
			ch["binding:profile"] = prof
		}
		if err := checkProfileSize(prof); err != nil {
			return false, err
		}
		changed = changed || pyfmt.Repr(prof) != pyfmt.Repr(old["binding:profile"])
		ch["binding:profile"] = nilIfEmpty(prof)
	}
	return changed, nil
}

// markHiddenRevision: a port with a host is bound again after each update
// (one more revision, not shown in the answer: see portResult); a port
// without one hides the revision of an update that changed nothing
// visible.
func (p *Plugin) markHiddenRevision(op *store.Op, listsChanged bool) error {
	old, ch := op.Old, op.New
	hostAfter, _ := old["binding:host_id"].(string)
	if h, ok := ch["binding:host_id"].(string); ok {
		hostAfter = h
	}
	hidden := true
	if hostAfter != "" {
		if err := p.ports.BumpRevision(op.Ctx, op.Tx, old["id"].(string)); err != nil {
			return err
		}
	} else {
		for _, a := range visibleUpdateAttrs {
			if _, ok := ch[a]; ok {
				hidden = false
			}
		}
		if listsChanged {
			hidden = false
		}
	}
	op.Set(hiddenRevisionKey{}, hidden)
	return nil
}

// portIPUpdate is one port's update_port_with_ips: its current addresses,
// the ones requested, and the difference to apply.
type portIPUpdate struct {
	id, netID, owner string
	hostSet          bool
	mac              [6]byte
	orig             []fixedIP  // the addresses the port has
	requested        []fixedReq // fixed_ips as asked (or the current ones)
	// moved are the subnets whose EUI-64 addresses a new MAC makes again
	moved   map[string]bool
	subnets []*subnetInfo // the network's
	// the difference (_get_changed_ips_for_port)
	add          []fixedReq
	keep, remove []fixedIP
}

// updatePortIPs is update_port_with_ips: the difference between the
// requested and current fixed IPs is deallocated and allocated; a new MAC
// moves EUI-64 addresses.
func (p *Plugin) updatePortIPs(ctx context.Context, tx *db.Tx, old, ch api.Object, owner string, macChanged bool) error {
	raw, given := ch["fixed_ips"]
	if !given && !macChanged {
		return nil
	}
	delete(ch, "fixed_ips") // set again below to the addresses the port has
	u := newPortIPUpdate(old, ch, owner)
	u.request(raw, given, macChanged)
	all, err := networkSubnets(ctx, tx, "s.network_id = ?", u.netID)
	if err != nil {
		return err
	}
	u.subnets = all
	u.diff()
	now, err := p.applyIPUpdate(ctx, tx, u)
	if err != nil {
		return err
	}
	ch["fixed_ips"] = encodeFixedIPs(now)
	return nil
}

// newPortIPUpdate reads the port's current addresses, MAC and host (the
// changed ones when the update sets them).
func newPortIPUpdate(old, ch api.Object, owner string) *portIPUpdate {
	u := &portIPUpdate{id: old["id"].(string), netID: old["network_id"].(string), owner: owner, moved: map[string]bool{}}
	orig, _ := old["fixed_ips"].([]any)
	for _, e := range orig {
		m, _ := e.(map[string]any)
		u.orig = append(u.orig, fixedIP{pyfmt.Str(m["subnet_id"]), pyfmt.Str(m["ip_address"])})
	}
	macStr, _ := old["mac_address"].(string)
	if m, ok := ch["mac_address"].(string); ok {
		macStr = m
	}
	u.mac, _ = netaddr.ParseMAC(macStr)
	host := pyfmt.Str(old["binding:host_id"])
	if h, ok := ch["binding:host_id"]; ok && h != nil {
		host = pyfmt.Str(h)
	}
	u.hostSet = host != ""
	return u
}

// request sets the requested fixed IPs: the given list, else the current
// addresses. With a new MAC, the entries of subnets holding an EUI-64
// address become bare subnet requests (the address is made again).
func (u *portIPUpdate) request(raw any, given, macChanged bool) {
	if given {
		l, _ := raw.([]any)
		u.requested = parseFixed(l)
	} else {
		for _, o := range u.orig {
			u.requested = append(u.requested, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
		}
	}
	if !macChanged {
		return
	}
	for _, o := range u.orig {
		if !isEUI64(o.ip) {
			continue
		}
		u.moved[o.subnetID] = true
		// the entry naming this address is replaced by a deletion
		for i := range u.requested {
			if u.requested[i].subnetID == o.subnetID {
				u.requested[i] = fixedReq{subnetID: o.subnetID, hasSub: true}
			}
		}
	}
}

// isEUI64 reports whether ip is an address made from a MAC.
func isEUI64(ip string) bool {
	a, err := netip.ParseAddr(ip)
	return err == nil && netaddr.IsEUI64(a)
}

// diff is _get_changed_ips_for_port: requested addresses the port has are
// kept, new ones added; a bare subnet request keeps one of the port's
// addresses on that subnet (an EUI-64 one is made again); the port's other
// addresses are removed, except automatic (SLAAC) ones a port keeps.
func (u *portIPUpdate) diff() {
	var ips []fixedReq
	for _, f := range u.requested {
		if !u.moved[f.subnetID] || !f.hasSub {
			ips = append(ips, f)
		}
	}
	unmatched := u.matchAddresses(ips)
	// the port's addresses not named, by subnet in order
	bySubnet := map[string][]fixedIP{}
	var order []string
	for _, o := range u.orig {
		if unmatched[o.ip] {
			if _, seen := bySubnet[o.subnetID]; !seen {
				order = append(order, o.subnetID)
			}
			bySubnet[o.subnetID] = append(bySubnet[o.subnetID], o)
		}
	}
	var candidates []fixedIP
	for _, f := range ips {
		if f.hasIP {
			continue
		}
		list := bySubnet[f.subnetID]
		if len(list) == 0 {
			u.add = append(u.add, f)
			continue
		}
		o := list[len(list)-1]
		bySubnet[f.subnetID] = list[:len(list)-1]
		if isEUI64(o.ip) {
			u.add = append(u.add, f)
			candidates = append(candidates, o)
		} else {
			u.keep = append(u.keep, o)
		}
	}
	var maybe []fixedIP
	for _, sid := range order {
		maybe = append(maybe, bySubnet[sid]...)
	}
	u.removeUnrequested(append(maybe, candidates...))
}

// matchAddresses keeps the requested addresses the port has and adds the
// others; it returns the port's addresses no request named.
func (u *portIPUpdate) matchAddresses(ips []fixedReq) map[string]bool {
	origByIP := map[string]fixedIP{}
	for _, o := range u.orig {
		origByIP[o.ip] = o
	}
	for _, f := range ips {
		if !f.hasIP {
			continue
		}
		if o, ok := origByIP[f.ip]; ok {
			u.keep = append(u.keep, o)
			delete(origByIP, f.ip)
		} else {
			u.add = append(u.add, f)
		}
	}
	unmatched := map[string]bool{}
	for ip := range origByIP {
		unmatched[ip] = true
	}
	return unmatched
}

// removeUnrequested removes the addresses no request kept, except the
// automatic ones of a port that is not a router's SNAT interface.
func (u *portIPUpdate) removeUnrequested(maybe []fixedIP) {
	byID := map[string]*subnetInfo{}
	for _, s := range u.subnets {
		byID[s.ID] = s
	}
	for _, o := range maybe {
		s := byID[o.subnetID]
		required := in(u.owner, routerInterfaceOwnersSNAT) || s == nil || !s.autoAddress()
		if required || u.moved[o.subnetID] {
			u.remove = append(u.remove, o)
		} else {
			u.keep = append(u.keep, o)
		}
	}
}

// applyIPUpdate validates the additions against the candidate subnets,
// releases the removed addresses and allocates the new ones (and the
// automatic addresses of subnets not yet handled); it returns the port's
// addresses after the update.
func (p *Plugin) applyIPUpdate(ctx context.Context, tx *db.Tx, u *portIPUpdate) ([]fixedIP, error) {
	var check []fixedReq
	check = append(check, u.add...)
	for _, o := range u.keep {
		check = append(check, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
	}
	subs, err := ipamSubnets(u.subnets, u.netID, u.owner, u.hostSet, true, check)
	if err == errDeferIpam {
		subs, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	reqs, err := p.testFixedIPs(ctx, tx, u.netID, u.owner, u.add, subs)
	if err != nil {
		return nil, err
	}
	for _, o := range u.remove {
		if err := ipam.Release(ctx, tx, o.subnetID, o.ip); err != nil {
			return nil, err
		}
	}
	handled := map[string]bool{}
	for _, r := range reqs {
		handled[r.subnets[0].ID] = true
	}
	for _, o := range append(append([]fixedIP(nil), u.keep...), u.remove...) {
		handled[o.subnetID] = true
	}
	reqs = append(reqs, autoAddressRequests(subs, u.owner, u.mac, handled)...)
	// a new MAC: EUI-64 addresses are made again (auto_assign_subnets)
	if len(u.moved) > 0 {
		var again []*subnetInfo
		for _, s := range subs {
			if u.moved[s.ID] {
				again = append(again, s)
			}
		}
		reqs = append(reqs, autoAddressRequests(again, u.owner, u.mac, nil)...)
	}
	added, err := p.allocate(ctx, tx, u.id, u.netID, u.owner, reqs)
	if err != nil {
		return nil, err
	}
	return append(added, u.keep...), nil
}
