package subnetpool

import (
	"fmt"
	"math/bits"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file holds the part of netaddr (0.8, as Neutron Zed uses it) that
// subnet pools and security group rules rely on: IPNetwork parsing and
// printing, and IPSet arithmetic (compact, union, difference, iter_cidrs).

// Net is a netaddr.IPNetwork: an address (host bits possibly set) and a
// prefix length.
type Net struct {
	Addr netip.Addr
	Bits int
}

// Version is 4 or 6.
func (n Net) Version() int {
	if n.Addr.Is4() {
		return 4
	}
	return 6
}

// MaxBits is 32 or 128.
func (n Net) MaxBits() int { return n.Addr.BitLen() }

// String is str(IPNetwork): "addr/bits".
func (n Net) String() string { return n.Addr.String() + "/" + strconv.Itoa(n.Bits) }

// CIDR is IPNetwork.cidr: the network with its host bits cleared.
func (n Net) CIDR() Net {
	p, _ := n.Addr.Prefix(n.Bits)
	return Net{Addr: p.Addr(), Bits: n.Bits}
}

// Prefix returns the masked netip.Prefix.
func (n Net) Prefix() netip.Prefix {
	p, _ := n.Addr.Prefix(n.Bits)
	return p
}

// Contains reports whether m lies within n.
func (n Net) Contains(m Net) bool {
	return m.Addr.BitLen() == n.Addr.BitLen() && m.Bits >= n.Bits && n.Prefix().Contains(m.Addr)
}

// ParseNet parses s as netaddr.IPNetwork(s) does: "a.b.c.d/len",
// "a.b.c.d/netmask", partial IPv4 addresses ("10/8"), an address without
// a prefix (a host network), or an IPv6 address with an optional prefix.
func ParseNet(s string) (Net, error) {
	bad := fmt.Errorf("invalid IPNetwork %s", s)
	addrPart, lenPart, hasLen := strings.Cut(s, "/")
	addrPart = strings.TrimSpace(addrPart)
	var addr netip.Addr
	if strings.Contains(addrPart, ":") {
		if strings.Contains(addrPart, "%") {
			return Net{}, bad
		}
		a, err := netip.ParseAddr(addrPart)
		if err != nil || !a.Is6() {
			return Net{}, bad
		}
		addr = a
	} else {
		a, ok := parsePartialIPv4(addrPart)
		if !ok {
			return Net{}, bad
		}
		addr = a
	}
	max := addr.BitLen()
	if !hasLen {
		return Net{Addr: addr, Bits: max}, nil
	}
	if n, ok := pyfmt.IntString(lenPart); ok {
		if n < 0 || n > int64(max) {
			return Net{}, bad
		}
		return Net{Addr: addr, Bits: int(n)}, nil
	}
	// a netmask or a hostmask (IPv4 only)
	if !addr.Is4() {
		return Net{}, bad
	}
	m, ok := parsePartialIPv4(strings.TrimSpace(lenPart))
	if !ok || strings.Count(strings.TrimSpace(lenPart), ".") != 3 {
		return Net{}, bad
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	if ones := bits.LeadingZeros32(^v); v == ^uint32(0)<<(32-ones) {
		return Net{Addr: addr, Bits: ones}, nil
	}
	if zeros := bits.LeadingZeros32(v); v == ^uint32(0)>>zeros {
		return Net{Addr: addr, Bits: zeros}, nil
	}
	return Net{}, bad
}

// parsePartialIPv4 is netaddr's IPv4 parsing for networks: one to four
// decimal octets (Python int() syntax), missing ones being zero.
func parsePartialIPv4(s string) (netip.Addr, bool) {
	parts := strings.Split(s, ".")
	if len(parts) < 1 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		n, ok := pyfmt.IntString(p)
		if !ok || n < 0 || n > 255 || strings.ContainsAny(p, "-") {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}

// ValidateSubnet is neutron-lib's validate_subnet (type:subnet).
func ValidateSubnet(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP subnet", pyfmt.Str(v))
	}
	if strings.ContainsAny(s, " \t\n\r\f\v") {
		// validate_no_whitespace's error is caught as an invalid subnet
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	n, err := ParseNet(s)
	if err != nil {
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	if !strings.Contains(s, "/") || (n.Version() == 4 && n.String() != s) {
		return fmt.Sprintf("'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, n.CIDR())
	}
	return ""
}

// ---- IP sets ----

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }
func (a u128) cmp(b u128) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}
func (a u128) add1() u128 {
	lo := a.lo + 1
	hi := a.hi
	if lo == 0 {
		hi++
	}
	return u128{hi, lo}
}
func (a u128) sub1() u128 {
	lo := a.lo - 1
	hi := a.hi
	if a.lo == 0 {
		hi--
	}
	return u128{hi, lo}
}

// lowMask is a number with the low n bits set (n in 0..128).
func lowMask(n int) u128 {
	switch {
	case n <= 0:
		return u128{}
	case n >= 128:
		return u128{^uint64(0), ^uint64(0)}
	case n >= 64:
		return u128{^uint64(0) >> (128 - n), ^uint64(0)}
	}
	return u128{0, ^uint64(0) >> (64 - n)}
}

func (a u128) and(b u128) u128 { return u128{a.hi & b.hi, a.lo & b.lo} }
func (a u128) or(b u128) u128  { return u128{a.hi | b.hi, a.lo | b.lo} }
func (a u128) not() u128       { return u128{^a.hi, ^a.lo} }

// trailingZeros of a (128 for zero).
func (a u128) trailingZeros() int {
	if a.lo != 0 {
		return bits.TrailingZeros64(a.lo)
	}
	if a.hi != 0 {
		return 64 + bits.TrailingZeros64(a.hi)
	}
	return 128
}

func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{0, uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var hi, lo uint64
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[8+i])
	}
	return u128{hi, lo}
}

func fromU128(v u128, version int) netip.Addr {
	if version == 4 {
		x := uint32(v.lo)
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	var b [16]byte
	for i := 0; i < 8; i++ {
		b[7-i] = byte(v.hi >> (8 * i))
		b[15-i] = byte(v.lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

type span struct{ first, last u128 }

// Set is a netaddr.IPSet of one IP version: disjoint, sorted, merged ranges.
type Set struct {
	version int
	spans   []span
}

// NewSet builds the set of the given networks (all of version).
func NewSet(version int, nets ...Net) *Set {
	s := &Set{version: version}
	for _, n := range nets {
		s.Add(n)
	}
	return s
}

// Add adds a network's addresses.
func (s *Set) Add(n Net) {
	c := n.CIDR()
	first := toU128(c.Addr)
	last := first.or(lowMask(c.MaxBits() - c.Bits))
	s.spans = append(s.spans, span{first, last})
	s.normalize()
}

func (s *Set) normalize() {
	sort.Slice(s.spans, func(i, j int) bool { return s.spans[i].first.less(s.spans[j].first) })
	var out []span
	for _, sp := range s.spans {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if !prev.last.less(sp.first) || prev.last.add1() == sp.first {
				if prev.last.less(sp.last) {
					prev.last = sp.last
				}
				continue
			}
		}
		out = append(out, sp)
	}
	s.spans = out
}

// Difference returns s minus o.
func (s *Set) Difference(o *Set) *Set {
	out := &Set{version: s.version}
	for _, sp := range s.spans {
		cur := []span{sp}
		for _, r := range o.spans {
			var next []span
			for _, c := range cur {
				if r.last.less(c.first) || c.last.less(r.first) {
					next = append(next, c)
					continue
				}
				if c.first.less(r.first) {
					next = append(next, span{c.first, r.first.sub1()})
				}
				if r.last.less(c.last) {
					next = append(next, span{r.last.add1(), c.last})
				}
			}
			cur = next
		}
		out.spans = append(out.spans, cur...)
	}
	out.normalize()
	return out
}

// Intersects reports whether s and o share an address.
func (s *Set) Intersects(o *Set) bool {
	for _, a := range s.spans {
		for _, b := range o.spans {
			if !(a.last.less(b.first) || b.last.less(a.first)) {
				return true
			}
		}
	}
	return false
}

// SubsetOf reports whether every address of s is in o.
func (s *Set) SubsetOf(o *Set) bool { return len(s.Difference(o).spans) == 0 }

// Empty reports whether the set has no address.
func (s *Set) Empty() bool { return len(s.spans) == 0 }

// CIDRs is IPSet.iter_cidrs() after compact(): the fewest networks covering
// the set, in address order.
func (s *Set) CIDRs() []Net {
	max := 32
	if s.version == 6 {
		max = 128
	}
	var out []Net
	for _, sp := range s.spans {
		first := sp.first
		for {
			// the largest block aligned at first that stays within last
			size := first.trailingZeros()
			if size > max {
				size = max
			}
			for size > 0 {
				end := first.or(lowMask(size))
				if !sp.last.less(end) {
					break
				}
				size--
			}
			out = append(out, Net{Addr: fromU128(first, s.version), Bits: max - size})
			end := first.or(lowMask(size))
			if end == sp.last {
				break
			}
			first = end.add1()
		}
	}
	return out
}

// Compact merges prefixes as Neutron does (IPSet(prefixes).compact()).
func Compact(version int, nets []Net) []Net {
	return NewSet(version, nets...).CIDRs()
}
