package api

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/neutrino-os/neutrino/internal/pyfmt"
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
			return fmt.Sprintf("'%s' not a valid PQDN or FQDN. Reason: %s", pyfmt.Str(v), "name must be a string")
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
