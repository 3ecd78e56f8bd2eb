package api

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file holds neutron_lib's networking validators and converters
// (addresses, CIDRs, pools, routes, fixed IPs, MAC addresses, DNS names)
// with Neutron's messages.

// IPAddress is type:ip_address.
func IPAddress(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP address", pyfmt.Str(v))
	}
	_, msg := netaddr.ParseIP(s)
	return msg
}

// IPAddressOrNone is type:ip_address_or_none.
func IPAddressOrNone(v any) string {
	if v == nil {
		return ""
	}
	return IPAddress(v)
}

// ToCanonicalIP is convert_ip_to_canonical_format.
func ToCanonicalIP(v any) (any, error) {
	if s, ok := v.(string); ok {
		return netaddr.CanonicalIP(s), nil
	}
	return v, nil
}

// ToCanonicalCIDR is convert_cidr_to_canonical_format.
func ToCanonicalCIDR(v any) (any, error) {
	if s, ok := v.(string); ok {
		if c, ok := netaddr.CanonicalCIDR(s); ok {
			return c, nil
		}
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("%s is not in a CIDR format", pyfmt.Str(v)))
}

// Subnet is type:subnet (validate_subnet).
func Subnet(v any) string {
	s, ok := v.(string)
	if !ok || strings.ContainsAny(s, " \t\n\r\v\f") {
		return fmt.Sprintf("'%s' is not a valid IP subnet", pyfmt.Str(v))
	}
	a, n, ok := netaddr.ParseNetwork(s)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	canon := netaddr.Format(a) + fmt.Sprintf("/%d", n)
	if !strings.Contains(s, "/") || (a.Is4() && canon != s) {
		p, _ := a.Prefix(n)
		return fmt.Sprintf("'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, netaddr.FormatPrefix(p))
	}
	return ""
}

// SubnetOrNone is type:subnet_or_none.
func SubnetOrNone(v any) string {
	if v == nil {
		return ""
	}
	return Subnet(v)
}

// RouteCIDR is type:route_cidr (validate_route_cidr).
func RouteCIDR(v any) string {
	s, ok := v.(string)
	if !ok || strings.ContainsAny(s, " \t\n\r\v\f") {
		return fmt.Sprintf("'%s' is not a valid CIDR", pyfmt.Str(v))
	}
	a, n, ok := netaddr.ParseNetwork(s)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid CIDR", s)
	}
	p, _ := a.Prefix(n)
	if !strings.Contains(s, "/") || p.Addr() != a {
		return fmt.Sprintf("'%s' is not a recognized CIDR, '%s' is recommended", s, netaddr.FormatPrefix(p))
	}
	if netaddr.IsLoopback(p) || (a.Is6() && p.Masked().Addr().IsLoopback()) {
		return fmt.Sprintf("'%s' is not a routable CIDR", s)
	}
	return ""
}

// verifyDictKeys is _verify_dict_keys (strict).
func verifyDictKeys(expected []string, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprintf("Invalid input. '%s' must be a dictionary with keys: %s", pyfmt.Str(v), pyfmt.List(expected))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	exp := append([]string{}, expected...)
	sort.Strings(exp)
	if strings.Join(keys, "\x00") != strings.Join(exp, "\x00") {
		return fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s", pyfmt.Set(exp), pyfmt.Set(keys))
	}
	return ""
}

// IPPools is type:ip_pools.
func IPPools(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for IP pool: '%s'", pyfmt.Str(v))
	}
	for _, p := range list {
		if msg := verifyDictKeys([]string{"start", "end"}, p); msg != "" {
			return msg
		}
		m := p.(map[string]any)
		for _, k := range []string{"start", "end"} {
			if msg := IPAddress(m[k]); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// Nameservers is type:nameservers.
func Nameservers(v any) string {
	var list []any
	switch x := v.(type) {
	case []any:
		list = x
	case string:
		for _, r := range x {
			list = append(list, string(r))
		}
	case map[string]any:
		for k := range x {
			list = append(list, k)
		}
	default:
		return fmt.Sprintf("Invalid data format for nameserver: '%s'", pyfmt.Str(v))
	}
	var seen []any
	for _, h := range list {
		if msg := IPAddress(h); msg != "" {
			return fmt.Sprintf("'%s' is not a valid nameserver. %s", pyfmt.Str(h), msg)
		}
		for _, s := range seen {
			if s == h {
				return fmt.Sprintf("Duplicate nameserver '%s'", pyfmt.Str(h))
			}
		}
		seen = append(seen, h)
	}
	return ""
}

// HostRoutes is type:hostroutes.
func HostRoutes(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for hostroute: '%s'", pyfmt.Str(v))
	}
	var seen []string
	for _, r := range list {
		if msg := verifyDictKeys([]string{"destination", "nexthop"}, r); msg != "" {
			return msg
		}
		m := r.(map[string]any)
		if msg := RouteCIDR(m["destination"]); msg != "" {
			return msg
		}
		if msg := IPAddress(m["nexthop"]); msg != "" {
			return msg
		}
		key := pyfmt.Repr(m)
		for _, s := range seen {
			if s == key {
				return fmt.Sprintf("Duplicate hostroute '%s'", pyfmt.DictInOrder(m, "destination", "nexthop"))
			}
		}
		seen = append(seen, key)
	}
	return ""
}

// FixedIPs is type:fixed_ips.
func FixedIPs(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for fixed IP: '%s'", pyfmt.Str(v))
	}
	ips := map[string]bool{} // reprs of the addresses seen
	for _, f := range list {
		m, ok := f.(map[string]any)
		if !ok {
			return fmt.Sprintf("Invalid data format for fixed IP: '%s'", pyfmt.Str(f))
		}
		if ip, has := m["ip_address"]; has {
			r := pyfmt.Repr(ip)
			if ips[r] {
				return fmt.Sprintf("Duplicate IP address '%s'", pyfmt.Str(ip))
			}
			if msg := IPAddress(ip); msg != "" {
				return msg
			}
			ips[r] = true
		}
		if sid, has := m["subnet_id"]; has {
			if msg := UUID(sid); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// MacAddress is type:mac_address.
func MacAddress(v any) string {
	s, ok := v.(string)
	if ok && !strings.ContainsAny(s, " \t\n\r\v\f") {
		if m, ok := netaddr.ParseMAC(s); ok {
			if m != [6]byte{} && m != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
				return ""
			}
		}
	}
	return fmt.Sprintf("'%s' is not a valid MAC address", pyfmt.Str(v))
}

// MacAddressOrNone is type:mac_address_or_none.
func MacAddressOrNone(v any) string {
	if v == nil {
		return ""
	}
	return MacAddress(v)
}

// SanitizeMAC is convert_to_sanitized_mac_address.
func SanitizeMAC(s string) string {
	if m, ok := netaddr.ParseMAC(s); ok {
		return netaddr.FormatMAC(m)
	}
	return s
}
func SubnetpoolIDOrNone(v any) string {
	if v == nil || v == "prefix_delegation" {
		return ""
	}
	return UUID(v)
}

// SubnetServiceTypes is type:list_of_subnet_service_types; it raises its
// own errors, so it is a converter.
func SubnetServiceTypes(v any) (any, error) {
	if isEmptyValue(v) {
		return v, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, nerr.HTTPBadRequest("Subnet service types must be a list.")
	}
	// neutron_lib adds the characters of "compute:" to the prefixes
	prefixes := []string{"network:", "neutron:", "c", "o", "m", "p", "u", "t", "e", ":"}
	for _, st := range list {
		s, ok := st.(string)
		if !ok {
			return nil, nerr.New(400, "InvalidInputSubnetServiceType", "Subnet service type %s is not a string.", pyfmt.Str(st))
		}
		valid := false
		for _, p := range prefixes {
			if strings.HasPrefix(s, p) {
				valid = true
				break
			}
		}
		if !valid {
			return nil, nerr.New(400, "InvalidSubnetServiceType", "Subnet service type %s does not correspond to a valid device owner.", s)
		}
	}
	return v, nil
}

// isEmptyValue is Python truthiness false for JSON values.
func isEmptyValue(v any) bool { return isEmptyBody(v) }
