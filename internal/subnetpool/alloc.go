package subnetpool

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
)

// This file is Neutron's subnet allocation from pools (ipam/subnet_alloc.py
// and the pool parts of db_base_plugin_v2._create_subnet_precommit and
// ipam_backend_mixin): ml2.SubnetPools.

func badSubnet(format string, args ...any) error {
	return nerr.BadRequest("subnets", fmt.Sprintf(format, args...))
}

func allocationError(reason string) error {
	// SubnetAllocationError is a bare NeutronException, which Neutron
	// answers with a 500; neutrino says 409 (no free space is a conflict
	// with the pool's state, not a server fault), same type and message.
	return nerr.Conflict("SubnetAllocationError", "Failed to allocate subnet: %s.", reason)
}

// allocatedSet is the set of the pool's subnets' CIDRs.
func (c *Component) allocatedSet(ctx context.Context, q db.Querier, poolID string, version int) (*netaddr.Set, error) {
	set := netaddr.NewSet(version)
	sc := c.subnets
	if sc == nil {
		return set, nil
	}
	rows, err := q.Query(ctx, "SELECT "+sc.cidr+" FROM "+sc.table+" WHERE "+sc.pool+" = ?"+shareLock(q), poolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cidr string
		if err := rows.Scan(&cidr); err != nil {
			return nil, err
		}
		if n, err := netaddr.ParseNet(cidr); err == nil && n.Version() == version {
			set.Add(n)
		}
	}
	return set, rows.Err()
}

// Available returns the free prefixes of a pool, as Neutron orders them for
// allocation: smallest blocks (longest prefixes) first, then by address.
func Available(prefixes []netaddr.Net, allocated *netaddr.Set, version int) []netaddr.Net {
	free := netaddr.NewSet(version, prefixes...).Difference(allocated).CIDRs()
	sort.SliceStable(free, func(i, j int) bool { return free[i].Bits > free[j].Bits })
	return free
}

// AllocateAny picks the first free network of length prefixlen, as
// SubnetAllocator._allocate_any_subnet does.
func AllocateAny(prefixes []netaddr.Net, allocated *netaddr.Set, version, prefixlen int) (netaddr.Net, error) {
	for _, p := range Available(prefixes, allocated, version) {
		if prefixlen >= p.Bits {
			return netaddr.Net{Addr: p.CIDR().Addr, Bits: prefixlen}, nil
		}
	}
	return netaddr.Net{}, allocationError(fmt.Sprintf("Insufficient prefix space to allocate subnet size /%d", prefixlen))
}

// AllocateSpecific checks that cidr is free space of the pool.
func AllocateSpecific(prefixes []netaddr.Net, allocated *netaddr.Set, version int, cidr netaddr.Net) error {
	for _, p := range Available(prefixes, allocated, version) {
		if p.Prefix().Contains(cidr.CIDR().Addr) {
			if p.Bits <= cidr.Bits {
				return nil
			}
			break
		}
	}
	return allocationError("Cannot allocate requested subnet from the available set of prefixes")
}

func attr(obj api.Object, k string) (any, bool) {
	v, ok := obj[k]
	if !isSet(v, ok) {
		return nil, false
	}
	return v, true
}

// subnetRequest is what a subnet create asks of the pools.
type subnetRequest struct {
	cidr         netaddr.Net // when hasCIDR (normalized)
	hasCIDR      bool
	prefixlen    any
	hasPrefixlen bool
	poolID       string // the pool named, or the default one
	version      int    // 0: unknown
}

// AllocateSubnet implements ml2.SubnetPools.
func (c *Component) AllocateSubnet(ctx context.Context, tx *db.Tx, subnet api.Object) error {
	req, err := c.readSubnetRequest(ctx, tx, subnet)
	if err != nil {
		return err
	}
	if req.poolID == "" {
		return c.checkNetworkPools(ctx, tx, subnet, nil, req.version)
	}
	if _, ok := attr(subnet, "allocation_pools"); ok && !req.hasCIDR {
		return badSubnet("allocation_pools allowed only for specific subnet requests.")
	}
	pool, err := c.pools.GetTx(ctx, tx, req.poolID, true)
	if err != nil {
		return err
	}
	poolVersion := int(intOf(pool["ip_version"]))
	if v, ok := attr(subnet, "ip_version"); ok && int(intOf(v)) != poolVersion {
		return badSubnet("Cannot allocate IPv%d subnet from IPv%d subnet pool", intOf(v), poolVersion)
	}
	cidr, specific, prefixlen, err := requestedPrefix(subnet, pool, req)
	if err != nil {
		return err
	}
	if err := c.checkQuota(ctx, tx, pool, poolVersion, prefixlen); err != nil {
		return err
	}
	prefixes, _ := parsePrefixes(pool["prefixes"].([]any))
	allocated, err := c.allocatedSet(ctx, tx, req.poolID, poolVersion)
	if err != nil {
		return err
	}
	if specific {
		if err := AllocateSpecific(prefixes, allocated, poolVersion, cidr); err != nil {
			return err
		}
	} else {
		n, err := AllocateAny(prefixes, allocated, poolVersion, int(prefixlen))
		if err != nil {
			return err
		}
		cidr = n
	}
	if err := c.checkNetworkPools(ctx, tx, subnet, pool, poolVersion); err != nil {
		return err
	}
	subnet["cidr"] = cidr.String()
	subnet["subnetpool_id"] = req.poolID
	if _, ok := attr(subnet, "ip_version"); !ok {
		subnet["ip_version"] = int64(poolVersion)
	}
	return nil
}

// readSubnetRequest reads the cidr, prefix length, pool and IP version a
// subnet create asks for (normalizing the cidr); use_default_subnetpool
// resolves to the default pool of the version.
func (c *Component) readSubnetRequest(ctx context.Context, tx *db.Tx, subnet api.Object) (*subnetRequest, error) {
	req := &subnetRequest{}
	var cidrV any
	cidrV, req.hasCIDR = attr(subnet, "cidr")
	req.prefixlen, req.hasPrefixlen = attr(subnet, "prefixlen")
	if req.hasCIDR && req.hasPrefixlen {
		return nil, badSubnet("cidr and prefixlen must not be supplied together")
	}
	if req.hasCIDR {
		n, err := netaddr.ParseNet(str(cidrV))
		if err != nil {
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not a valid IP subnet", pyfmt.Str(cidrV)))
		}
		req.cidr = n.CIDR()
		subnet["cidr"] = req.cidr.String()
	}
	useDefault := false
	if v, ok := attr(subnet, "use_default_subnetpool"); ok {
		useDefault, _ = api.ParseBool(v)
	}
	if v, ok := attr(subnet, "subnetpool_id"); ok {
		req.poolID = str(v)
	}
	if useDefault && req.poolID != "" {
		return nil, badSubnet("subnetpool_id and use_default_subnetpool cannot both be specified")
	}
	if v, ok := attr(subnet, "ip_version"); ok {
		req.version = int(intOf(v))
	}
	if req.hasCIDR {
		req.version = req.cidr.Version()
	}
	if req.poolID == "" && useDefault {
		if req.version == 0 {
			return nil, badSubnet("ip_version must be specified in the absence of cidr and subnetpool_id")
		}
		id, err := c.defaultPoolID(ctx, tx, req.version)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, badSubnet("No default subnetpool found for IPv%d", req.version)
		}
		req.poolID = id
	}
	if req.poolID == "" && !req.hasCIDR {
		return nil, badSubnet("a subnetpool must be specified in the absence of a cidr")
	}
	return req, nil
}

// requestedPrefix is SubnetRequestFactory: a specific request for the
// given cidr (or the gateway's network at the prefix length), else an
// "any" request of the prefix length (the pool's default when not given),
// within the pool's bounds.
func requestedPrefix(subnet, pool api.Object, req *subnetRequest) (cidr netaddr.Net, specific bool, prefixlen int64, err error) {
	cidr, specific = req.cidr, req.hasCIDR
	prefixlen = intOf(pool["default_prefixlen"])
	if req.hasPrefixlen {
		prefixlen = intOf(req.prefixlen)
	}
	if gateway, hasGateway := attr(subnet, "gateway_ip"); !req.hasCIDR && hasGateway {
		n, err := netaddr.ParseNet(fmt.Sprintf("%s/%d", pyfmt.Str(gateway), prefixlen))
		if err != nil {
			return cidr, false, 0, nerr.InvalidInput(fmt.Sprintf("'%s' is not a valid IP address", pyfmt.Str(gateway)))
		}
		cidr, specific = n.CIDR(), true
	}
	if specific {
		prefixlen = int64(cidr.Bits)
	}
	if max := intOf(pool["max_prefixlen"]); prefixlen > max {
		return cidr, false, 0, nerr.Typed(http.StatusBadRequest, "MaxPrefixSubnetAllocationError",
			"Unable to allocate subnet with prefix length %d, maximum allowed prefix is %d.", prefixlen, max)
	}
	if min := intOf(pool["min_prefixlen"]); prefixlen < min {
		return cidr, false, 0, nerr.Typed(http.StatusBadRequest, "MinPrefixSubnetAllocationError",
			"Unable to allocate subnet with prefix length %d, minimum allowed prefix is %d.", prefixlen, min)
	}
	return cidr, specific, prefixlen, nil
}

// ReleaseSubnet implements ml2.SubnetPools: a pool's allocations are its
// subnets, so there is nothing to release.
func (c *Component) ReleaseSubnet(ctx context.Context, tx *db.Tx, subnet api.Object) error {
	return nil
}

func (c *Component) defaultPoolID(ctx context.Context, tx *db.Tx, version int) (string, error) {
	objs, err := c.pools.ListQ(ctx, tx, &api.Query{Filters: []api.Filter{
		{Attr: "is_default", Values: []any{true}}, {Attr: "ip_version", Values: []any{int64(version)}},
	}})
	if err != nil || len(objs) == 0 {
		return "", err
	}
	return objs[0]["id"].(string), nil
}

// checkQuota is _check_subnetpool_tenant_quota; like Neutron it counts the
// allocations of the pool owner's project.
func (c *Component) checkQuota(ctx context.Context, tx *db.Tx, pool api.Object, version int, prefixlen int64) error {
	if pool["default_quota"] == nil {
		return nil
	}
	quota := intOf(pool["default_quota"])
	if quota == 0 {
		return nil
	}
	unit := 32.0
	if version == 6 {
		unit = 64
	}
	used := 0.0
	if sc := c.subnets; sc != nil {
		rows, err := tx.Query(ctx, "SELECT "+sc.cidr+" FROM "+sc.table+" WHERE "+sc.pool+" = ? AND "+sc.project+" = ?"+shareLock(tx), pool["id"], pool["project_id"])
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var cidr string
			if err := rows.Scan(&cidr); err != nil {
				return err
			}
			if n, err := netaddr.ParseNet(cidr); err == nil {
				used += math.Pow(2, unit-float64(n.Bits))
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if used+math.Pow(2, unit-float64(prefixlen)) > float64(quota) {
		return nerr.Conflict("SubnetPoolQuotaExceeded", "Per-tenant subnet pool prefix quota exceeded.")
	}
	return nil
}

// checkNetworkPools is _validate_network_subnetpools: a network's subnets of
// one IP version come from one pool, or all from pools of one address
// scope.
func (c *Component) checkNetworkPools(ctx context.Context, tx *db.Tx, subnet, pool api.Object, version int) error {
	sc := c.subnets
	netID := str(subnet["network_id"])
	if sc == nil || netID == "" {
		return nil
	}
	rows, err := tx.Query(ctx, "SELECT s."+sc.pool+", s."+sc.version+", p.address_scope_id FROM "+sc.table+" s LEFT JOIN subnetpools p ON p.id = s."+sc.pool+
		" WHERE s."+sc.network+" = ?"+shareLock(tx), netID)
	if err != nil {
		return err
	}
	type sub struct {
		pool    string
		version int
	}
	var subs []sub
	networkScope := ""
	for rows.Next() {
		var poolID, scope *string
		var v int
		if err := rows.Scan(&poolID, &v, &scope); err != nil {
			rows.Close()
			return err
		}
		s := sub{version: v}
		if poolID != nil {
			s.pool = *poolID
		}
		if scope != nil && v == version {
			networkScope = *scope
		}
		subs = append(subs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if networkScope != "" && pool != nil && str(pool["address_scope_id"]) != networkScope {
		return nerr.Typed(http.StatusBadRequest, "NetworkAddressScopeAffinityError", "Subnets of the same address family hosted on the same network must all participate in the same address scope.")
	}
	affinity := nerr.Typed(http.StatusBadRequest, "NetworkSubnetPoolAffinityError", "Subnets hosted on the same network must be allocated from the same subnet pool.")
	for _, s := range subs {
		if pool != nil {
			if s.pool != pool["id"] && s.version == version && networkScope == "" {
				return affinity
			}
		} else if s.pool != "" && s.version == version {
			return affinity
		}
	}
	return nil
}

// shareLock makes a read inside a MySQL transaction see the latest
// committed rows (a locking read) rather than the transaction's snapshot,
// once a row lock (pool, scope) has serialized the writers.
func shareLock(q db.Querier) string {
	if _, ok := q.(*db.Tx); ok && q.Dialect() == db.MySQL {
		return " LOCK IN SHARE MODE"
	}
	return ""
}
