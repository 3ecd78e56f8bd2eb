package netaddr

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ---- addresses ----

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

// CanonicalIP is convert_ip_to_canonical_format: IPv6 addresses are
// compacted, anything else is returned unchanged.
func CanonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4() {
		return s
	}
	return Format(a)
}
