package api

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// dnsLabel is neutron-lib's DNS_LABEL_REGEX.
var dnsLabel = regexp.MustCompile(`^([a-z0-9-]{1,63}|<project_id>|<project_name>|<user_name>|<user_id>)$`)

var allDigits = regexp.MustCompile(`^[0-9]+$`)

// dnsFormat is neutron-lib's _validate_dns_format: a PQDN or FQDN.
func dnsFormat(data string, maxLen int) string {
	if data == "" {
		return ""
	}
	trimmed := strings.TrimSuffix(data, ".")
	reason := ""
	switch {
	case utf8.RuneCountInString(trimmed) > maxLen:
		reason = fmt.Sprintf("'%s' exceeds the %d character FQDN limit", trimmed, maxLen)
	default:
		labels := strings.Split(trimmed, ".")
		for _, l := range labels {
			switch {
			case l == "":
				reason = "Encountered an empty component"
			case strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-"):
				reason = fmt.Sprintf("Name '%s' must not start or end with a hyphen", l)
			case !dnsLabel.MatchString(l):
				reason = fmt.Sprintf("Name '%s' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen", l)
			}
			if reason != "" {
				break
			}
		}
		if reason == "" && len(labels) > 1 && allDigits.MatchString(labels[len(labels)-1]) {
			reason = fmt.Sprintf("TLD '%s' must not be all numeric", labels[len(labels)-1])
		}
	}
	if reason == "" {
		return ""
	}
	return fmt.Sprintf("'%s' not a valid PQDN or FQDN. Reason: %s", data, reason)
}

// DNSDomain is type:dns_domain_name (validate_dns_domain): "" or a FQDN
// ending with a dot.
func DNSDomain(maxLen int) Validator {
	return func(v any) string {
		if msg := validateString(v, 0); msg != "" {
			return msg
		}
		s := v.(string)
		if s == "" {
			return ""
		}
		if !strings.HasSuffix(s, ".") {
			return fmt.Sprintf("'%s' is not a FQDN", s)
		}
		if msg := dnsFormat(s, maxLen); msg != "" {
			return msg
		}
		if n := utf8.RuneCountInString(s); n > maxLen-2 {
			return fmt.Sprintf("'%s' contains %d characters. Adding a sub-domain will cause it to exceed the maximum length of a FQDN of '%d'", s, n, maxLen)
		}
		return ""
	}
}

// DNSName is type:dns_host_name (validate_dns_name) for the default
// dns_domain configuration (openstacklocal), where any PQDN or FQDN of a
// valid format is accepted.
func DNSName(maxLen int) Validator {
	return func(v any) string {
		if msg := validateString(v, 0); msg != "" {
			return msg
		}
		return dnsFormat(v.(string), maxLen)
	}
}
