package netaddr

import (
	"sort"
)

// ---- IP sets ----

type span struct{ first, last U128 }

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
	first := FromAddr(c.Addr)
	last := first.Or(mask(c.MaxBits() - c.Bits))
	s.spans = append(s.spans, span{first, last})
	s.normalize()
}

func (s *Set) normalize() {
	sort.Slice(s.spans, func(i, j int) bool { return s.spans[i].first.Less(s.spans[j].first) })
	var out []span
	for _, sp := range s.spans {
		if n := len(out); n > 0 {
			prev := &out[n-1]
			if !prev.last.Less(sp.first) || prev.last.Add64(1) == sp.first {
				if prev.last.Less(sp.last) {
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
				if r.last.Less(c.first) || c.last.Less(r.first) {
					next = append(next, c)
					continue
				}
				if c.first.Less(r.first) {
					next = append(next, span{c.first, r.first.Sub(U128{Lo: 1})})
				}
				if r.last.Less(c.last) {
					next = append(next, span{r.last.Add64(1), c.last})
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
			if !(a.last.Less(b.first) || b.last.Less(a.first)) {
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
			size := first.TrailingZeros()
			if size > max {
				size = max
			}
			for size > 0 {
				end := first.Or(mask(size))
				if !sp.last.Less(end) {
					break
				}
				size--
			}
			out = append(out, Net{Addr: first.ToAddr(s.version), Bits: max - size})
			end := first.Or(mask(size))
			if end == sp.last {
				break
			}
			first = end.Add64(1)
		}
	}
	return out
}

// Compact merges prefixes as Neutron does (IPSet(prefixes).compact()).
func Compact(version int, nets []Net) []Net {
	return NewSet(version, nets...).CIDRs()
}
