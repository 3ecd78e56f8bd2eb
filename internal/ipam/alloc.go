// Package ipam is neutrino's IP address management in SQL: race-free
// address allocation (ipallocations, unique on subnet and address) for any
// number of concurrent neutrino processes. The address arithmetic it uses
// is package netaddr's.
package ipam

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"strconv"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/netaddr"
)

// Allocations live in the ipallocations table (schema version 2):
//
//	port_id, ip_address, subnet_id, network_id, ip_offset
//
// with the primary key (subnet_id, ip_address): an address is given at most
// once per subnet whatever the number of concurrent transactions or
// processes. ip_offset is the address' position in its subnet, shifted by
// -2^63 so that it sorts as a signed BIGINT, or NULL when the position does
// not fit in 64 bits; it lets an allocator find free addresses in order
// without reading every allocation.

// Subnet is what the allocator needs to know of a subnet.
type Subnet struct {
	ID        string
	NetworkID string
	Prefix    netip.Prefix    // network address (host bits cleared)
	Pools     []netaddr.Range // in address order
}

// Version is 4 or 6.
func (s *Subnet) Version() int { return netaddr.Version(s.Prefix.Addr()) }

const offsetBias = uint64(1) << 63

// storedOffset is the ip_offset column value of a in s (nil = NULL).
func (s *Subnet) storedOffset(a netip.Addr) any {
	o := netaddr.Offset(s.Prefix, a)
	if o.Hi != 0 {
		return nil
	}
	return int64(o.Lo - offsetBias)
}

// Insert claims address a of s for port; false when it is already taken.
func Insert(ctx context.Context, tx *db.Tx, s *Subnet, a netip.Addr, portID string) (bool, error) {
	pre, post := tx.Dialect().InsertIgnore()
	res, err := tx.Exec(ctx, pre+" INTO ipallocations (port_id, ip_address, subnet_id, network_id, ip_offset) VALUES (?, ?, ?, ?, ?)"+post,
		portID, netaddr.Format(a), s.ID, s.NetworkID, s.storedOffset(a))
	if err != nil {
		if db.IsForeignKeyViolation(err) {
			// the subnet (or port) went away under us: start over
			return false, db.ErrRetry
		}
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Release frees an address.
func Release(ctx context.Context, tx *db.Tx, subnetID string, a string) error {
	_, err := tx.Exec(ctx, "DELETE FROM ipallocations WHERE subnet_id = ? AND ip_address = ?", subnetID, a)
	return err
}

func (s *Subnet) total() netaddr.U128 {
	var t netaddr.U128
	for _, r := range s.Pools {
		t = t.Add(r.Size())
	}
	return t
}

func randBelow(n netaddr.U128) netaddr.U128 {
	if n.Hi == 0 {
		return netaddr.U128{Lo: rand.Uint64N(n.Lo)}
	}
	for {
		var hi uint64
		if n.Hi == ^uint64(0) {
			hi = rand.Uint64()
		} else {
			hi = rand.Uint64N(n.Hi + 1)
		}
		u := netaddr.U128{Hi: hi, Lo: rand.Uint64()}
		if u.Cmp(n) < 0 {
			return u
		}
	}
}

// tiers are the sizes of the regions from the start of the pools where
// randomRound looks for free addresses (0: all the pools).
var tiers = []uint64{1024, 16384, 1 << 20, 0}

// AllocateAny gives port a free address of s from its pools: it reads a
// few bounded windows of the pools (window.go) in one query and claims a
// free address (one more statement), and only when the pools are crowded
// scans them in order for the gaps. preferNext takes the first free
// address (DHCP ports). ok is false when the pools are exhausted.
func AllocateAny(ctx context.Context, tx *db.Tx, s *Subnet, portID string, preferNext bool) (netip.Addr, bool, error) {
	total := s.total()
	if total.IsZero() {
		return netip.Addr{}, false, nil
	}
	if preferNext {
		a, ok, err := s.nextFree(ctx, tx, total, portID)
		if err != nil || ok {
			return a, ok, err
		}
	} else {
		for round := 0; round < 2; round++ {
			a, ok, err := s.randomRound(ctx, tx, total, portID)
			if err != nil || ok {
				return a, ok, err
			}
		}
	}
	return s.scan(ctx, tx, portID)
}

// scan walks the pools in order for the first free addresses.
func (s *Subnet) scan(ctx context.Context, tx *db.Tx, portID string) (netip.Addr, bool, error) {
	for _, r := range s.Pools {
		lo, hi := netaddr.Offset(s.Prefix, r.First), netaddr.Offset(s.Prefix, r.Last)
		var a netip.Addr
		var ok bool
		var err error
		if lo.Hi == 0 && hi.Hi == 0 {
			a, ok, err = s.scanOffsets(ctx, tx, r, lo.Lo, hi.Lo, portID)
		} else {
			a, ok, err = s.scanAll(ctx, tx, r, portID)
		}
		if err != nil || ok {
			return a, ok, err
		}
	}
	return netip.Addr{}, false, nil
}

const scanChunk = 1000

func (s *Subnet) scanOffsets(ctx context.Context, tx *db.Tx, r netaddr.Range, lo, hi uint64, portID string) (netip.Addr, bool, error) {
	v := s.Version()
	base := netaddr.FromAddr(netaddr.First(s.Prefix))
	next := lo
	claim := func(off uint64) (netip.Addr, bool, error) {
		a := base.Add64(off).ToAddr(v)
		ok, err := Insert(ctx, tx, s, a, portID)
		return a, ok, err
	}
	for {
		rows, err := tx.Query(ctx, "SELECT ip_offset FROM ipallocations WHERE subnet_id = ? AND ip_offset >= ? AND ip_offset <= ? ORDER BY ip_offset LIMIT "+itoa(scanChunk),
			s.ID, int64(next-offsetBias), int64(hi-offsetBias))
		if err != nil {
			return netip.Addr{}, false, err
		}
		var used []uint64
		for rows.Next() {
			var o int64
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return netip.Addr{}, false, err
			}
			used = append(used, uint64(o)+offsetBias)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return netip.Addr{}, false, err
		}
		for _, u := range used {
			for next < u {
				a, ok, err := claim(next)
				if err != nil || ok {
					return a, ok, err
				}
				next++
			}
			if u >= next {
				if u == hi {
					return netip.Addr{}, false, nil
				}
				next = u + 1
			}
		}
		if len(used) < scanChunk {
			for next <= hi {
				a, ok, err := claim(next)
				if err != nil || ok {
					return a, ok, err
				}
				if next == hi {
					break
				}
				next++
			}
			return netip.Addr{}, false, nil
		}
	}
}

// scanAll handles pools whose offsets do not fit in 64 bits: it reads the
// subnet's allocations and walks the pool.
func (s *Subnet) scanAll(ctx context.Context, tx *db.Tx, r netaddr.Range, portID string) (netip.Addr, bool, error) {
	rows, err := tx.Query(ctx, "SELECT ip_address FROM ipallocations WHERE subnet_id = ?", s.ID)
	if err != nil {
		return netip.Addr{}, false, err
	}
	used := map[netip.Addr]bool{}
	for rows.Next() {
		var ip string
		if err := rows.Scan(&ip); err != nil {
			rows.Close()
			return netip.Addr{}, false, err
		}
		if a, err := netip.ParseAddr(ip); err == nil {
			used[a] = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return netip.Addr{}, false, err
	}
	v := s.Version()
	a := r.First
	for i := 0; i <= len(used); i++ {
		if !used[a] {
			ok, err := Insert(ctx, tx, s, a, portID)
			if err != nil || ok {
				return a, ok, err
			}
		}
		if a == r.Last {
			break
		}
		a = netaddr.FromAddr(a).Add64(1).ToAddr(v)
	}
	return netip.Addr{}, false, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
