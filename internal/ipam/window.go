package ipam

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/netaddr"
)

// Allocation reads windows: runs of at most windowSize addresses of one
// pool, each read with one bounded range of the (subnet_id, ip_offset)
// index. Whatever plan the database picks (PostgreSQL keeps a generic plan
// per prepared statement, made when the table was small), a window read
// touches at most windowSize rows, so the cost of an allocation does not
// grow with the number of addresses already allocated in the subnet.

const (
	windowSize = 16
	// windowsPerRead is how many windows one query reads (UNION ALL):
	// one statement shape whatever the subnet.
	windowsPerRead = 8
)

// window is a run of addresses of one pool.
type window struct {
	tier  int
	pos   netaddr.U128 // index of first in the pools
	first netip.Addr
	n     uint64 // addresses in the window (1..windowSize)
	// lo is the ip_offset of first; fits is false when offsets do not fit
	// in 64 bits (pools beyond the first 2^64 addresses of a huge IPv6
	// subnet), where the window is one address tried blindly
	lo   uint64
	fits bool
}

// windowAt is the window starting at the i-th address of the pools.
func (s *Subnet) windowAt(i netaddr.U128, tier int) window {
	v := s.Version()
	pos := i
	for _, r := range s.Pools {
		sz := r.Size()
		if i.Cmp(sz) >= 0 {
			i = i.Sub(sz)
			continue
		}
		first := netaddr.FromAddr(r.First).Add(i)
		w := window{tier: tier, pos: pos, first: first.ToAddr(v), n: windowSize}
		if left := sz.Sub(i); left.Hi == 0 && left.Lo < windowSize {
			w.n = left.Lo
		}
		o := netaddr.Offset(s.Prefix, w.first)
		last := o.Add64(w.n - 1)
		w.lo, w.fits = o.Lo, last.Hi == 0
		if !w.fits {
			w.n = 1
		}
		return w
	}
	return window{}
}

// readWindows returns the free addresses of ws, window by window, in
// address order within each.
func (s *Subnet) readWindows(ctx context.Context, tx *db.Tx, ws []window) ([][]netip.Addr, error) {
	var parts []string
	var args []any
	for _, w := range ws {
		if w.fits {
			parts = append(parts, "SELECT ip_offset FROM ipallocations WHERE subnet_id = ? AND ip_offset BETWEEN ? AND ?")
			args = append(args, s.ID, int64(w.lo-offsetBias), int64(w.lo+w.n-1-offsetBias))
		}
	}
	taken := map[uint64]bool{}
	if len(parts) > 0 {
		rows, err := tx.Query(ctx, strings.Join(parts, " UNION ALL "), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var o int64
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return nil, err
			}
			taken[uint64(o)+offsetBias] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([][]netip.Addr, len(ws))
	v := s.Version()
	for k, w := range ws {
		base := netaddr.FromAddr(w.first)
		for j := uint64(0); j < w.n; j++ {
			if !w.fits || !taken[w.lo+j] {
				out[k] = append(out[k], base.Add64(j).ToAddr(v))
			}
		}
	}
	return out, nil
}

// claimFirst tries to claim the candidates in order (at most maxTries:
// a candidate may have been taken since it was read).
func (s *Subnet) claimFirst(ctx context.Context, tx *db.Tx, cands []netip.Addr, portID string) (netip.Addr, bool, error) {
	const maxTries = 3
	for i, a := range cands {
		if i == maxTries {
			break
		}
		ok, err := Insert(ctx, tx, s, a, portID)
		if err != nil || ok {
			return a, ok, err
		}
	}
	return netip.Addr{}, false, nil
}

// randomRound reads windows at random places of growing regions of the
// pools (like Neutron, which picks at random among the first 1000 free
// addresses, prefer the beginning of the pools, but look further when it
// is crowded) and claims a free address of the smallest region.
func (s *Subnet) randomRound(ctx context.Context, tx *db.Tx, total netaddr.U128, portID string) (netip.Addr, bool, error) {
	var ws []window
	for t, size := range tiers {
		region := total
		if size != 0 && total.Cmp(netaddr.U128{Lo: size}) > 0 {
			region = netaddr.U128{Lo: size}
		}
		per := windowsPerRead / len(tiers)
		for k := 0; k < per; k++ {
			ws = append(ws, s.windowAt(randBelow(region), t))
		}
		if region == total {
			// the last region: the rest of the read's windows go here
			for len(ws) < windowsPerRead {
				ws = append(ws, s.windowAt(randBelow(region), t))
			}
			break
		}
	}
	free, err := s.readWindows(ctx, tx, ws)
	if err != nil {
		return netip.Addr{}, false, err
	}
	type cand struct {
		a    netip.Addr
		tier int
	}
	var cands []cand
	seen := map[netip.Addr]bool{}
	for k, f := range free {
		for _, a := range f {
			if !seen[a] {
				seen[a] = true
				cands = append(cands, cand{a, ws[k].tier})
			}
		}
	}
	rand.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].tier < cands[j].tier })
	addrs := make([]netip.Addr, len(cands))
	for i, c := range cands {
		addrs[i] = c.a
	}
	return s.claimFirst(ctx, tx, addrs, portID)
}

// nextFree claims the first free address of the pools (DHCP ports) in a
// few reads, not one row per allocated address: windows at exponentially
// growing distances from the start find a window with a free address,
// then windows spread over the stretch before it narrow it down to the
// end of the run of allocated addresses. The address is the first free
// one unless a gap hides between the windows read (a stretch is narrowed
// to an eighth per read). ok is false when the pools are full.
func (s *Subnet) nextFree(ctx context.Context, tx *db.Tx, total netaddr.U128, portID string) (netip.Addr, bool, error) {
	lo := netaddr.U128{} // before lo every address read is taken
	hi, free, err := s.gallop(ctx, tx, total)
	if err != nil || free == nil {
		return netip.Addr{}, false, err
	}
	for round := 0; lo.Less(hi) && round < 64; round++ {
		var ws []window
		step := shr3(hi.Sub(lo))
		for p := lo; p.Less(hi) && len(ws) < windowsPerRead; p = p.Add(step).Add64(1) {
			ws = append(ws, s.windowAt(p, 0))
		}
		got, err := s.readWindows(ctx, tx, ws)
		if err != nil {
			return netip.Addr{}, false, err
		}
		k := firstNonEmpty(got)
		if k >= 0 {
			hi, free = ws[k].pos, got[k]
		}
		// the windows before the k-th (all of them when k < 0) are full
		if last := len(ws) - 1; k != 0 {
			if k > 0 {
				last = k - 1
			}
			lo = ws[last].pos.Add64(ws[last].n)
		} else {
			lo = hi
		}
	}
	return s.claimFirst(ctx, tx, free, portID)
}

// gallop reads windows at exponentially growing distances from the start
// of the pools until one has a free address: its position and its free
// addresses (nil when the pools are full as far as they were read).
func (s *Subnet) gallop(ctx context.Context, tx *db.Tx, total netaddr.U128) (netaddr.U128, []netip.Addr, error) {
	pos := netaddr.U128{}
	step := uint64(windowSize)
	for pos.Less(total) {
		var ws []window
		for len(ws) < windowsPerRead && pos.Less(total) {
			ws = append(ws, s.windowAt(pos, 0))
			pos = pos.Add64(step)
			if step < 1<<62 {
				step *= 2
			}
		}
		got, err := s.readWindows(ctx, tx, ws)
		if err != nil {
			return pos, nil, err
		}
		if k := firstNonEmpty(got); k >= 0 {
			return ws[k].pos, got[k], nil
		}
	}
	return pos, nil, nil
}

func firstNonEmpty(lists [][]netip.Addr) int {
	for k, l := range lists {
		if len(l) > 0 {
			return k
		}
	}
	return -1
}

// shr3 is u / 8.
func shr3(u netaddr.U128) netaddr.U128 {
	return netaddr.U128{Hi: u.Hi >> 3, Lo: u.Lo>>3 | u.Hi<<61}
}
