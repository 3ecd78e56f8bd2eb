package ml2

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

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
	cur, err := networkSubnets(ctx, tx, "s.id = ?", id)
	if err != nil {
		return err
	}
	if len(cur) == 0 {
		return SubnetNotFound(id)
	}
	pfx, _ := netaddr.Prefix(old["cidr"].(string))
	pools, poolsGiven, err := updatedPools(ch, pfx)
	if err != nil {
		return err
	}
	if err := checkGatewayUpdate(ctx, tx, cur[0], ch, pools, poolsGiven); err != nil {
		return err
	}
	if seg, ok := ch["segment_id"]; ok && pyfmt.Str(seg) != pyfmt.Str(old["segment_id"]) {
		if err := p.updateSegmentCheck(ctx, tx, old, seg); err != nil {
			return err
		}
	}
	return replaceSubnetChildren(ctx, tx, id, ch, pools, poolsGiven)
}

// updatedPools returns the allocation pools an update gives, validated
// against the subnet's prefix (given: false when it gives none).
func updatedPools(ch api.Object, pfx netip.Prefix) (pools []netaddr.Range, given bool, err error) {
	raw, ok := ch["allocation_pools"]
	if !ok || raw == nil {
		return nil, false, nil
	}
	list, _ := raw.([]any)
	pools, err = poolsToRanges(list)
	if err != nil {
		return nil, false, err
	}
	if err := validateAllocationPools(pools, pfx); err != nil {
		return nil, false, err
	}
	return pools, true, nil
}

// checkGatewayUpdate: the gateway (new, or the current one with new pools)
// must be outside the pools, and a gateway a router interface uses cannot
// move.
func checkGatewayUpdate(ctx context.Context, tx *db.Tx, sub *subnetInfo, ch api.Object, newPools []netaddr.Range, poolsGiven bool) error {
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
			sub.ID, netaddr.Format(oldGW), OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface, OwnerRouterSNAT).Scan(&portID)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err == nil && portID != "" {
			return nerr.Conflict("GatewayIpInUse", "Current gateway ip %s already in use by port %s. Unable to update.", netaddr.Format(oldGW), portID)
		}
	}
	return nil
}

// replaceSubnetChildren replaces the child rows of the lists an update
// gives: DNS nameservers, host routes, allocation pools, service types.
func replaceSubnetChildren(ctx context.Context, tx *db.Tx, id string, ch api.Object, pools []netaddr.Range, poolsGiven bool) error {
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
		if err := insertPools(ctx, tx, id, pools); err != nil {
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
