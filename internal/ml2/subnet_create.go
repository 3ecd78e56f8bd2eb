package ml2

import (
	"fmt"
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

// ---- create ----

type subnetCreateState struct {
	pools        []netaddr.Range
	dns          []any
	routes       []any
	serviceTypes []any
}

type subnetCreateKey struct{}

func isGiven(obj api.Object, k string) bool {
	v, ok := obj[k]
	return ok && v != nil && v != api.NotSpecified
}

func (p *Plugin) beforeCreateSubnet(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	if err := p.resolveSubnetCIDR(op); err != nil {
		return err
	}
	if _, ok := obj["subnetpool_id"]; !ok {
		obj["subnetpool_id"] = nil
	}
	netID, _ := obj["network_id"].(string)
	pfx, _ := netaddr.Prefix(obj["cidr"].(string))
	version := netaddr.Version(pfx.Addr())
	gw := defaultGateway(obj, pfx)
	pools, err := prepareAllocationPools(obj["allocation_pools"], pfx, gw)
	if err != nil {
		return err
	}
	if gw.IsValid() && netaddr.GatewayInvalid(pfx, gw) {
		return nerr.Conflict("IpamValueInvalid", "Gateway IP %s cannot be allocated in CIDR %s", pyfmt.Str(obj["gateway_ip"]), netaddr.FormatPrefix(pfx))
	}
	if err := p.checkSubnetCIDR(ctx, tx, netID, pfx); err != nil {
		return err
	}
	if err := p.checkSubnetpoolAffinity(ctx, tx, netID, version, obj["subnetpool_id"]); err != nil {
		return err
	}
	seg, _ := obj["segment_id"].(string)
	types, _ := obj["service_types"].([]any)
	if err := p.checkSegmentCreate(ctx, tx, netID, seg, types); err != nil {
		return err
	}
	st := &subnetCreateState{pools: pools}
	st.dns, _ = obj["dns_nameservers"].([]any)
	st.routes, _ = obj["host_routes"].([]any)
	st.serviceTypes, _ = obj["service_types"].([]any)
	op.Set(subnetCreateKey{}, st)
	for _, k := range []string{"ipv6_ra_mode", "ipv6_address_mode"} {
		if _, ok := obj[k]; !ok {
			obj[k] = nil
		}
	}
	obj["ip_version"] = int64(version)
	return nil
}

// subnetSource is where a new subnet's CIDR comes from.
type subnetSource struct {
	cidr, pool, useDefault bool
}

// checkSubnetSource normalizes a given cidr and checks that the request
// names one source for it: a cidr, a subnet pool or the default pool.
func checkSubnetSource(obj api.Object) (subnetSource, error) {
	src := subnetSource{cidr: isGiven(obj, "cidr"), pool: isGiven(obj, "subnetpool_id")}
	src.useDefault, _ = obj["use_default_subnetpool"].(bool)
	if src.cidr && isGiven(obj, "prefixlen") {
		return src, nerr.BadRequest("subnets", "cidr and prefixlen must not be supplied together")
	}
	if src.cidr {
		pfx, ok := netaddr.Prefix(obj["cidr"].(string))
		if !ok {
			return src, nerr.InvalidInput(fmt.Sprintf("%s is not in a CIDR format", pyfmt.Str(obj["cidr"])))
		}
		obj["cidr"] = netaddr.FormatPrefix(pfx)
	}
	if src.useDefault && src.pool {
		return src, nerr.BadRequest("subnets", "subnetpool_id and use_default_subnetpool cannot both be specified")
	}
	if !src.cidr && !src.pool && !src.useDefault {
		return src, nerr.BadRequest("subnets", "a subnetpool must be specified in the absence of a cidr")
	}
	return src, nil
}

// resolveSubnetCIDR validates the request and gives the subnet its CIDR:
// the one requested, or one allocated from its subnet pool (validated
// once known), in Neutron's order of checks.
func (p *Plugin) resolveSubnetCIDR(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	src, err := checkSubnetSource(obj)
	if err != nil {
		return err
	}
	netID, _ := obj["network_id"].(string)
	if p.subnetPools == nil {
		if src.pool {
			return nerr.NotFound("SubnetPoolNotFound", "Subnet pool %s could not be found.", pyfmt.Str(obj["subnetpool_id"]))
		}
		if src.useDefault {
			return nerr.BadRequest("subnets", fmt.Sprintf("No default subnetpool found for IPv%s", pyfmt.Str(obj["ip_version"])))
		}
		if err := p.validateSubnet(obj, nil); err != nil {
			return err
		}
		_, err := p.networks.GetTx(ctx, tx, netID, false)
		return err
	}
	fromPool := src.pool || src.useDefault
	if (fromPool || !src.cidr) && isGiven(obj, "allocation_pools") && !src.cidr {
		return nerr.BadRequest("subnets", "allocation_pools allowed only for specific subnet requests.")
	}
	if !fromPool {
		if err := p.validateSubnet(obj, nil); err != nil {
			return err
		}
	}
	if _, err := p.networks.GetTx(ctx, tx, netID, false); err != nil {
		return err
	}
	if err := p.subnetPools.AllocateSubnet(ctx, tx, obj); err != nil {
		return err
	}
	if !isGiven(obj, "cidr") {
		return nerr.BadRequest("subnets", "a subnetpool must be specified in the absence of a cidr")
	}
	if fromPool {
		return p.validateSubnet(obj, nil)
	}
	return nil
}

// defaultGateway fills gateway_ip when not given (the first address; for
// IPv6 the subnet-router anycast address) and returns the gateway (none
// when null).
func defaultGateway(obj api.Object, pfx netip.Prefix) netip.Addr {
	var gw netip.Addr
	if g, ok := obj["gateway_ip"]; !ok || g == api.NotSpecified {
		if netaddr.Version(pfx.Addr()) == 6 {
			gw = netaddr.First(pfx)
		} else {
			gw = netaddr.FromAddr(netaddr.First(pfx)).Add64(1).ToAddr(4)
		}
		obj["gateway_ip"] = netaddr.Format(gw)
	} else if g != nil {
		gw, _ = netip.ParseAddr(g.(string))
	}
	return gw
}

// prepareAllocationPools is _prepare_allocation_pools: generated around the
// gateway, or the requested ones validated.
func prepareAllocationPools(raw any, pfx netip.Prefix, gw netip.Addr) ([]netaddr.Range, error) {
	list, _ := raw.([]any)
	if len(list) == 0 {
		return netaddr.GeneratePools(pfx, gw), nil
	}
	pools, err := poolsToRanges(list)
	if err != nil {
		return nil, err
	}
	if err := validateAllocationPools(pools, pfx); err != nil {
		return nil, err
	}
	if gw.IsValid() {
		if err := gwOutOfPools(gw, pools); err != nil {
			return nil, err
		}
	}
	return pools, nil
}

func poolsToRanges(list []any) ([]netaddr.Range, error) {
	var out []netaddr.Range
	for _, e := range list {
		m, _ := e.(map[string]any)
		s, _ := m["start"].(string)
		en, _ := m["end"].(string)
		a, err1 := netip.ParseAddr(s)
		b, err2 := netip.ParseAddr(en)
		if err1 != nil || err2 != nil || netaddr.Version(a) != netaddr.Version(b) || b.Less(a) {
			return nil, nerr.New(400, "InvalidAllocationPool", "The allocation pool %s is not valid.", pyPool(m))
		}
		out = append(out, netaddr.Range{First: a, Last: b})
	}
	return out, nil
}

// pyPool writes a requested pool as Python's str() of the dict (keys in
// the order received; clients send them sorted).
func pyPool(m map[string]any) string { return pyfmt.Repr(m) }

// validateAllocationPools is validate_allocation_pools.
func validateAllocationPools(pools []netaddr.Range, pfx netip.Prefix) error {
	first, last := netaddr.PoolBounds(pfx)
	v := netaddr.Version(pfx.Addr())
	cidr := netaddr.FormatPrefix(pfx)
	for _, r := range pools {
		if netaddr.Version(r.First) != v || netaddr.Version(r.Last) != v {
			return nerr.New(400, "InvalidAllocationPool", "The allocation pool %s is not valid.", r)
		}
		if r.First.Less(first) || last.Less(r.Last) {
			return nerr.New(400, "OutOfBoundsAllocationPool", "The allocation pool %s spans beyond the subnet cidr %s.", r, cidr)
		}
	}
	for i := range pools {
		for j := i + 1; j < len(pools); j++ {
			if pools[i].Overlaps(pools[j]) {
				return nerr.Conflict("OverlappingAllocationPools", "Found overlapping allocation pools: %s %s for subnet %s.", pools[i], pools[j], cidr)
			}
		}
	}
	return nil
}

func gwOutOfPools(gw netip.Addr, pools []netaddr.Range) error {
	for _, r := range pools {
		if r.Contains(gw) {
			return nerr.Conflict("GatewayConflictWithAllocationPools", "Gateway ip %s conflicts with allocation pool %s.", netaddr.Format(gw), r)
		}
	}
	return nil
}

func versionMismatch(name string, addr string, version int) error {
	return nerr.InvalidInput(fmt.Sprintf("%s '%s' does not match the ip_version '%d'", name, addr, version))
}

func addrVersion(s string) int {
	if a, _, ok := netaddr.ParseNetwork(s); ok {
		return netaddr.Version(a)
	}
	return 0
}

// validateSubnet is _validate_subnet: s holds the request (for an update,
// completed with ip_version and cidr); cur is the stored subnet on update.
func (p *Plugin) validateSubnet(s api.Object, cur api.Object) error {
	ver64, _ := pyfmt.Int(s["ip_version"])
	ver := int(ver64)
	cidr, _ := s["cidr"].(string)
	pfx, hasPrefix := netaddr.Prefix(cidr)
	if hasPrefix && netaddr.Version(pfx.Addr()) != ver {
		return versionMismatch("cidr", cidr, ver)
	}
	dhcpWas := false
	if cur != nil {
		dhcpWas, _ = cur["enable_dhcp"].(bool)
	}
	if en, _ := s["enable_dhcp"].(bool); en && !dhcpWas && hasPrefix {
		if err := validateDHCPPrefix(pfx, ver); err != nil {
			return err
		}
	}
	if g, ok := s["gateway_ip"].(string); ok {
		if addrVersion(g) != ver {
			return versionMismatch("gateway_ip", g, ver)
		}
		gw, _ := netip.ParseAddr(g)
		if hasPrefix && netaddr.GatewayInvalid(pfx, gw) {
			return nerr.InvalidInput("Gateway is not valid on subnet")
		}
	}
	if err := p.validateDNSNameservers(s, cur, ver); err != nil {
		return err
	}
	if err := p.validateHostRoutes(s, cur, ver); err != nil {
		return err
	}
	return validateIPv6Modes(s, cur, ver, pfx, hasPrefix)
}

// validateDHCPPrefix: a subnet with DHCP enabled needs room for a DHCP
// port and an address that is not multicast, loopback or 0.0.0.0/x.
func validateDHCPPrefix(pfx netip.Prefix, ver int) error {
	if (ver == 4 && pfx.Bits() > 30) || (ver == 6 && pfx.Bits() > 126) {
		return nerr.InvalidInput("Subnet has a prefix length that is incompatible with DHCP service enabled")
	}
	if netaddr.IsMulticast(pfx) {
		return nerr.InvalidInput("Multicast IP subnet is not supported if enable_dhcp is True")
	}
	if netaddr.IsLoopback(pfx) {
		return nerr.InvalidInput("Loopback IP subnet is not supported if enable_dhcp is True")
	}
	if ver == 4 && netaddr.First(pfx) == netip.IPv4Unspecified() {
		return nerr.InvalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")
	}
	return nil
}

// validateDNSNameservers checks the number and the IP version of the
// given DNS nameservers.
func (p *Plugin) validateDNSNameservers(s, cur api.Object, ver int) error {
	dns, ok := s["dns_nameservers"].([]any)
	if !ok {
		return nil
	}
	if max := p.env.Config.Int("DEFAULT", "max_dns_nameservers"); len(dns) > max {
		return nerr.New(400, "DNSNameServersExhausted", "Unable to complete operation for %s. The number of DNS nameservers exceeds the limit %d.", subnetLabel(s, cur), max)
	}
	for _, d := range dns {
		ds, _ := d.(string)
		if _, err := netip.ParseAddr(ds); err != nil {
			return nerr.InvalidInput(fmt.Sprintf("Error parsing dns address %s", ds))
		}
		if addrVersion(ds) != ver {
			return versionMismatch("dns_nameserver", ds, ver)
		}
	}
	return nil
}

// validateHostRoutes checks the number and the IP version of the given
// host routes.
func (p *Plugin) validateHostRoutes(s, cur api.Object, ver int) error {
	routes, ok := s["host_routes"].([]any)
	if !ok {
		return nil
	}
	if max := p.env.Config.Int("DEFAULT", "max_subnet_host_routes"); len(routes) > max {
		return nerr.New(400, "HostRoutesExhausted", "Unable to complete operation for %s. The number of host routes exceeds the limit %d.", subnetLabel(s, cur), max)
	}
	for _, r := range routes {
		m, _ := r.(map[string]any)
		nh, _ := m["nexthop"].(string)
		dst, _ := m["destination"].(string)
		if addrVersion(nh) != ver {
			return versionMismatch("nexthop", nh, ver)
		}
		if addrVersion(dst) != ver {
			return versionMismatch("destination", dst, ver)
		}
	}
	return nil
}

// validateIPv6Modes is _validate_ipv6_attributes (and, on update,
// _validate_ipv6_update_dhcp): the IPv6 modes are only for IPv6, need
// DHCP, agree with each other, and the automatic ones need a /64.
func validateIPv6Modes(s, cur api.Object, ver int, pfx netip.Prefix, hasPrefix bool) error {
	ra, raSet := s["ipv6_ra_mode"].(string)
	am, amSet := s["ipv6_address_mode"].(string)
	if ver == 4 {
		if raSet {
			return nerr.InvalidInput("ipv6_ra_mode is not valid when ip_version is 4")
		}
		if amSet {
			return nerr.InvalidInput("ipv6_address_mode is not valid when ip_version is 4")
		}
		return nil
	}
	if cur != nil {
		if en, ok := s["enable_dhcp"].(bool); ok && !en {
			if raSet || amSet || cur["ipv6_ra_mode"] != nil || cur["ipv6_address_mode"] != nil {
				return nerr.InvalidInput("Cannot disable enable_dhcp with ipv6 attributes set")
			}
		}
		return nil
	}
	if en, _ := s["enable_dhcp"].(bool); (raSet || amSet) && !en {
		return nerr.InvalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
	}
	if raSet && amSet && ra != am {
		return nerr.InvalidInput(fmt.Sprintf("ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. If both attributes are set, they must be the same value", ra, am))
	}
	auto := ra == "slaac" || ra == "dhcpv6-stateless" || am == "slaac" || am == "dhcpv6-stateless"
	if (raSet || amSet) && auto && hasPrefix && pfx.Bits() != 64 {
		cidr, _ := s["cidr"].(string)
		return nerr.InvalidInput(fmt.Sprintf("Invalid CIDR %s for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64", cidr))
	}
	return nil
}
