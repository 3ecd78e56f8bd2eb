package ml2

import (
	"context"
	"net/netip"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- update ----

func (p *Plugin) beforeUpdatePort(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	id := old["id"].(string)
	netID := old["network_id"].(string)
	owner, _ := old["device_owner"].(string)
	if o, ok := ch["device_owner"].(string); ok {
		owner = o
	}
	oldMAC, _ := old["mac_address"].(string)
	// MAC changes (null regenerates one: port-mac-address-regenerate)
	macChanged := false
	if v, ok := ch["mac_address"]; ok {
		newMAC, _ := v.(string)
		if v == nil || api.SanitizeMAC(newMAC) != api.SanitizeMAC(oldMAC) {
			if strings.HasPrefix(owner, ownerNetworkPrefix) && owner != "" {
				return nerr.Conflict("UnsupportedPortDeviceOwner", "Operation %s is not supported for device_owner %s on port %s.", "mac address update", owner, "<built-in function id>")
			}
			if err := releaseMAC(ctx, tx, netID, oldMAC); err != nil {
				return err
			}
			mac, err := p.assignMAC(ctx, tx, netID, id, v)
			if err != nil {
				return err
			}
			ch["mac_address"] = mac
			macChanged = true
		} else {
			delete(ch, "mac_address")
		}
	}
	if err := p.updatePortIPs(ctx, tx, old, ch, owner, macChanged); err != nil {
		return err
	}
	// port security and address pairs
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
		if pairsGiven {
			return nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
		}
		return nerr.Conflict("AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.")
	}
	pairsChanged, optsChanged := false, false
	if pairsGiven {
		mac := oldMAC
		if m, ok := ch["mac_address"].(string); ok {
			mac = m
		}
		norm := normalizePairs(pairs, mac)
		oldPairs, _ := old["allowed_address_pairs"].([]any)
		pairsChanged = api.PyRepr(norm) != api.PyRepr(oldPairs)
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
	// binding: a changed host, vnic type or profile unbinds the port
	changed := false
	if h, ok := ch["binding:host_id"]; ok {
		host := ""
		if h != nil {
			host = api.PyStr(h)
		}
		ch["binding:host_id"] = host
		changed = changed || host != api.PyStr(old["binding:host_id"])
	}
	if v, ok := ch["binding:vnic_type"]; ok {
		changed = changed || api.PyStr(v) != api.PyStr(old["binding:vnic_type"])
	}
	if prof, ok := ch["binding:profile"]; ok {
		if prof == nil {
			prof = map[string]any{}
			ch["binding:profile"] = prof
		}
		if err := checkProfileSize(prof); err != nil {
			return err
		}
		changed = changed || api.PyRepr(prof) != api.PyRepr(old["binding:profile"])
		ch["binding:profile"] = nilIfEmpty(prof)
	}
	if err := p.rebind(op, changed); err != nil {
		return err
	}
	// a port with a host is bound again after each update (one more
	// revision, not shown in the answer: see portResult)
	hostAfter, _ := old["binding:host_id"].(string)
	if h, ok := ch["binding:host_id"].(string); ok {
		hostAfter = h
	}
	hidden := true
	if hostAfter != "" {
		if err := p.ports.BumpRevision(ctx, tx, id); err != nil {
			return err
		}
	} else {
		for _, a := range visibleUpdateAttrs {
			if _, ok := ch[a]; ok {
				hidden = false
			}
		}
		if pairsChanged || optsChanged {
			hidden = false
		}
	}
	op.Set(hiddenRevisionKey{}, hidden)
	if _, ok := ch["dns_name"]; ok && !p.dnsNamesStored() {
		delete(ch, "dns_name")
	}
	if !p.ExtensionDriverLoaded("port_numa_affinity_policy") {
		delete(ch, "numa_affinity_policy")
	}
	return nil
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
	id := old["id"].(string)
	netID := old["network_id"].(string)
	orig, _ := old["fixed_ips"].([]any)
	type origIP struct{ subnetID, ip string }
	var origIPs []origIP
	for _, e := range orig {
		m, _ := e.(map[string]any)
		origIPs = append(origIPs, origIP{api.PyStr(m["subnet_id"]), api.PyStr(m["ip_address"])})
	}
	var newList []fixedReq
	deleteSubnets := map[string]bool{}
	if given {
		l, _ := raw.([]any)
		newList = parseFixed(l)
	} else if len(origIPs) > 0 {
		for _, o := range origIPs {
			newList = append(newList, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
		}
	}
	var mac [6]byte
	macStr, _ := old["mac_address"].(string)
	if m, ok := ch["mac_address"].(string); ok {
		macStr = m
	}
	mac, _ = ipam.ParseMAC(macStr)
	if macChanged {
		for _, o := range origIPs {
			a, err := netip.ParseAddr(o.ip)
			if err == nil && ipam.IsEUI64(a) {
				deleteSubnets[o.subnetID] = true
				// the entry naming this address is replaced by a deletion
				for i := range newList {
					if newList[i].subnetID == o.subnetID {
						newList[i] = fixedReq{subnetID: o.subnetID, hasSub: true}
					}
				}
			}
		}
	}
	all, err := networkSubnets(ctx, tx, "s.network_id = ?", netID)
	if err != nil {
		return err
	}
	byID := map[string]*subnetInfo{}
	for _, s := range all {
		byID[s.ID] = s
	}
	// _get_changed_ips_for_port
	var ips []fixedReq
	for _, f := range newList {
		if !deleteSubnets[f.subnetID] || !f.hasSub {
			ips = append(ips, f)
		}
	}
	var add []fixedReq
	var keep, remove []origIP
	origByIP := map[string]origIP{}
	for _, o := range origIPs {
		origByIP[o.ip] = o
	}
	for _, f := range ips {
		if !f.hasIP {
			continue
		}
		if o, ok := origByIP[f.ip]; ok {
			keep = append(keep, o)
			delete(origByIP, f.ip)
		} else {
			add = append(add, f)
		}
	}
	origBySubnet := map[string][]origIP{}
	var order []string
	for _, o := range origIPs {
		if _, ok := origByIP[o.ip]; ok {
			if _, seen := origBySubnet[o.subnetID]; !seen {
				order = append(order, o.subnetID)
			}
			origBySubnet[o.subnetID] = append(origBySubnet[o.subnetID], o)
		}
	}
	var candidates []origIP
	for _, f := range ips {
		if f.hasIP {
			continue
		}
		list := origBySubnet[f.subnetID]
		if len(list) == 0 {
			add = append(add, f)
			continue
		}
		o := list[len(list)-1]
		origBySubnet[f.subnetID] = list[:len(list)-1]
		a, err := netip.ParseAddr(o.ip)
		if err == nil && ipam.IsEUI64(a) {
			add = append(add, f)
			candidates = append(candidates, o)
		} else {
			keep = append(keep, o)
		}
	}
	var maybe []origIP
	for _, sid := range order {
		maybe = append(maybe, origBySubnet[sid]...)
	}
	maybe = append(maybe, candidates...)
	for _, o := range maybe {
		s := byID[o.subnetID]
		required := in(owner, routerInterfaceOwnersSNAT) || s == nil || !s.autoAddress()
		if required || deleteSubnets[o.subnetID] {
			remove = append(remove, o)
		} else {
			keep = append(keep, o)
		}
	}
	// validate the additions against the candidate subnets
	var check []fixedReq
	check = append(check, add...)
	for _, o := range keep {
		check = append(check, fixedReq{subnetID: o.subnetID, ip: o.ip, hasSub: true, hasIP: true})
	}
	host := api.PyStr(old["binding:host_id"])
	if h, ok := ch["binding:host_id"]; ok && h != nil {
		host = api.PyStr(h)
	}
	subs, err := ipamSubnets(all, netID, owner, host != "", true, check)
	if err == errDeferIpam {
		subs, err = nil, nil
	}
	if err != nil {
		return err
	}
	reqs, err := p.testFixedIPs(ctx, tx, netID, owner, add, subs)
	if err != nil {
		return err
	}
	for _, o := range remove {
		if err := ipam.Release(ctx, tx, o.subnetID, o.ip); err != nil {
			return err
		}
	}
	handled := map[string]bool{}
	for _, r := range reqs {
		handled[r.subnets[0].ID] = true
	}
	for _, o := range keep {
		handled[o.subnetID] = true
	}
	for _, o := range remove {
		handled[o.subnetID] = true
	}
	reqs = append(reqs, autoAddressRequests(subs, owner, mac, handled)...)
	// a new MAC: EUI-64 addresses are made again (auto_assign_subnets)
	if len(deleteSubnets) > 0 {
		var again []*subnetInfo
		for _, s := range subs {
			if deleteSubnets[s.ID] {
				again = append(again, s)
			}
		}
		reqs = append(reqs, autoAddressRequests(again, owner, mac, nil)...)
	}
	added, err := p.allocate(ctx, tx, id, netID, owner, reqs)
	if err != nil {
		return err
	}
	now := added
	for _, o := range keep {
		now = append(now, fixedIP{o.subnetID, o.ip})
	}
	ch["fixed_ips"] = encodeFixedIPs(now)
	return nil
}
