package ml2

import (
	"context"
	"net/netip"
	"sort"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/netaddr"
)

// ---- subnet details as IPAM and ports use them ----

// subnetInfo is a stored subnet, parsed.
type subnetInfo struct {
	ID, NetworkID, ProjectID, Name string
	IPVersion                      int
	CIDR                           string
	Prefix                         netip.Prefix
	Gateway                        netip.Addr // invalid: no gateway
	EnableDHCP                     bool
	RAMode, AddrMode               string
	SegmentID, SubnetpoolID        string
	Pools                          []netaddr.Range
	ServiceTypes                   []string
}

// autoAddress is ipv6_utils.is_auto_address_subnet (SLAAC or
// DHCPv6-stateless: addresses are EUI-64 addresses).
func (s *subnetInfo) autoAddress() bool {
	return s.IPVersion == 6 && (s.AddrMode == "slaac" || s.AddrMode == "dhcpv6-stateless" ||
		s.RAMode == "slaac" || s.RAMode == "dhcpv6-stateless")
}

func (s *subnetInfo) ipam() *ipam.Subnet {
	return &ipam.Subnet{ID: s.ID, NetworkID: s.NetworkID, Prefix: s.Prefix, Pools: s.Pools}
}

// serves reports whether a port of device owner may take an address here
// (subnet service types; DHCP ports go anywhere DHCP is enabled).
func (s *subnetInfo) serves(owner string) bool {
	if len(s.ServiceTypes) == 0 || in(owner, s.ServiceTypes) {
		return true
	}
	return owner == OwnerDHCP && s.EnableDHCP
}

func nullStr(v *string) string {
	if v == nil {
		return ""
	}
	return *v
}

// networkSubnets reads the subnets of networks with their pools and
// service types (three queries), ordered by id as Neutron returns them.
func networkSubnets(ctx context.Context, q db.Querier, where string, args ...any) ([]*subnetInfo, error) {
	// one query: subnets with their pools and service types
	rows, err := q.Query(ctx, `SELECT s.id, s.network_id, s.project_id, s.name, s.ip_version, s.cidr, s.gateway_ip, s.enable_dhcp,
		s.ipv6_ra_mode, s.ipv6_address_mode, s.segment_id, s.subnetpool_id, p.first_ip, p.last_ip, st.service_type
		FROM subnets s
		LEFT JOIN ipallocationpools p ON p.subnet_id = s.id
		LEFT JOIN subnet_service_types st ON st.subnet_id = s.id
		WHERE `+where+` ORDER BY s.id, p.ord, st.service_type`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*subnetInfo
	byID := map[string]*subnetInfo{}
	pools := map[*subnetInfo]map[string]bool{}
	types := map[*subnetInfo]map[string]bool{}
	for rows.Next() {
		var s subnetInfo
		var project, gw, ra, am, seg, pool, first, last, st *string
		var enable any
		if err := rows.Scan(&s.ID, &s.NetworkID, &project, &s.Name, &s.IPVersion, &s.CIDR, &gw, &enable, &ra, &am, &seg, &pool,
			&first, &last, &st); err != nil {
			return nil, err
		}
		cur := byID[s.ID]
		if cur == nil {
			cur = &s
			cur.ProjectID, cur.RAMode, cur.AddrMode, cur.SegmentID, cur.SubnetpoolID = nullStr(project), nullStr(ra), nullStr(am), nullStr(seg), nullStr(pool)
			cur.EnableDHCP = dbBool(enable)
			cur.Prefix, _ = netaddr.Prefix(cur.CIDR)
			if gw != nil && *gw != "" {
				cur.Gateway, _ = netip.ParseAddr(*gw)
			}
			out = append(out, cur)
			byID[cur.ID] = cur
			pools[cur] = map[string]bool{}
			types[cur] = map[string]bool{}
		}
		if first != nil && last != nil && !pools[cur][*first] {
			pools[cur][*first] = true
			f, err1 := netip.ParseAddr(*first)
			l, err2 := netip.ParseAddr(*last)
			if err1 == nil && err2 == nil {
				cur.Pools = append(cur.Pools, netaddr.Range{First: f, Last: l})
			}
		}
		if st != nil && !types[cur][*st] {
			types[cur][*st] = true
			cur.ServiceTypes = append(cur.ServiceTypes, *st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// pools in address order for the allocator
	for _, s := range out {
		sort.Slice(s.Pools, func(i, j int) bool { return s.Pools[i].First.Less(s.Pools[j].First) })
	}
	return out, nil
}

func dbBool(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case int64:
		return x != 0
	case []byte:
		return string(x) == "1" || string(x) == "true" || string(x) == "t"
	case string:
		return x == "1" || x == "true" || x == "t"
	}
	return false
}
