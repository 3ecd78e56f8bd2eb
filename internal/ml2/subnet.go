package ml2

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Device owners with a meaning for IPAM (neutron_lib.constants).
const (
	OwnerDHCP          = "network:dhcp"
	OwnerDistributed   = "network:distributed"
	OwnerAgentGW       = "network:floatingip_agent_gateway"
	OwnerRouterIntf    = "network:router_interface"
	OwnerHAReplicated  = "network:ha_router_replicated_interface"
	OwnerDVRInterface  = "network:router_interface_distributed"
	OwnerRouterSNAT    = "network:router_centralized_snat"
	OwnerRouterGateway = "network:router_gateway"
	OwnerRouted        = "network:routed"
	ownerNetworkPrefix = "network:"
)

var (
	routerInterfaceOwners     = []string{OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface}
	routerInterfaceOwnersSNAT = []string{OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface, OwnerRouterSNAT}
	autoDeletePortOwners      = []string{OwnerDHCP, OwnerDistributed, OwnerAgentGW}
)

func in(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Subnet is the subnet resource as Neutron Zed declares it (core
// attributes, subnet_allocation, standard attributes, service types,
// segment).
func Subnet() *api.Resource {
	ipv6Modes := api.Values("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		api.TenantAttr(),
		{Name: "network_id", AllowPost: true, Required: true, Validate: api.UUID, IsFilter: true, IsSortKey: true,
			Visible: true, RequiredByPolicy: true},
		{Name: "ip_version", AllowPost: true, Required: true, Convert: api.ToInt, Validate: api.Values(4, 6),
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "subnetpool_id", AllowPost: true, Default: api.NotSpecified, Validate: api.SubnetpoolIDOrNone,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "enable_dhcp", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "ipv6_ra_mode", AllowPost: true, Default: api.NotSpecified, Validate: ipv6Modes,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "ipv6_address_mode", AllowPost: true, Default: api.NotSpecified, Validate: ipv6Modes,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "gateway_ip", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Convert: api.ToCanonicalIP,
			Validate: api.IPAddressOrNone, IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "cidr", AllowPost: true, Default: api.NotSpecified, Convert: api.ToCanonicalCIDR,
			Validate: api.SubnetOrNone, IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "allocation_pools", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.ToCanonicalIP, Validate: api.IPPools, Visible: true},
		{Name: "host_routes", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.NoneToEmptyList, Validate: api.HostRoutes, Visible: true},
		{Name: "dns_nameservers", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.NoneToEmptyList, Validate: api.Nameservers, Visible: true},
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true},
		{Name: "service_types", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.SubnetServiceTypes, Visible: true},
		{Name: "segment_id", AllowPost: true, AllowPut: true, Default: nil, Validate: api.UUIDOrNone,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "tags", Visible: true, IsFilter: true},
		{Name: "created_at", Default: nil, Visible: true},
		{Name: "updated_at", Default: nil, Visible: true},
		{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		{Name: "tags-any", IsFilter: true},
		{Name: "not-tags", IsFilter: true},
		{Name: "not-tags-any", IsFilter: true},
		// subnet_allocation
		{Name: "prefixlen", AllowPost: true, Default: api.NotSpecified, Convert: api.ToInt, Validate: api.NonNegative},
		{Name: "use_default_subnetpool", AllowPost: true, Default: false, Convert: api.ToBool},
		// shared mirrors the network's
		{Name: "shared", Default: false, Convert: api.ToBool, IsFilter: true, EnforcePolicy: true, RequiredByPolicy: true},
	}
	return &api.Resource{Name: "subnet", Collection: "subnets", Attrs: attrs, AllowBulk: true, Tags: true}
}

// SubnetNotFound is the subnet 404.
func SubnetNotFound(id string) error {
	return nerr.NotFound("SubnetNotFound", "Subnet %s could not be found.", id)
}

func subnetInUse(id, reason string) error {
	if reason == "" {
		reason = "One or more ports have an IP allocation from this subnet"
	}
	return nerr.Conflict("SubnetInUse", "Unable to complete operation on subnet %s: %s.", id, reason)
}

func (p *Plugin) setupSubnets(env *plugin.Env) {
	res := Subnet()
	res.NotFound = SubnetNotFound
	t := &store.Table{
		Name: "subnets", Res: res, DB: env.DB, IgnoreUnknownMarker: true, Std: true, InitialRevision: 0,
		// every update is a new revision, even one that changes nothing
		Revisions: func(old, changes api.Object) int { return 1 },
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "network_id"}, {Attr: "segment_id"}, {Attr: "subnetpool_id"},
			{Attr: "ip_version", Kind: store.Int}, {Attr: "cidr"}, {Attr: "gateway_ip"},
			{Attr: "enable_dhcp", Kind: store.Bool}, {Attr: "ipv6_ra_mode"}, {Attr: "ipv6_address_mode"},
		},
		Filters: map[string]store.FilterFunc{
			"shared": subnetSharedFilter,
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharing.VisibleCond("network", "t.network_id", rc.ProjectID, sharing.Shared)
		},
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: p.beforeCreateSubnet,
		AfterCreate:  p.afterCreateSubnet,
		BeforeUpdate: p.beforeUpdateSubnet,
		BeforeDelete: p.beforeDeleteSubnet,
		Load:         p.loadSubnets,
	})
	p.subnets = t
	t.Init() // columns resolvable (Col) before env.Finish
	env.AddResource(res, t)
	// a network's subnets come with its row (one query per show)
	p.networks.AddColumn(store.Column{Attr: "subnets", Kind: store.JSON, Null: []any{},
		Child: &store.ChildList{Table: "subnets", KeyCol: "network_id", ValueCol: "id"}})
	env.AddExtensions("subnet-service-types", "subnet-segmentid-writable")
}

// Subnets is the subnets table.
func (p *Plugin) Subnets() *store.Table { return p.subnets }

// OnSubnetDelete registers a check run (in the transaction) before a subnet
// is deleted, e.g. "a router interface uses it".
func (p *Plugin) OnSubnetDelete(f func(ctx context.Context, tx *db.Tx, subnet api.Object) error) {
	p.subnetDeleteChecks = append(p.subnetDeleteChecks, f)
}

func subnetSharedFilter(ctx context.Context, values []any) (string, []any) {
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	return sharing.Filter("network", "t.network_id", project, values)
}

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
	Pools                          []ipam.Range
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
			cur.Prefix, _ = ipam.Prefix(cur.CIDR)
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
				cur.Pools = append(cur.Pools, ipam.Range{First: f, Last: l})
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

// ---- create ----

type subnetCreateState struct {
	pools        []ipam.Range
	dns          []any
	routes       []any
	serviceTypes []any
}

type subnetCreateKey struct{}

func isGiven(obj api.Object, k string) bool {
	v, ok := obj[k]
	return ok && v != nil && v != api.NotSpecified
}

func (p *Plugin) beforeCreateSubnet(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	hasCIDR := isGiven(obj, "cidr")
	hasPrefixlen := isGiven(obj, "prefixlen")
	if hasCIDR && hasPrefixlen {
		return nerr.BadRequest("subnets", "cidr and prefixlen must not be supplied together")
	}
	if hasCIDR {
		pfx, ok := ipam.Prefix(obj["cidr"].(string))
		if !ok {
			return nerr.InvalidInput(fmt.Sprintf("%s is not in a CIDR format", api.PyStr(obj["cidr"])))
		}
		obj["cidr"] = ipam.FormatPrefix(pfx)
	}
	useDefault, _ := obj["use_default_subnetpool"].(bool)
	hasPool := isGiven(obj, "subnetpool_id")
	if useDefault && hasPool {
		return nerr.BadRequest("subnets", "subnetpool_id and use_default_subnetpool cannot both be specified")
	}
	if !hasCIDR && !hasPool && !useDefault {
		return nerr.BadRequest("subnets", "a subnetpool must be specified in the absence of a cidr")
	}
	netID, _ := obj["network_id"].(string)
	if p.subnetPools == nil {
		if hasPool {
			return nerr.NotFound("SubnetPoolNotFound", "Subnet pool %s could not be found.", api.PyStr(obj["subnetpool_id"]))
		}
		if useDefault {
			return nerr.BadRequest("subnets", fmt.Sprintf("No default subnetpool found for IPv%s", api.PyStr(obj["ip_version"])))
		}
		if err := p.validateSubnet(obj, nil); err != nil {
			return err
		}
		if _, err := p.networks.GetTx(ctx, tx, netID, false); err != nil {
			return err
		}
	} else {
		if (hasPool || useDefault || !hasCIDR) && isGiven(obj, "allocation_pools") && !hasCIDR {
			return nerr.BadRequest("subnets", "allocation_pools allowed only for specific subnet requests.")
		}
		if !hasPool && !useDefault {
			if err := p.validateSubnet(obj, nil); err != nil {
				return err
			}
		}
		if _, err := p.networks.GetTx(ctx, tx, netID, false); err != nil {
			return err
		}
		if err := p.subnetPools.AllocateSubnet(ctx, tx, obj); err != nil {
			return err
		}
		if !isGiven(obj, "cidr") {
			return nerr.BadRequest("subnets", "a subnetpool must be specified in the absence of a cidr")
		}
		if hasPool || useDefault {
			if err := p.validateSubnet(obj, nil); err != nil {
				return err
			}
		}
	}
	if _, ok := obj["subnetpool_id"]; !ok {
		obj["subnetpool_id"] = nil
	}
	pfx, _ := ipam.Prefix(obj["cidr"].(string))
	version := ipam.Version(pfx.Addr())
	// gateway: first address (IPv6: the subnet-router anycast address)
	var gw netip.Addr
	if g, ok := obj["gateway_ip"]; !ok || g == api.NotSpecified {
		if version == 6 {
			gw = ipam.First(pfx)
		} else {
			gw = ipam.FromAddr(ipam.First(pfx)).Add64(1).ToAddr(4)
		}
		obj["gateway_ip"] = ipam.Format(gw)
	} else if g != nil {
		gw, _ = netip.ParseAddr(g.(string))
	}
	pools, err := prepareAllocationPools(obj["allocation_pools"], pfx, gw)
	if err != nil {
		return err
	}
	if gw.IsValid() && ipam.GatewayInvalid(pfx, gw) {
		return nerr.Conflict("IpamValueInvalid", "Gateway IP %s cannot be allocated in CIDR %s", api.PyStr(obj["gateway_ip"]), ipam.FormatPrefix(pfx))
	}
	if err := p.checkSubnetCIDR(ctx, tx, netID, pfx); err != nil {
		return err
	}
	if err := p.checkSubnetpoolAffinity(ctx, tx, netID, version, obj["subnetpool_id"]); err != nil {
		return err
	}
	seg, _ := obj["segment_id"].(string)
	types, _ := obj["service_types"].([]any)
	if err := p.checkSegmentCreate(ctx, tx, netID, seg, types); err != nil {
		return err
	}
	st := &subnetCreateState{pools: pools}
	st.dns, _ = obj["dns_nameservers"].([]any)
	st.routes, _ = obj["host_routes"].([]any)
	st.serviceTypes, _ = obj["service_types"].([]any)
	op.Set(subnetCreateKey{}, st)
	for _, k := range []string{"ipv6_ra_mode", "ipv6_address_mode"} {
		if _, ok := obj[k]; !ok {
			obj[k] = nil
		}
	}
	obj["ip_version"] = int64(version)
	return nil
}

// prepareAllocationPools is _prepare_allocation_pools: generated around the
// gateway, or the requested ones validated.
func prepareAllocationPools(raw any, pfx netip.Prefix, gw netip.Addr) ([]ipam.Range, error) {
	list, _ := raw.([]any)
	if len(list) == 0 {
		return ipam.GeneratePools(pfx, gw), nil
	}
	pools, err := poolsToRanges(list)
	if err != nil {
		return nil, err
	}
	if err := validateAllocationPools(pools, pfx); err != nil {
		return nil, err
	}
	if gw.IsValid() {
		if err := gwOutOfPools(gw, pools); err != nil {
			return nil, err
		}
	}
	return pools, nil
}

func poolsToRanges(list []any) ([]ipam.Range, error) {
	var out []ipam.Range
	for _, e := range list {
		m, _ := e.(map[string]any)
		s, _ := m["start"].(string)
		en, _ := m["end"].(string)
		a, err1 := netip.ParseAddr(s)
		b, err2 := netip.ParseAddr(en)
		if err1 != nil || err2 != nil || ipam.Version(a) != ipam.Version(b) || b.Less(a) {
			return nil, nerr.New(400, "InvalidAllocationPool", "The allocation pool %s is not valid.", pyPool(m))
		}
		out = append(out, ipam.Range{First: a, Last: b})
	}
	return out, nil
}

// pyPool writes a requested pool as Python's str() of the dict (keys in
// the order received; clients send them sorted).
func pyPool(m map[string]any) string { return api.PyRepr(m) }

// validateAllocationPools is validate_allocation_pools.
func validateAllocationPools(pools []ipam.Range, pfx netip.Prefix) error {
	first, last := ipam.PoolBounds(pfx)
	v := ipam.Version(pfx.Addr())
	cidr := ipam.FormatPrefix(pfx)
	for _, r := range pools {
		if ipam.Version(r.First) != v || ipam.Version(r.Last) != v {
			return nerr.New(400, "InvalidAllocationPool", "The allocation pool %s is not valid.", r)
		}
		if r.First.Less(first) || last.Less(r.Last) {
			return nerr.New(400, "OutOfBoundsAllocationPool", "The allocation pool %s spans beyond the subnet cidr %s.", r, cidr)
		}
	}
	for i := range pools {
		for j := i + 1; j < len(pools); j++ {
			if pools[i].Overlaps(pools[j]) {
				return nerr.Conflict("OverlappingAllocationPools", "Found overlapping allocation pools: %s %s for subnet %s.", pools[i], pools[j], cidr)
			}
		}
	}
	return nil
}

func gwOutOfPools(gw netip.Addr, pools []ipam.Range) error {
	for _, r := range pools {
		if r.Contains(gw) {
			return nerr.Conflict("GatewayConflictWithAllocationPools", "Gateway ip %s conflicts with allocation pool %s.", ipam.Format(gw), r)
		}
	}
	return nil
}

func versionMismatch(name string, addr string, version int) error {
	return nerr.InvalidInput(fmt.Sprintf("%s '%s' does not match the ip_version '%d'", name, addr, version))
}

func addrVersion(s string) int {
	if a, n, ok := ipam.ParseNetwork(s); ok {
		_ = n
		return ipam.Version(a)
	}
	return 0
}

// validateSubnet is _validate_subnet: s holds the request (for an update,
// completed with ip_version and cidr); cur is the stored subnet on update.
func (p *Plugin) validateSubnet(s api.Object, cur api.Object) error {
	ver64, _ := api.PyInt(s["ip_version"])
	ver := int(ver64)
	cidr, _ := s["cidr"].(string)
	pfx, hasPrefix := ipam.Prefix(cidr)
	if hasPrefix && ipam.Version(pfx.Addr()) != ver {
		return versionMismatch("cidr", cidr, ver)
	}
	dhcpWas := false
	if cur != nil {
		dhcpWas, _ = cur["enable_dhcp"].(bool)
	}
	if en, _ := s["enable_dhcp"].(bool); en && !dhcpWas && hasPrefix {
		if (ver == 4 && pfx.Bits() > 30) || (ver == 6 && pfx.Bits() > 126) {
			return nerr.InvalidInput("Subnet has a prefix length that is incompatible with DHCP service enabled")
		}
		if ipam.IsMulticast(pfx) {
			return nerr.InvalidInput("Multicast IP subnet is not supported if enable_dhcp is True")
		}
		if ipam.IsLoopback(pfx) {
			return nerr.InvalidInput("Loopback IP subnet is not supported if enable_dhcp is True")
		}
		if ver == 4 && ipam.First(pfx) == netip.IPv4Unspecified() {
			return nerr.InvalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")
		}
	}
	if g, ok := s["gateway_ip"].(string); ok {
		if addrVersion(g) != ver {
			return versionMismatch("gateway_ip", g, ver)
		}
		gw, _ := netip.ParseAddr(g)
		if hasPrefix && ipam.GatewayInvalid(pfx, gw) {
			return nerr.InvalidInput("Gateway is not valid on subnet")
		}
	}
	if dns, ok := s["dns_nameservers"].([]any); ok {
		if max := p.env.Config.Int("DEFAULT", "max_dns_nameservers"); len(dns) > max {
			return nerr.New(400, "DNSNameServersExhausted", "Unable to complete operation for %s. The number of DNS nameservers exceeds the limit %d.", subnetLabel(s, cur), max)
		}
		for _, d := range dns {
			ds, _ := d.(string)
			if _, err := netip.ParseAddr(ds); err != nil {
				return nerr.InvalidInput(fmt.Sprintf("Error parsing dns address %s", ds))
			}
			if addrVersion(ds) != ver {
				return versionMismatch("dns_nameserver", ds, ver)
			}
		}
	}
	if routes, ok := s["host_routes"].([]any); ok {
		if max := p.env.Config.Int("DEFAULT", "max_subnet_host_routes"); len(routes) > max {
			return nerr.New(400, "HostRoutesExhausted", "Unable to complete operation for %s. The number of host routes exceeds the limit %d.", subnetLabel(s, cur), max)
		}
		for _, r := range routes {
			m, _ := r.(map[string]any)
			nh, _ := m["nexthop"].(string)
			dst, _ := m["destination"].(string)
			if addrVersion(nh) != ver {
				return versionMismatch("nexthop", nh, ver)
			}
			if addrVersion(dst) != ver {
				return versionMismatch("destination", dst, ver)
			}
		}
	}
	ra, raSet := s["ipv6_ra_mode"].(string)
	am, amSet := s["ipv6_address_mode"].(string)
	if ver == 4 {
		if raSet {
			return nerr.InvalidInput("ipv6_ra_mode is not valid when ip_version is 4")
		}
		if amSet {
			return nerr.InvalidInput("ipv6_address_mode is not valid when ip_version is 4")
		}
		return nil
	}
	if cur != nil {
		if en, ok := s["enable_dhcp"].(bool); ok && !en {
			if raSet || amSet || cur["ipv6_ra_mode"] != nil || cur["ipv6_address_mode"] != nil {
				return nerr.InvalidInput("Cannot disable enable_dhcp with ipv6 attributes set")
			}
		}
		return nil
	}
	if en, _ := s["enable_dhcp"].(bool); (raSet || amSet) && !en {
		return nerr.InvalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
	}
	if raSet && amSet && ra != am {
		return nerr.InvalidInput(fmt.Sprintf("ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. If both attributes are set, they must be the same value", ra, am))
	}
	auto := ra == "slaac" || ra == "dhcpv6-stateless" || am == "slaac" || am == "dhcpv6-stateless"
	if (raSet || amSet) && auto && hasPrefix && pfx.Bits() != 64 {
		return nerr.InvalidInput(fmt.Sprintf("Invalid CIDR %s for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64", cidr))
	}
	return nil
}

func subnetLabel(s, cur api.Object) string {
	if cur != nil {
		return api.PyStr(cur["id"])
	}
	return "new subnet"
}

// checkSubnetCIDR is _validate_subnet_cidr: no /0, no overlap with the
// network's subnets (all subnets unless allow_overlapping_ips). The network
// row is locked first so that concurrent creates on one network serialize.
func (p *Plugin) checkSubnetCIDR(ctx context.Context, tx *db.Tx, netID string, pfx netip.Prefix) error {
	if pfx.Bits() == 0 {
		return nerr.InvalidInput("0 is not allowed as CIDR prefix length")
	}
	if err := p.networks.BumpRevision(ctx, tx, netID); err != nil {
		return err
	}
	query := "SELECT cidr FROM subnets WHERE network_id = ?"
	args := []any{netID}
	if !p.env.Config.Bool("DEFAULT", "allow_overlapping_ips") {
		query = "SELECT cidr FROM subnets WHERE 1 = 1"
		args = nil
	}
	rows, err := tx.Query(ctx, query+tx.ForUpdate(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		o, ok := ipam.Prefix(c)
		if ok && o.Overlaps(pfx) && c != "::/64" {
			return nerr.InvalidInput(fmt.Sprintf("Requested subnet with cidr: %s for network: %s overlaps with another subnet", ipam.FormatPrefix(pfx), netID))
		}
	}
	return rows.Err()
}

// checkSubnetpoolAffinity is the part of _validate_network_subnetpools that
// needs no address scope: subnets of one IP version on a network come all
// from the same pool or all from none.
func (p *Plugin) checkSubnetpoolAffinity(ctx context.Context, tx *db.Tx, netID string, version int, pool any) error {
	poolID, _ := pool.(string)
	rows, err := tx.Query(ctx, "SELECT subnetpool_id FROM subnets WHERE network_id = ? AND ip_version = ?", netID, version)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sp *string
		if err := rows.Scan(&sp); err != nil {
			return err
		}
		if nullStr(sp) != poolID {
			return nerr.New(400, "NetworkSubnetPoolAffinityError", "Subnets hosted on the same network must be allocated from the same subnet pool.")
		}
	}
	return rows.Err()
}

// checkSegmentCreate is the segment part of _save_subnet: the segment
// exists, belongs to the network and is static, and the network's subnets
// are either all on segments or none is.
func (p *Plugin) checkSegmentCreate(ctx context.Context, tx *db.Tx, netID, segID string, serviceTypes []any) error {
	if segID != "" {
		if err := segmentExists(ctx, tx, segID); err != nil {
			return err
		}
	}
	segs, err := subnetSegments(ctx, tx, netID)
	if err != nil {
		return err
	}
	routed := false
	for _, t := range serviceTypes {
		routed = routed || t == OwnerRouted
	}
	if !routed {
		segs = append(segs, segID)
	}
	assoc := map[string]bool{}
	for _, s := range segs {
		assoc[s] = true
	}
	if assoc[""] && len(assoc) > 1 {
		return notAllOnSegments(netID)
	}
	if segID != "" {
		return checkSegmentOf(ctx, tx, netID, segID)
	}
	return nil
}

func notAllOnSegments(netID string) error {
	return nerr.New(400, "SubnetsNotAllAssociatedWithSegments", "All of the subnets on network '%s' must either all be associated with segments or all not associated with any segment.", netID)
}

func segmentExists(ctx context.Context, tx *db.Tx, segID string) error {
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM network_segments WHERE id = ?", segID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return nerr.NotFound("SegmentNotFound", "Segment %s could not be found.", segID)
	}
	return nil
}

// subnetSegments lists the segment ids ("" = none) of a network's subnets,
// ignoring network:routed ones.
func subnetSegments(ctx context.Context, tx *db.Tx, netID string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT s.segment_id FROM subnets s WHERE s.network_id = ?
		AND NOT EXISTS (SELECT 1 FROM subnet_service_types st WHERE st.subnet_id = s.id AND st.service_type = ?)`, netID, OwnerRouted)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s *string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, nullStr(s))
	}
	return out, rows.Err()
}

// checkSegmentOf is the end of _validate_segment.
func checkSegmentOf(ctx context.Context, tx *db.Tx, netID, segID string) error {
	var segNet string
	var dynamic any
	if err := tx.QueryRow(ctx, "SELECT network_id, is_dynamic FROM network_segments WHERE id = ?", segID).Scan(&segNet, &dynamic); errors.Is(err, sql.ErrNoRows) {
		return nerr.NotFound("SegmentNotFound", "Segment %s could not be found.", segID)
	} else if err != nil {
		return err
	}
	if segNet != netID {
		return nerr.New(400, "NetworkIdsDontMatch", "The subnet's network id, '%s', doesn't match the network_id of segment '%s'", netID, segID)
	}
	if dbBool(dynamic) {
		return nerr.New(400, "SubnetCantAssociateToDynamicSegment", "A subnet cannot be associated with a dynamic segment.")
	}
	return nil
}

func (p *Plugin) afterCreateSubnet(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	st, _ := op.Value(subnetCreateKey{}).(*subnetCreateState)
	if st == nil {
		return nil
	}
	id := obj["id"].(string)
	if err := insertPools(ctx, tx, id, st.pools); err != nil {
		return err
	}
	if err := insertDNS(ctx, tx, id, st.dns); err != nil {
		return err
	}
	if err := insertRoutes(ctx, tx, id, st.routes); err != nil {
		return err
	}
	if err := insertServiceTypes(ctx, tx, id, st.serviceTypes); err != nil {
		return err
	}
	if len(st.serviceTypes) > 0 {
		// Neutron flushes the service types after the subnet: a revision
		if err := p.subnets.BumpRevision(ctx, tx, id); err != nil {
			return err
		}
	}
	ra, _ := obj["ipv6_ra_mode"].(string)
	am, _ := obj["ipv6_address_mode"].(string)
	if ra == "slaac" || ra == "dhcpv6-stateless" || am == "slaac" || am == "dhcpv6-stateless" {
		return p.addAutoAddresses(ctx, tx, id)
	}
	return nil
}

func insertPools(ctx context.Context, tx *db.Tx, id string, pools []ipam.Range) error {
	for i, r := range pools {
		if _, err := tx.Exec(ctx, "INSERT INTO ipallocationpools (subnet_id, first_ip, last_ip, ord) VALUES (?, ?, ?, ?)",
			id, ipam.Format(r.First), ipam.Format(r.Last), i); err != nil {
			return err
		}
	}
	return nil
}

func insertDNS(ctx context.Context, tx *db.Tx, id string, dns []any) error {
	for i, d := range dns {
		if _, err := tx.Exec(ctx, "INSERT INTO dnsnameservers (subnet_id, address, ord) VALUES (?, ?, ?)", id, api.PyStr(d), i); err != nil {
			return err
		}
	}
	return nil
}

func insertRoutes(ctx context.Context, tx *db.Tx, id string, routes []any) error {
	for _, r := range routes {
		m, _ := r.(map[string]any)
		dst, nh := api.PyStr(m["destination"]), api.PyStr(m["nexthop"])
		if c, ok := ipam.CanonicalCIDR(dst); ok {
			dst = c
		}
		nh = ipam.CanonicalIP(nh)
		if _, err := tx.Exec(ctx, "INSERT INTO subnetroutes (subnet_id, destination, nexthop) VALUES (?, ?, ?)", id, dst, nh); err != nil {
			return err
		}
	}
	return nil
}

func insertServiceTypes(ctx context.Context, tx *db.Tx, id string, types []any) error {
	seen := map[string]bool{}
	for _, t := range types {
		s := api.PyStr(t)
		if seen[s] {
			continue
		}
		seen[s] = true
		if _, err := tx.Exec(ctx, "INSERT INTO subnet_service_types (subnet_id, service_type) VALUES (?, ?)", id, s); err != nil {
			return err
		}
	}
	return nil
}

// addAutoAddresses gives the ports of the network an EUI-64 address on a
// new SLAAC / DHCPv6-stateless subnet (add_auto_addrs_on_network_ports).
func (p *Plugin) addAutoAddresses(ctx context.Context, tx *db.Tx, subnetID string) error {
	subs, err := networkSubnets(ctx, tx, "s.id = ?", subnetID)
	if err != nil || len(subs) == 0 {
		return err
	}
	s := subs[0]
	rows, err := tx.Query(ctx, "SELECT id, mac_address, device_owner FROM ports WHERE network_id = ?", s.NetworkID)
	if err != nil {
		return err
	}
	type portMAC struct{ id, mac, owner string }
	var ports []portMAC
	for rows.Next() {
		var pm portMAC
		if err := rows.Scan(&pm.id, &pm.mac, &pm.owner); err != nil {
			rows.Close()
			return err
		}
		ports = append(ports, pm)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, pm := range ports {
		if in(pm.owner, routerInterfaceOwnersSNAT) || !s.serves(pm.owner) || s.SegmentID != "" {
			continue
		}
		mac, ok := ipam.ParseMAC(pm.mac)
		if !ok {
			continue
		}
		a := ipam.EUI64(s.Prefix, mac)
		ok, err := ipam.Insert(ctx, tx, s.ipam(), a, pm.id)
		if err != nil {
			return err
		}
		if ok {
			if err := syncFixedIPs(ctx, tx, []string{pm.id}); err != nil {
				return err
			}
			// the allocation, then update_port: two revisions
			for i := 0; i < 2; i++ {
				if err := p.ports.BumpRevision(ctx, tx, pm.id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ---- update ----

func (p *Plugin) beforeUpdateSubnet(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	id := old["id"].(string)
	s := api.Object{"id": id}
	for k, v := range ch {
		s[k] = v
	}
	s["ip_version"] = old["ip_version"]
	s["cidr"] = old["cidr"]
	if err := p.validateSubnet(s, old); err != nil {
		return err
	}
	// a subnet change is a change of its network (standard-attr-revisions)
	if err := p.networks.BumpRevision(ctx, tx, old["network_id"].(string)); err != nil {
		return err
	}
	pfx, _ := ipam.Prefix(old["cidr"].(string))
	cur, err := networkSubnets(ctx, tx, "s.id = ?", id)
	if err != nil {
		return err
	}
	if len(cur) == 0 {
		return SubnetNotFound(id)
	}
	sub := cur[0]
	var newPools []ipam.Range
	poolsGiven := false
	if raw, ok := ch["allocation_pools"]; ok && raw != nil {
		list, _ := raw.([]any)
		newPools, err = poolsToRanges(list)
		if err != nil {
			return err
		}
		if err := validateAllocationPools(newPools, pfx); err != nil {
			return err
		}
		poolsGiven = true
	}
	oldGW := sub.Gateway
	newGW := oldGW
	if g, ok := ch["gateway_ip"]; ok {
		newGW = netip.Addr{}
		if gs, ok := g.(string); ok {
			newGW, _ = netip.ParseAddr(gs)
		}
	}
	if newGW != oldGW || poolsGiven {
		pools := sub.Pools
		if poolsGiven {
			pools = newPools
		}
		if newGW.IsValid() {
			if err := gwOutOfPools(newGW, pools); err != nil {
				return err
			}
		}
	}
	if newGW != oldGW && newGW.IsValid() && oldGW.IsValid() {
		var portID string
		err := tx.QueryRow(ctx, `SELECT a.port_id FROM ipallocations a JOIN ports pt ON pt.id = a.port_id
			WHERE a.subnet_id = ? AND a.ip_address = ? AND pt.device_owner IN (?, ?, ?, ?) LIMIT 1`,
			id, ipam.Format(oldGW), OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface, OwnerRouterSNAT).Scan(&portID)
		if err == nil && portID != "" {
			return nerr.Conflict("GatewayIpInUse", "Current gateway ip %s already in use by port %s. Unable to update.", ipam.Format(oldGW), portID)
		}
	}
	if seg, ok := ch["segment_id"]; ok && api.PyStr(seg) != api.PyStr(old["segment_id"]) {
		if err := p.updateSegmentCheck(ctx, tx, old, seg); err != nil {
			return err
		}
	}
	if dns, ok := ch["dns_nameservers"].([]any); ok {
		if _, err := tx.Exec(ctx, "DELETE FROM dnsnameservers WHERE subnet_id = ?", id); err != nil {
			return err
		}
		if err := insertDNS(ctx, tx, id, dns); err != nil {
			return err
		}
	}
	if routes, ok := ch["host_routes"].([]any); ok {
		if _, err := tx.Exec(ctx, "DELETE FROM subnetroutes WHERE subnet_id = ?", id); err != nil {
			return err
		}
		if err := insertRoutes(ctx, tx, id, routes); err != nil {
			return err
		}
	}
	if poolsGiven {
		if _, err := tx.Exec(ctx, "DELETE FROM ipallocationpools WHERE subnet_id = ?", id); err != nil {
			return err
		}
		if err := insertPools(ctx, tx, id, newPools); err != nil {
			return err
		}
	}
	if _, ok := ch["service_types"]; ok {
		types, _ := ch["service_types"].([]any)
		if _, err := tx.Exec(ctx, "DELETE FROM subnet_service_types WHERE subnet_id = ?", id); err != nil {
			return err
		}
		if err := insertServiceTypes(ctx, tx, id, types); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plugin) updateSegmentCheck(ctx context.Context, tx *db.Tx, old api.Object, seg any) error {
	netID := old["network_id"].(string)
	newSeg, _ := seg.(string)
	if newSeg != "" {
		if err := segmentExists(ctx, tx, newSeg); err != nil {
			return err
		}
	}
	list, err := subnetSegments(ctx, tx, netID)
	if err != nil {
		return err
	}
	assoc := map[string]bool{}
	for _, s := range list {
		assoc[s] = true
	}
	if assoc[""] && len(assoc) > 1 || len(list) > 1 {
		return notAllOnSegments(netID)
	}
	if !assoc[""] && !assoc[newSeg] {
		return nerr.New(400, "SubnetSegmentAssociationChangeNotAllowed", "A subnet that is already associated with a segment cannot have its segment association changed.")
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM network_segments WHERE network_id = ?", netID).Scan(&n); err != nil {
		return err
	}
	if n > 1 {
		return nerr.New(400, "NoUpdateSubnetWhenMultipleSegmentsOnNetwork", "The network '%s' has multiple segments, it is only possible to associate an existing subnet with a segment on networks with a single segment.", netID)
	}
	if newSeg != "" {
		return checkSegmentOf(ctx, tx, netID, newSeg)
	}
	return nil
}

// ---- delete ----

func (p *Plugin) beforeDeleteSubnet(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	for _, f := range p.subnetDeleteChecks {
		if err := f(ctx, tx, obj); err != nil {
			return err
		}
	}
	return p.removeSubnet(ctx, tx, obj)
}

// removeSubnet refuses while ports use the subnet, removes the allocations
// of DHCP and auto-address ports, releases the prefix and bumps the
// network's revision; the row and its children go with the delete.
func (p *Plugin) removeSubnet(ctx context.Context, tx *db.Tx, obj api.Object) error {
	id := obj["id"].(string)
	var n int
	ph := store.Placeholders(len(routerInterfaceOwners))
	args := []any{id}
	for _, o := range routerInterfaceOwners {
		args = append(args, o)
	}
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ipallocations a JOIN ports pt ON pt.id = a.port_id WHERE a.subnet_id = ? AND pt.device_owner IN ("+ph+")", args...).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return subnetInUse(id, "")
	}
	ra, _ := obj["ipv6_ra_mode"].(string)
	am, _ := obj["ipv6_address_mode"].(string)
	auto := ra == "slaac" || ra == "dhcpv6-stateless" || am == "slaac" || am == "dhcpv6-stateless"
	if !auto {
		args := []any{id}
		for _, o := range autoDeletePortOwners {
			args = append(args, o)
		}
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ipallocations a JOIN ports pt ON pt.id = a.port_id WHERE a.subnet_id = ? AND pt.device_owner NOT IN ("+store.Placeholders(len(autoDeletePortOwners))+")", args...).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return subnetInUse(id, "")
		}
	}
	// ports losing an address get a new revision
	portIDs, err := db.Strings(ctx, tx, "SELECT DISTINCT port_id FROM ipallocations WHERE subnet_id = ?", id)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "DELETE FROM ipallocations WHERE subnet_id = ?", id); err != nil {
		return err
	}
	if err := syncFixedIPs(ctx, tx, portIDs); err != nil {
		return err
	}
	for _, pid := range portIDs {
		if err := p.ports.BumpRevision(ctx, tx, pid); err != nil {
			return err
		}
	}
	if sp, _ := obj["subnetpool_id"].(string); sp != "" && p.subnetPools != nil {
		if err := p.subnetPools.ReleaseSubnet(ctx, tx, obj); err != nil {
			return err
		}
	}
	if netID, _ := obj["network_id"].(string); netID != "" {
		return p.networks.BumpRevision(ctx, tx, netID)
	}
	return nil
}

// ---- loading ----

func (p *Plugin) loadSubnets(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	for _, o := range objs {
		o["allocation_pools"] = []any{}
		o["dns_nameservers"] = []any{}
		o["host_routes"] = []any{}
		o["service_types"] = []any{}
	}
	ids := store.IDs(objs)
	err := store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, first_ip, last_ip FROM ipallocationpools WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, ord", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, f, l string
			if err := rows.Scan(&id, &f, &l); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["allocation_pools"] = append(o["allocation_pools"].([]any), map[string]any{"start": f, "end": l})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, address FROM dnsnameservers WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, ord", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, a string
			if err := rows.Scan(&id, &a); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["dns_nameservers"] = append(o["dns_nameservers"].([]any), a)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, destination, nexthop FROM subnetroutes WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, destination, nexthop", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, d, n string
			if err := rows.Scan(&id, &d, &n); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["host_routes"] = append(o["host_routes"].([]any), map[string]any{"destination": d, "nexthop": n})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT subnet_id, service_type FROM subnet_service_types WHERE subnet_id IN ("+ph+") ORDER BY subnet_id, service_type", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, st string
			if err := rows.Scan(&id, &st); err != nil {
				return err
			}
			if o := byID[id]; o != nil {
				o["service_types"] = append(o["service_types"].([]any), st)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	// shared mirrors the network's (for policy)
	netIDs := map[string]bool{}
	for _, o := range objs {
		if n, ok := o["network_id"].(string); ok {
			netIDs[n] = true
		}
	}
	list := make([]string, 0, len(netIDs))
	for n := range netIDs {
		list = append(list, n)
	}
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	shared, err := sharing.SharedWith(ctx, q, "network", project, list)
	if err != nil {
		return err
	}
	for _, o := range objs {
		n, _ := o["network_id"].(string)
		o["shared"] = shared[n]
	}
	return err
}

// deleteNetworkSubnets removes the subnets of a network being deleted.
func (p *Plugin) deleteNetworkSubnets(ctx context.Context, tx *db.Tx, netID string) error {
	admin := reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
	ids, err := db.Strings(ctx, tx, "SELECT id FROM subnets WHERE network_id = ? ORDER BY id", netID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.subnets.DeleteTx(admin, tx, id, nil); err != nil {
			return err
		}
	}
	return nil
}
