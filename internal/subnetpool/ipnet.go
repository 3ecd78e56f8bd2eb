package subnetpool

import (
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// ValidateSubnet is neutron-lib's validate_subnet (type:subnet).
func ValidateSubnet(v any) string {
	s, ok := v.(string)
	if !ok {
		return fmt.Sprintf("'%s' is not a valid IP subnet", pyfmt.Str(v))
	}
	if strings.ContainsAny(s, " \t\n\r\f\v") {
		// validate_no_whitespace's error is caught as an invalid subnet
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	n, err := netaddr.ParseNet(s)
	if err != nil {
		return fmt.Sprintf("'%s' is not a valid IP subnet", s)
	}
	if !strings.Contains(s, "/") || (n.Version() == 4 && n.String() != s) {
		return fmt.Sprintf("'%s' isn't a recognized IP subnet cidr, '%s' is recommended", s, n.CIDR())
	}
	return ""
}
