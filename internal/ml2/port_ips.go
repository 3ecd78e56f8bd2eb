package ml2

import (
	"context"
	"fmt"
	"net/netip"
	"sort"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// ---- IP allocation ----

// fixedReq is one entry of a port's fixed_ips request.
type fixedReq struct {
	subnetID string
	ip       string
	hasIP    bool
	hasSub   bool
}

func parseFixed(list []any) []fixedReq {
	out := make([]fixedReq, 0, len(list))
	for _, e := range list {
		m, _ := e.(map[string]any)
		var f fixedReq
		if v, ok := m["subnet_id"]; ok {
			f.subnetID, f.hasSub = pyfmt.Str(v), true
		}
		if v, ok := m["ip_address"]; ok {
			f.ip, f.hasIP = pyfmt.Str(v), true
		}
		out = append(out, f)
	}
	return out
}

// candidateSubnets is find_candidate_subnets for a port without a known
// segment host mapping (neutrino has no agents): subnets serving the device
// owner, not on segments unless fixed IPs name them.
func candidateSubnets(all []*subnetInfo, owner string, hostSet, fixedGiven bool, fixed []fixedReq) ([]*subnetInfo, error) {
	var served []*subnetInfo
	for _, s := range all {
		if s.serves(owner) {
			served = append(served, s)
		}
	}
	if !hostSet && fixedGiven {
		var seg *string
		for _, f := range fixed {
			var sub *subnetInfo
			if f.hasSub {
				for _, s := range served {
					if s.ID == f.subnetID {
						sub = s
					}
				}
				if sub == nil {
					return served, nil
				}
			} else if f.hasIP {
				a, err := netip.ParseAddr(f.ip)
				if err == nil {
					for _, s := range served {
						if s.Prefix.Contains(a) {
							sub = s
							break
						}
					}
				}
				if sub == nil {
					return served, nil
				}
			}
			if sub != nil {
				if seg != nil && *seg != sub.SegmentID {
					return nil, nerr.New(400, "FixedIpsSubnetsNotOnSameSegment", "Cannot allocate addresses from different segments.")
				}
				s := sub.SegmentID
				seg = &s
			}
		}
		want := ""
		if seg != nil {
			want = *seg
		}
		var out []*subnetInfo
		for _, s := range served {
			if s.SegmentID == want {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var out []*subnetInfo
	for _, s := range served {
		if s.SegmentID == "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// hostNotConnected is HostNotConnectedToAnySegment (port creation names
// the host).
func hostNotConnected(host, netID string) error {
	return nerr.Conflict("HostNotConnectedToAnySegment", "Host %s is not connected to any segments on routed provider network '%s'.  It should be connected to one.", host, netID)
}

// errDeferIpam marks a port whose addresses wait for its host.
var errDeferIpam = fmt.Errorf("defer ipam")

// ipamSubnets is _ipam_get_subnets: the candidate subnets, those with
// service types first; errDeferIpam or Neutron's errors when none.
func ipamSubnets(all []*subnetInfo, netID, owner string, hostSet, fixedGiven bool, fixed []fixedReq) ([]*subnetInfo, error) {
	subs, err := candidateSubnets(all, owner, hostSet, fixedGiven, fixed)
	if err != nil {
		return nil, err
	}
	if len(subs) > 0 {
		sort.SliceStable(subs, func(i, j int) bool { return len(subs[i].ServiceTypes) > 0 && len(subs[j].ServiceTypes) == 0 })
		return subs, nil
	}
	if hostSet {
		for _, s := range all {
			if s.SegmentID != "" {
				return nil, hostNotConnected("", netID)
			}
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	for _, s := range all {
		if s.serves(owner) {
			return nil, errDeferIpam
		}
	}
	return nil, nerr.Conflict("IpAddressGenerationFailureNoMatchingSubnet", "No valid service subnet for the given device owner, network %s, service type %s.", netID, owner)
}

func ipGenerationFailure(netID string) error {
	return nerr.Conflict("IpAddressGenerationFailure", "No more IP addresses available on network %s.", netID)
}

// ipRequest is one address to allocate: a specific address, any address
// from one of several subnets, or an EUI-64 address.
type ipRequest struct {
	subnets []*subnetInfo // any of these (in order)
	ip      netip.Addr    // specific (or EUI-64) address
}

// testFixedIPs is _test_fixed_ips_for_port.
func (p *Plugin) testFixedIPs(ctx context.Context, q db.Querier, netID, owner string, fixed []fixedReq, subs []*subnetInfo) ([]ipRequest, error) {
	var out []ipRequest
	for _, f := range fixed {
		s, err := p.subnetForFixedIP(ctx, q, netID, owner, f, subs)
		if err != nil {
			return nil, err
		}
		auto := s.autoAddress()
		if f.hasIP {
			if auto && !in(owner, routerInterfaceOwners) {
				return nil, nerr.New(400, "AllocationOnAutoAddressSubnet", "IPv6 address %s cannot be directly assigned to a port on subnet %s as the subnet is configured for automatic addresses", f.ip, s.ID)
			}
			a, _ := netip.ParseAddr(f.ip)
			out = append(out, ipRequest{subnets: []*subnetInfo{s}, ip: a})
		} else if in(owner, routerInterfaceOwnersSNAT) || !auto {
			out = append(out, ipRequest{subnets: []*subnetInfo{s}})
		}
	}
	return out, nil
}

// subnetForFixedIP is _get_subnet_for_fixed_ip.
func (p *Plugin) subnetForFixedIP(ctx context.Context, q db.Querier, netID, owner string, f fixedReq, subs []*subnetInfo) (*subnetInfo, error) {
	if len(subs) == 0 {
		return nil, nerr.InvalidInput("IP allocation requires subnets for network")
	}
	if f.hasSub {
		for _, s := range subs {
			if s.ID == f.subnetID {
				if f.hasIP {
					a, err := netip.ParseAddr(f.ip)
					if err != nil || !netaddr.CheckSubnetIP(s.Prefix, a, owner) {
						return nil, nerr.New(400, "InvalidIpForSubnet", "IP address %s is not a valid IP for the specified subnet.", f.ip)
					}
				}
				return s, nil
			}
		}
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM subnets WHERE id = ?", f.subnetID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, SubnetNotFound(f.subnetID)
		}
		return nil, nerr.InvalidInput(fmt.Sprintf("Failed to create port on network %s, because fixed_ips included invalid subnet %s", netID, f.subnetID))
	}
	if !f.hasIP {
		return nil, nerr.InvalidInput("IP allocation requires subnet_id or ip_address")
	}
	a, err := netip.ParseAddr(f.ip)
	if err == nil {
		for _, s := range subs {
			if netaddr.CheckSubnetIP(s.Prefix, a, owner) {
				return s, nil
			}
		}
	}
	return nil, nerr.New(400, "InvalidIpForNetwork", "IP address %s is not a valid IP for any of the subnets on the specified network.", f.ip)
}

// autoAddressRequests are the EUI-64 addresses of a port on the network's
// SLAAC / DHCPv6-stateless subnets (none for router ports).
func autoAddressRequests(subs []*subnetInfo, owner string, mac [6]byte, exclude map[string]bool) []ipRequest {
	if in(owner, routerInterfaceOwnersSNAT) {
		return nil
	}
	var out []ipRequest
	for _, s := range subs {
		if s.autoAddress() && !exclude[s.ID] {
			out = append(out, ipRequest{subnets: []*subnetInfo{s}, ip: netaddr.EUI64(s.Prefix, mac)})
		}
	}
	return out
}

// allocate claims addresses for a port: specific ones first, then any
// address from each group of subnets.
func (p *Plugin) allocate(ctx context.Context, tx *db.Tx, portID, netID, owner string, reqs []ipRequest) ([]fixedIP, error) {
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].ip.IsValid() && !reqs[j].ip.IsValid() })
	var out []fixedIP
	for _, r := range reqs {
		if r.ip.IsValid() {
			s := r.subnets[0]
			ok, err := ipam.Insert(ctx, tx, s.ipam(), r.ip, portID)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, nerr.Conflict("IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", netaddr.Format(r.ip), s.ID)
			}
			out = append(out, fixedIP{s.ID, netaddr.Format(r.ip)})
			continue
		}
		done := false
		for _, s := range r.subnets {
			a, ok, err := ipam.AllocateAny(ctx, tx, s.ipam(), portID, owner == OwnerDHCP || owner == OwnerDistributed)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, fixedIP{s.ID, netaddr.Format(a)})
				done = true
				break
			}
		}
		if !done {
			return nil, ipGenerationFailure(netID)
		}
	}
	return out, nil
}

// allocatePortIPs is _allocate_ips_for_port; it returns ip_allocation and
// the addresses given.
func (p *Plugin) allocatePortIPs(ctx context.Context, tx *db.Tx, portID, netID, owner string, mac [6]byte, hostSet, fixedGiven bool, fixedList []any) (string, []fixedIP, error) {
	all, err := networkSubnets(ctx, tx, "s.network_id = ?", netID)
	if err != nil {
		return "", nil, err
	}
	fixed := parseFixed(fixedList)
	subs, err := ipamSubnets(all, netID, owner, hostSet, fixedGiven, fixed)
	if err == errDeferIpam {
		return "deferred", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	var reqs []ipRequest
	if fixedGiven {
		if reqs, err = p.testFixedIPs(ctx, tx, netID, owner, fixed, subs); err != nil {
			return "", nil, err
		}
	} else {
		var v4, v6 []*subnetInfo
		for _, s := range subs {
			switch {
			case s.IPVersion == 4:
				v4 = append(v4, s)
			case !s.autoAddress():
				v6 = append(v6, s)
			}
		}
		if len(v4) > 0 {
			reqs = append(reqs, ipRequest{subnets: v4})
		}
		if len(v6) > 0 {
			reqs = append(reqs, ipRequest{subnets: v6})
		}
	}
	reqs = append(reqs, autoAddressRequests(subs, owner, mac, nil)...)
	ips, err := p.allocate(ctx, tx, portID, netID, owner, reqs)
	return "immediate", ips, err
}

// portFixedIPs reads a port's addresses from ipallocations.
func portFixedIPs(ctx context.Context, q db.Querier, portID string) ([]fixedIP, error) {
	rows, err := q.Query(ctx, "SELECT subnet_id, ip_address FROM ipallocations WHERE port_id = ?", portID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fixedIP
	for rows.Next() {
		var f fixedIP
		if err := rows.Scan(&f.subnetID, &f.ip); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// syncFixedIPs rewrites the fixed_ips copy of ports after their
// allocations changed elsewhere (subnet deletion, SLAAC addresses).
func syncFixedIPs(ctx context.Context, tx *db.Tx, portIDs []string) error {
	for _, id := range portIDs {
		ips, err := portFixedIPs(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE ports SET fixed_ips = ? WHERE id = ?", encodeFixedIPs(ips), id); err != nil {
			return err
		}
	}
	return nil
}
