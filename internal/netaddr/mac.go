package netaddr

import (
	"net/netip"
	"strconv"
	"strings"
)

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
