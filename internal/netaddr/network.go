package netaddr

import (
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// ---- CIDRs (neutron_lib validators and converters) ----

// ParseNetwork parses a CIDR the way netaddr.IPNetwork does (abbreviated
// IPv4 forms such as 10/8, netmask and hostmask prefixes, leading zeros),
// keeping the host bits. ok is false when it is not a CIDR.
func ParseNetwork(s string) (addr netip.Addr, prefixLen int, ok bool) {
	s = strings.TrimSpace(s)
	ipPart, lenPart, hasLen := strings.Cut(s, "/")
	ipPart = strings.TrimSpace(ipPart)
	if ipPart == "" || strings.Contains(ipPart, "%") {
		return netip.Addr{}, 0, false
	}
	if strings.Contains(ipPart, ":") {
		a, err := netip.ParseAddr(ipPart)
		if err != nil || a.Zone() != "" {
			return netip.Addr{}, 0, false
		}
		if !hasLen {
			return a, 128, true
		}
		n, ok := parsePrefixLen(lenPart, 128)
		return a, n, ok
	}
	a, abbreviated, ok := parse4Loose(ipPart)
	if !ok {
		return netip.Addr{}, 0, false
	}
	if !hasLen {
		return a, 32, true
	}
	lenPart = strings.TrimSpace(lenPart)
	if strings.Contains(lenPart, ".") {
		if abbreviated {
			return netip.Addr{}, 0, false
		}
		m, _, ok := parse4Loose(lenPart)
		if !ok {
			return netip.Addr{}, 0, false
		}
		n, ok := maskLen(FromAddr(m).Lo)
		return a, n, ok
	}
	n, ok := parsePrefixLen(lenPart, 32)
	return a, n, ok
}

func parsePrefixLen(s string, max int) (int, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > max {
		return 0, false
	}
	return n, true
}

// parse4Loose accepts dotted IPv4 with 1 to 4 decimal parts (netaddr's
// abbreviated CIDR forms: "10" = 10.0.0.0) and leading zeros.
func parse4Loose(s string) (netip.Addr, bool, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false, false
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			return netip.Addr{}, false, false
		}
		for _, c := range p {
			if c < '0' || c > '9' {
				return netip.Addr{}, false, false
			}
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return netip.Addr{}, false, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), len(parts) < 4, true
}

// maskLen turns a netmask (255.255.255.0) or hostmask (0.0.0.255) into a
// prefix length.
func maskLen(m uint64) (int, bool) {
	v := uint32(m)
	if inv := ^v; inv&(inv+1) == 0 {
		return bits.OnesCount32(v), true
	}
	if v&(v+1) == 0 {
		return 32 - bits.OnesCount32(v), true
	}
	return 0, false
}

// CanonicalCIDR is convert_cidr_to_canonical_format: the address (host bits
// kept) in canonical form and the prefix length.
func CanonicalCIDR(s string) (string, bool) {
	a, n, ok := ParseNetwork(s)
	if !ok {
		return "", false
	}
	return Format(a) + "/" + strconv.Itoa(n), true
}

// Prefix returns the network of a canonical CIDR (host bits cleared).
func Prefix(cidr string) (netip.Prefix, bool) {
	a, n, ok := ParseNetwork(cidr)
	if !ok {
		return netip.Prefix{}, false
	}
	p, err := a.Prefix(n)
	if err != nil {
		return netip.Prefix{}, false
	}
	return p, true
}

// FormatPrefix writes a network as Neutron stores subnet CIDRs.
func FormatPrefix(p netip.Prefix) string {
	return Format(p.Addr()) + "/" + strconv.Itoa(p.Bits())
}

// ---- networks ----

// First and Last are the first and last address of a prefix.
func First(p netip.Prefix) netip.Addr { return p.Masked().Addr() }

// Last is the last address (IPv4 broadcast).
func Last(p netip.Prefix) netip.Addr {
	v := Version(p.Addr())
	hostBits := Bits(v) - p.Bits()
	return FromAddr(First(p)).Add(mask(hostBits)).ToAddr(v)
}

// Size is the number of addresses of a prefix.
func Size(p netip.Prefix) *big.Int {
	n := Bits(Version(p.Addr())) - p.Bits()
	return new(big.Int).Lsh(big.NewInt(1), uint(n))
}

// Offset is a's position in p (a - network address).
func Offset(p netip.Prefix, a netip.Addr) U128 {
	return FromAddr(a).Sub(FromAddr(First(p)))
}

// IsMulticast, IsLoopback mirror netaddr's checks on a network.
func IsMulticast(p netip.Prefix) bool { return p.Masked().Addr().IsMulticast() }

// IsLoopback reports a loopback network.
func IsLoopback(p netip.Prefix) bool {
	a := p.Masked().Addr()
	if a.Is4() {
		return a.As4()[0] == 127
	}
	return a == netip.IPv6Loopback() && p.Bits() == 128
}

// CheckSubnetIP is ipam.utils.check_subnet_ip: the address is in the
// network and (IPv4) is neither its network nor broadcast address; for
// IPv6 the network address is allowed only for router ports and unknown
// owners.
func CheckSubnetIP(p netip.Prefix, a netip.Addr, owner string) bool {
	if Version(a) != Version(p.Addr()) || !p.Contains(a) {
		return false
	}
	if a.Is4() {
		return a != First(p) && a != Last(p)
	}
	if a != First(p) {
		return true
	}
	switch owner {
	case "", "network:router_interface", "network:router_interface_distributed", "network:ha_router_replicated_interface",
		"network:router_gateway", "network:router_centralized_snat":
		return true
	}
	return false
}

// GatewayInvalid is check_gateway_invalid_in_subnet.
func GatewayInvalid(p netip.Prefix, gw netip.Addr) bool {
	if !p.Contains(gw) {
		return false
	}
	return gw.Is4() && (gw == First(p) || gw == Last(p))
}
