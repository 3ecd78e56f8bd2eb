package netaddr

import (
	"math/big"
	"net/netip"
)

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
