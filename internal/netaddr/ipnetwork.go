package netaddr

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file holds netaddr.IPNetwork as subnet pools and security group
// rules use it (ParseNet). ParseNetwork (network.go) is the older parser of
// the API validators and of stored CIDRs. Compared with netaddr 0.8 itself,
// ParseNet differs only in accepting "10.0.0.0/ 255.255.255.0"; ParseNetwork
// also refuses "+10.0.0.0/8", "1_0.0.0.0/8", "10.0.0.0/2_4",
// "0000000010.0.0.0/8" and "10/255.0.0.0" and accepts "10.0.0.0/255.255.0".
// Making the validators use ParseNet would change their answers on those
// inputs (towards Neutron's); it is left for a change of its own.

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
