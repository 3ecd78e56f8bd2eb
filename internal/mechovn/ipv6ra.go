package mechovn

import (
	"context"
	"strconv"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// ovnAddressModes are OVN's names of the IPv6 address modes.
var ovnAddressModes = map[string]string{"slaac": "slaac", "dhcpv6-stateful": "dhcpv6_stateful", "dhcpv6-stateless": "dhcpv6_stateless"}

// raConfigs are a router port's ipv6_ra_configs as ML2/OVN writes them: from the first of its
// subnets with an IPv6 address mode, the mode, the network's MTU and send_periodic (false on a
// gateway port of an external network, so that tenant RAs do not leak to the provider network).
func (d *Driver) raConfigs(ctx context.Context, lrp *nbdb.LogicalRouterPort, gateway bool) map[string]string {
	for _, id := range strings.Fields(lrp.ExternalIDs["neutron:subnet_ids"]) {
		sub, err := d.tables.subnets.Get(ctx, id, nil)
		if err != nil {
			continue
		}
		mode := ovnAddressModes[str(sub["ipv6_address_mode"])]
		if mode == "" {
			continue
		}
		net, err := d.tables.networks.Get(ctx, str(sub["network_id"]), nil)
		if err != nil {
			return nil
		}
		periodic := "true"
		if ext, _ := net["router:external"].(bool); gateway && ext {
			periodic = "false"
		}
		return map[string]string{"address_mode": mode, "send_periodic": periodic, "mtu": strconv.FormatInt(intOf(net["mtu"]), 10)}
	}
	return nil
}
