package api

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// This file holds neutron_lib's networking validators and converters
// (addresses, CIDRs, pools, routes, fixed IPs, MAC addresses, DNS names)
// with Neutron's messages.

// IPAddress is type:ip_address.
func IPAddress(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP address", PyStr(v))
	}
	_, msg := ipam.ParseIP(s)
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
		return ipam.CanonicalIP(s), nil
	}
	return v, nil
}

// ToCanonicalCIDR is convert_cidr_to_canonical_format.
func ToCanonicalCIDR(v any) (any, error) {
	if s, ok := v.(string); ok {
		if c, ok := ipam.CanonicalCIDR(s); ok {
			return c, nil
		}
	}
	return nil, nerr.InvalidInput(fmt.Sprintf("%s is not in a CIDR format", PyStr(v)))
}

// Subnet is type:subnet (validate_subnet).
func Subnet(v any) string {
	s, ok := v.(string)
	if !ok || strings.ContainsAny(s, " \t\n\r\v\f") {
		return fmt.Sprintf("'%s' is not a valid IP subnet", PyStr(v))
	}
	a, n, ok := ipam.ParseNetwork(s)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	canon := ipam.Format(a) + fmt.Sprintf("/%d", n)
	if !strings.Contains(s, "/") || (a.Is4() && canon != s) {
		p, _ := a.Prefix(n)
		return fmt.Sprintf("'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, ipam.FormatPrefix(p))
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
		return fmt.Sprintf("'%s' is not a valid CIDR", PyStr(v))
	}
	a, n, ok := ipam.ParseNetwork(s)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid CIDR", s)
	}
	p, _ := a.Prefix(n)
	if !strings.Contains(s, "/") || p.Addr() != a {
		return fmt.Sprintf("'%s' is not a recognized CIDR, '%s' is recommended", s, ipam.FormatPrefix(p))
	}
	if ipam.IsLoopback(p) || (a.Is6() && p.Masked().Addr().IsLoopback()) {
		return fmt.Sprintf("'%s' is not a routable CIDR", s)
	}
	return ""
}

// verifyDictKeys is _verify_dict_keys (strict).
func verifyDictKeys(expected []string, v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprintf("Invalid input. '%s' must be a dictionary with keys: %s", PyStr(v), pyList(expected))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	exp := append([]string{}, expected...)
	sort.Strings(exp)
	if strings.Join(keys, "\x00") != strings.Join(exp, "\x00") {
		return fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s", pySet(exp), pySet(keys))
	}
	return ""
}

func pyList(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = PyRepr(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func pySet(ss []string) string {
	if len(ss) == 0 {
		return "set()"
	}
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = PyRepr(s)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// IPPools is type:ip_pools.
func IPPools(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for IP pool: '%s'", PyStr(v))
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
		return fmt.Sprintf("Invalid data format for nameserver: '%s'", PyStr(v))
	}
	var seen []any
	for _, h := range list {
		if msg := IPAddress(h); msg != "" {
			return fmt.Sprintf("'%s' is not a valid nameserver. %s", PyStr(h), msg)
		}
		for _, s := range seen {
			if s == h {
				return fmt.Sprintf("Duplicate nameserver '%s'", PyStr(h))
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
		return fmt.Sprintf("Invalid data format for hostroute: '%s'", PyStr(v))
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
		key := PyRepr(m)
		for _, s := range seen {
			if s == key {
				return fmt.Sprintf("Duplicate hostroute '%s'", pyDictInOrder(m, "destination", "nexthop"))
			}
		}
		seen = append(seen, key)
	}
	return ""
}

// pyDictInOrder writes a dict as Python's str() of a dict built in that
// key order.
func pyDictInOrder(m map[string]any, keys ...string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			parts = append(parts, PyRepr(k)+": "+PyRepr(v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// FixedIPs is type:fixed_ips.
func FixedIPs(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for fixed IP: '%s'", PyStr(v))
	}
	ips := map[string]bool{} // reprs of the addresses seen
	for _, f := range list {
		m, ok := f.(map[string]any)
		if !ok {
			return fmt.Sprintf("Invalid data format for fixed IP: '%s'", PyStr(f))
		}
		if ip, has := m["ip_address"]; has {
			r := PyRepr(ip)
			if ips[r] {
				return fmt.Sprintf("Duplicate IP address '%s'", PyStr(ip))
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
		if m, ok := ipam.ParseMAC(s); ok {
			if m != [6]byte{} && m != [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} {
				return ""
			}
		}
	}
	return fmt.Sprintf("'%s' is not a valid MAC address", PyStr(v))
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
	if m, ok := ipam.ParseMAC(s); ok {
		return ipam.FormatMAC(m)
	}
	return s
}

var dnsLabelRE = regexp.MustCompile(`^[a-z0-9-]{1,63}$`)
var allDigitsRE = regexp.MustCompile(`^[0-9]+$`)

// DNSNameFormat is _validate_dns_format.
func DNSNameFormat(s string, maxLen int) string {
	if s == "" {
		return ""
	}
	reason := func() string {
		trimmed := strings.TrimSuffix(s, ".")
		if len([]rune(trimmed)) > maxLen {
			return fmt.Sprintf("'%s' exceeds the %d character FQDN limit", trimmed, maxLen)
		}
		labels := strings.Split(trimmed, ".")
		for _, l := range labels {
			if l == "" {
				return "Encountered an empty component"
			}
			if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
				return fmt.Sprintf("Name '%s' must not start or end with a hyphen", l)
			}
			if !dnsLabelRE.MatchString(l) {
				return fmt.Sprintf("Name '%s' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen", l)
			}
		}
		if len(labels) > 1 && allDigitsRE.MatchString(labels[len(labels)-1]) {
			return fmt.Sprintf("TLD '%s' must not be all numeric", labels[len(labels)-1])
		}
		return ""
	}()
	if reason == "" {
		return ""
	}
	return fmt.Sprintf("'%s' not a valid PQDN or FQDN. Reason: %s", s, reason)
}

// DNSHostName is type:dns_host_name; dnsDomain is the [DEFAULT] dns_domain
// option.
func DNSHostName(maxLen int, dnsDomain func() string) Validator {
	return func(v any) string {
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("'%s' not a valid PQDN or FQDN. Reason: %s", PyStr(v), "name must be a string")
		}
		if msg := DNSNameFormat(s, maxLen); msg != "" {
			return msg
		}
		conf := dnsDomain()
		domain := conf
		if domain != "" && !strings.HasSuffix(domain, ".") {
			domain += "."
		}
		if s == "" || domain == "" || domain == "openstacklocal." {
			return ""
		}
		higher := "." + domain
		if !strings.HasSuffix(s, ".") {
			if len(s)+len(higher) > 255 {
				return fmt.Sprintf("The dns_name passed is a PQDN and its size is '%d'. The dns_domain option in neutron.conf is set to %s, with a length of '%d'. When the two are concatenated to form a FQDN (with a '.' at the end), the resulting length exceeds the maximum size of '%d'",
					len(s), conf, len(higher), 255)
			}
			return ""
		}
		if len(s) <= len(higher) || !strings.HasSuffix(s, higher) {
			return fmt.Sprintf("The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain option in neutron.conf, that has been set to '%s'. It must also include one or more valid DNS labels to the left of '%s'", conf, conf)
		}
		return ""
	}
}

// SubnetpoolIDOrNone is type:subnetpool_id_or_none.
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
			return nil, nerr.New(400, "InvalidInputSubnetServiceType", "Subnet service type %s is not a string.", PyStr(st))
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

// AllowedAddressPairs is type:allowed_address_pairs (with
// convert_none_to_empty_list); it raises its own errors, so it is a
// converter. maxPairs is max_allowed_address_pair.
func AllowedAddressPairs(maxPairs func() int) Converter {
	return func(v any) (any, error) {
		if v == nil {
			return []any{}, nil
		}
		list, ok := v.([]any)
		if !ok {
			return nil, nerr.HTTPBadRequest("Allowed address pairs must be a list.")
		}
		if len(list) > maxPairs() {
			return nil, nerr.New(400, "AllowedAddressPairExhausted", "The number of allowed address pair exceeds the maximum %d.", maxPairs())
		}
		type key struct{ mac, ip string }
		seen := map[key]bool{}
		for _, p := range list {
			m, ok := p.(map[string]any)
			if !ok {
				return nil, nerr.HTTPBadRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a dictionary.", PyStr(p))
			}
			mac, hasMAC := m["mac_address"]
			if hasMAC {
				if msg := MacAddress(mac); msg != "" {
					return nil, nerr.HTTPBadRequest("%s", msg)
				}
			}
			ip, hasIP := m["ip_address"]
			if !hasIP {
				return nil, nerr.New(400, "AllowedAddressPairsMissingIP", "AllowedAddressPair must contain ip_address")
			}
			k := key{PyStr(mac), PyStr(ip)}
			if !hasMAC {
				k.mac = "\x00None"
			}
			if seen[k] {
				macStr := "None"
				if hasMAC {
					macStr = PyStr(mac)
				}
				return nil, nerr.New(400, "DuplicateAddressPairInRequest", "Request contains duplicate address pair: mac_address %s ip_address %s.", macStr, PyStr(ip))
			}
			seen[k] = true
			var extra []string
			for k := range m {
				if k != "mac_address" && k != "ip_address" {
					extra = append(extra, k)
				}
			}
			if len(extra) > 0 {
				sort.Strings(extra)
				return nil, nerr.HTTPBadRequest("Unrecognized attribute(s) '%s'", strings.Join(extra, ", "))
			}
			ips, ok := ip.(string)
			var msg string
			switch {
			case !ok:
				msg = IPAddress(ip)
			case strings.Contains(ips, "/"):
				msg = Subnet(ips)
			default:
				msg = IPAddress(ips)
			}
			if msg != "" {
				return nil, nerr.HTTPBadRequest("%s", msg)
			}
		}
		return list, nil
	}
}

// KeySpec is one key of a type:dict key spec.
type KeySpec struct {
	Required bool
	Convert  Converter
	Validate Validator
}

// ValidateDict is validate_dict with key specs (converting values in place).
func ValidateDict(v any, specs map[string]KeySpec, order []string) string {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Sprintf("'%s' is not a dictionary", PyStr(v))
	}
	var required []string
	for _, k := range order {
		if specs[k].Required {
			required = append(required, k)
		}
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			return fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s", pySet(required), pySet(keys))
		}
	}
	var unexpected []string
	for k := range m {
		if _, ok := specs[k]; !ok {
			unexpected = append(unexpected, k)
		}
	}
	if len(unexpected) > 0 {
		sort.Strings(unexpected)
		return fmt.Sprintf("Unexpected keys supplied: %s", strings.Join(unexpected, ", "))
	}
	for _, k := range order {
		val, ok := m[k]
		if !ok {
			continue
		}
		sp := specs[k]
		if sp.Convert != nil {
			c, err := sp.Convert(val)
			if err != nil {
				if e, ok := nerr.As(err); ok {
					return strings.TrimSuffix(strings.TrimPrefix(e.Message, "Invalid input for operation: "), ".")
				}
				return err.Error()
			}
			m[k] = c
			val = c
		}
		if sp.Validate != nil {
			if msg := sp.Validate(val); msg != "" {
				return msg
			}
		}
	}
	return ""
}

// ListOfAnyKeySpecsOrNone is type:list_of_any_key_specs_or_none: each dict
// must match one of the specs; failures raise InvalidInput.
func ListOfAnyKeySpecsOrNone(specs []map[string]KeySpec, order []string) Converter {
	return func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		list, ok := v.([]any)
		if !ok {
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not a list", PyStr(v)))
		}
		if dups := duplicates(list); len(dups) > 0 {
			parts := make([]string, len(dups))
			for i, d := range dups {
				parts[i] = PyStr(d)
			}
			return nil, nerr.InvalidInput(fmt.Sprintf("Duplicate items in the list: '%s'", strings.Join(parts, ", ")))
		}
		for _, item := range list {
			matched := false
			for _, spec := range specs {
				// validate a copy: a failed spec must not convert values
				cp := item
				if m, ok := item.(map[string]any); ok {
					c := make(map[string]any, len(m))
					for k, x := range m {
						c[k] = x
					}
					cp = c
				}
				if ValidateDict(cp, spec, order) == "" {
					if m, ok := item.(map[string]any); ok {
						for k, x := range cp.(map[string]any) {
							m[k] = x
						}
					}
					matched = true
					break
				}
			}
			if !matched {
				return nil, nerr.InvalidInput(fmt.Sprintf("No valid key specs matched for: %s", PyStr(item)))
			}
		}
		return list, nil
	}
}

// OnelineNotEmptyString is type:oneline_not_empty_string.
func OnelineNotEmptyString(maxLen int) Validator {
	return func(v any) string {
		if msg := NotEmptyString(maxLen)(v); msg != "" {
			return msg
		}
		s := v.(string)
		if pySplitLines(s) > 1 {
			return fmt.Sprintf("Multi-line string is not allowed: '%s'", s)
		}
		return ""
	}
}

// OnelineNotEmptyStringOrNone is type:oneline_not_empty_string_or_none.
func OnelineNotEmptyStringOrNone(maxLen int) Validator {
	return func(v any) string {
		if v == nil {
			return ""
		}
		return OnelineNotEmptyString(maxLen)(v)
	}
}

// pySplitLines counts the lines of Python's str.splitlines().
func pySplitLines(s string) int {
	n := 0
	rs := []rune(s)
	start := 0
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\u0085', '\u2028', '\u2029':
		case '\r':
			if i+1 < len(rs) && rs[i+1] == '\n' {
				i++
			}
		default:
			continue
		}
		n++
		start = i + 1
	}
	if start < len(rs) {
		n++
	}
	return n
}
