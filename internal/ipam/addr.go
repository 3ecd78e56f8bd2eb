// Package ipam is neutrino's IP address management: address arithmetic on
// IPv4 and IPv6 (net/netip plus 128-bit integers), Neutron's parsing and
// canonical formatting of addresses and CIDRs, allocation pools (generated
// around the gateway, validated as Neutron does), EUI-64 (SLAAC) addresses,
// and race-free address allocation stored in SQL (ipallocations, unique on
// subnet and address) for any number of concurrent neutrino processes.
package ipam

import (
	"fmt"
	"math/big"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// U128 is an unsigned 128-bit integer (an IPv6 address as a number).
type U128 struct{ Hi, Lo uint64 }

// FromAddr returns the address as a number (IPv4: the low 32 bits).
func FromAddr(a netip.Addr) U128 {
	if a.Is4() {
		b := a.As4()
		return U128{Lo: uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var u U128
	for i := 0; i < 8; i++ {
		u.Hi = u.Hi<<8 | uint64(b[i])
		u.Lo = u.Lo<<8 | uint64(b[8+i])
	}
	return u
}

// ToAddr turns a number back into an address of the given version.
func (u U128) ToAddr(version int) netip.Addr {
	if version == 4 {
		v := uint32(u.Lo)
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(u.Hi >> (8 * i))
		b[15-i] = byte(u.Lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

// Add returns u+v (wrapping).
func (u U128) Add(v U128) U128 {
	lo, c := bits.Add64(u.Lo, v.Lo, 0)
	hi, _ := bits.Add64(u.Hi, v.Hi, c)
	return U128{hi, lo}
}

// Sub returns u-v (wrapping).
func (u U128) Sub(v U128) U128 {
	lo, b := bits.Sub64(u.Lo, v.Lo, 0)
	hi, _ := bits.Sub64(u.Hi, v.Hi, b)
	return U128{hi, lo}
}

// Add64 returns u+n.
func (u U128) Add64(n uint64) U128 { return u.Add(U128{Lo: n}) }

// Cmp compares u and v (-1, 0, 1).
func (u U128) Cmp(v U128) int {
	switch {
	case u.Hi < v.Hi:
		return -1
	case u.Hi > v.Hi:
		return 1
	case u.Lo < v.Lo:
		return -1
	case u.Lo > v.Lo:
		return 1
	}
	return 0
}

// IsZero reports u == 0.
func (u U128) IsZero() bool { return u.Hi == 0 && u.Lo == 0 }

// Big returns u as a big.Int.
func (u U128) Big() *big.Int {
	b := new(big.Int).SetUint64(u.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.Lo))
}

// String is the decimal form.
func (u U128) String() string { return u.Big().String() }

// Version is 4 or 6.
func Version(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

// Bits is the address length of a version (32 or 128).
func Bits(version int) int {
	if version == 4 {
		return 32
	}
	return 128
}

// Format writes an address as Neutron (netaddr) does: IPv4 dotted, IPv6
// compact lower-case, with IPv4-compatible and -mapped forms.
func Format(a netip.Addr) string {
	if a.Is4() {
		return a.String()
	}
	u := FromAddr(a.WithZone(""))
	if u.Hi == 0 {
		switch {
		case u.Lo > 0xffff && u.Lo <= 0xffffffff:
			return "::" + U128{Lo: u.Lo}.ToAddr(4).String()
		case u.Lo>>32 == 0xffff:
			return "::ffff:" + U128{Lo: u.Lo & 0xffffffff}.ToAddr(4).String()
		}
	}
	return a.WithZone("").String()
}

// ---- parsing (neutron_lib validators and converters) ----

// ParseIP parses an address as validate_ip_address accepts it; on failure
// it returns the validator's message.
func ParseIP(s string) (netip.Addr, string) {
	bad := fmt.Sprintf("'%s' is not a valid IP address", s)
	if strings.ContainsAny(s, " \t\n\r\v\f") || strings.Contains(s, "%") {
		return netip.Addr{}, bad
	}
	if !strings.Contains(s, ":") && strings.Count(s, ".") != 3 {
		return netip.Addr{}, bad
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a, ""
	}
	if !strings.Contains(s, ":") {
		// leading zeros (netaddr's ZEROFILL accepts them, Neutron asks for
		// the plain form)
		if a, ok := parseZeroFilled4(s); ok {
			return netip.Addr{}, fmt.Sprintf("'%s' is not an accepted IP address, '%s' is recommended", s, a)
		}
	}
	return netip.Addr{}, bad
}

func parseZeroFilled4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" || len(p) > 8 {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// MustParse parses an address known to be valid (stored data).
func MustParse(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		panic(fmt.Sprintf("ipam: invalid stored address %q", s))
	}
	return a
}

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

// CanonicalIP is convert_ip_to_canonical_format: IPv6 addresses are
// compacted, anything else is returned unchanged.
func CanonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4() {
		return s
	}
	return Format(a)
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

// mask returns 2^n - 1.
func mask(n int) U128 {
	switch {
	case n <= 0:
		return U128{}
	case n < 64:
		return U128{Lo: 1<<uint(n) - 1}
	case n == 64:
		return U128{Lo: ^uint64(0)}
	case n < 128:
		return U128{Hi: 1<<uint(n-64) - 1, Lo: ^uint64(0)}
	}
	return U128{^uint64(0), ^uint64(0)}
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

// ---- ranges and pools ----

// Range is an inclusive range of addresses (an allocation pool).
type Range struct{ First, Last netip.Addr }

// String is netaddr's IPRange form "first-last".
func (r Range) String() string { return Format(r.First) + "-" + Format(r.Last) }

// Contains reports whether a is in r.
func (r Range) Contains(a netip.Addr) bool {
	return Version(a) == Version(r.First) && r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

// Size is the number of addresses of r.
func (r Range) Size() U128 { return FromAddr(r.Last).Sub(FromAddr(r.First)).Add64(1) }

// Overlaps reports whether r and o share an address.
func (r Range) Overlaps(o Range) bool {
	return r.First.Compare(o.Last) <= 0 && o.First.Compare(r.Last) <= 0
}

// GeneratePools is ipam.utils.generate_pools: the usable addresses of the
// network (IPv4 without network and broadcast unless /31 or /32, IPv6
// without the subnet-router anycast address) minus the gateway.
func GeneratePools(p netip.Prefix, gateway netip.Addr) []Range {
	p = p.Masked()
	v := Version(p.Addr())
	first, last := FromAddr(First(p)), FromAddr(Last(p))
	if first == last {
		return []Range{{First(p), Last(p)}}
	}
	if v == 4 {
		if p.Bits() <= 30 {
			first, last = first.Add64(1), last.Sub(U128{Lo: 1})
		}
	} else {
		first = first.Add64(1)
	}
	r := Range{first.ToAddr(v), last.ToAddr(v)}
	if !gateway.IsValid() || Version(gateway) != v || !r.Contains(gateway) {
		return []Range{r}
	}
	var out []Range
	g := FromAddr(gateway)
	if g.Cmp(first) > 0 {
		out = append(out, Range{r.First, g.Sub(U128{Lo: 1}).ToAddr(v)})
	}
	if g.Cmp(last) < 0 {
		out = append(out, Range{g.Add64(1).ToAddr(v), r.Last})
	}
	return out
}

// PoolBounds returns the first and last address Neutron lets allocation
// pools use in p (validate_allocation_pools).
func PoolBounds(p netip.Prefix) (netip.Addr, netip.Addr) {
	p = p.Masked()
	v := Version(p.Addr())
	first, last := FromAddr(First(p)), FromAddr(Last(p))
	if v == 4 {
		if p.Bits() <= 30 {
			return first.Add64(1).ToAddr(v), last.Sub(U128{Lo: 1}).ToAddr(v)
		}
		return First(p), Last(p)
	}
	return first.Add64(1).ToAddr(v), Last(p)
}

// TotalSize sums the sizes of ranges.
func TotalSize(rs []Range) *big.Int {
	t := new(big.Int)
	for _, r := range rs {
		t.Add(t, r.Size().Big())
	}
	return t
}

// ---- EUI-64 ----

// ParseMAC parses a MAC address the way netaddr.EUI does for 48-bit
// addresses (colon, dash, dot and bare forms).
func ParseMAC(s string) ([6]byte, bool) {
	var out [6]byte
	s = strings.TrimSpace(s)
	var digits string
	switch {
	case strings.Count(s, ":") == 5:
		parts := strings.Split(s, ":")
		for _, p := range parts {
			if len(p) == 0 || len(p) > 2 {
				return out, false
			}
			digits += strings.Repeat("0", 2-len(p)) + p
		}
	case strings.Count(s, "-") == 5:
		parts := strings.Split(s, "-")
		for _, p := range parts {
			if len(p) == 0 || len(p) > 2 {
				return out, false
			}
			digits += strings.Repeat("0", 2-len(p)) + p
		}
	case strings.Count(s, ".") == 2:
		parts := strings.Split(s, ".")
		for _, p := range parts {
			if len(p) == 0 || len(p) > 4 {
				return out, false
			}
			digits += strings.Repeat("0", 4-len(p)) + p
		}
	case strings.Count(s, ":") == 2:
		parts := strings.Split(s, ":")
		for _, p := range parts {
			if len(p) == 0 || len(p) > 4 {
				return out, false
			}
			digits += strings.Repeat("0", 4-len(p)) + p
		}
	case len(s) == 12:
		digits = s
	default:
		return out, false
	}
	if len(digits) != 12 {
		return out, false
	}
	for i := 0; i < 6; i++ {
		n, err := strconv.ParseUint(digits[2*i:2*i+2], 16, 8)
		if err != nil {
			return out, false
		}
		out[i] = byte(n)
	}
	return out, true
}

// FormatMAC writes a MAC as xx:xx:xx:xx:xx:xx (mac_unix_expanded).
func FormatMAC(m [6]byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 17)
	for i, x := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[x>>4], hex[x&0xf])
	}
	return string(b)
}

// EUI64 is the SLAAC address of a MAC in a /64 (or any IPv6) prefix
// (oslo's get_ipv6_addr_by_EUI64).
func EUI64(p netip.Prefix, mac [6]byte) netip.Addr {
	b := First(p).As16()
	iid := [8]byte{mac[0] ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]}
	for i := 0; i < 8; i++ {
		b[8+i] |= iid[i]
	}
	return netip.AddrFrom16(b)
}

// IsEUI64 reports whether an IPv6 address looks like an EUI-64 address
// (ff:fe in the middle of the interface id), as ipv6_utils.is_eui64_address.
func IsEUI64(a netip.Addr) bool {
	if !a.Is6() || a.Is4In6() {
		return false
	}
	b := a.As16()
	return b[11] == 0xff && b[12] == 0xfe
}
