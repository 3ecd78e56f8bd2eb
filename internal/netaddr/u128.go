// Package netaddr is neutrino's address arithmetic, with Neutron's (and
// Python netaddr 0.8's) parsing and formatting: IPv4 and IPv6 addresses
// as 128-bit numbers (U128), addresses and CIDRs as Neutron validates and
// writes them, networks (IPNetwork-like Net, first/last/size, checks),
// address ranges and allocation pools, IP sets (IPSet arithmetic), MAC
// addresses and EUI-64. It is pure computation: allocation in SQL is
// package ipam's. It depends on nothing of neutrino's but pyfmt.
package netaddr

import (
	"math/big"
	"math/bits"
	"net/netip"
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

// Less reports u < v.
func (u U128) Less(v U128) bool { return u.Cmp(v) < 0 }

// Or returns u | v.
func (u U128) Or(v U128) U128 { return U128{u.Hi | v.Hi, u.Lo | v.Lo} }

// TrailingZeros is the number of trailing zero bits of u (128 for zero).
func (u U128) TrailingZeros() int {
	if u.Lo != 0 {
		return bits.TrailingZeros64(u.Lo)
	}
	if u.Hi != 0 {
		return 64 + bits.TrailingZeros64(u.Hi)
	}
	return 128
}
