package api

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

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
				return nil, nerr.HTTPBadRequest("Invalid input for allowed_address_pairs. Reason: '%s' is not a dictionary.", pyfmt.Str(p))
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
			k := key{pyfmt.Str(mac), pyfmt.Str(ip)}
			if !hasMAC {
				k.mac = "\x00None"
			}
			if seen[k] {
				macStr := "None"
				if hasMAC {
					macStr = pyfmt.Str(mac)
				}
				return nil, nerr.New(400, "DuplicateAddressPairInRequest", "Request contains duplicate address pair: mac_address %s ip_address %s.", macStr, pyfmt.Str(ip))
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
		return fmt.Sprintf("'%s' is not a dictionary", pyfmt.Str(v))
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
			return fmt.Sprintf("Validation of dictionary's keys failed. Expected keys: %s Provided keys: %s", pyfmt.Set(required), pyfmt.Set(keys))
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
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not a list", pyfmt.Str(v)))
		}
		if dups := duplicates(list); len(dups) > 0 {
			parts := make([]string, len(dups))
			for i, d := range dups {
				parts[i] = pyfmt.Str(d)
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
				return nil, nerr.InvalidInput(fmt.Sprintf("No valid key specs matched for: %s", pyfmt.Str(item)))
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
