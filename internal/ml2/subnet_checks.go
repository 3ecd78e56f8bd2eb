package ml2

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ipam"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/store"
)

func subnetLabel(s, cur api.Object) string {
	if cur != nil {
		return pyfmt.Str(cur["id"])
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
		o, ok := netaddr.Prefix(c)
		if ok && o.Overlaps(pfx) && c != "::/64" {
			return nerr.InvalidInput(fmt.Sprintf("Requested subnet with cidr: %s for network: %s overlaps with another subnet", netaddr.FormatPrefix(pfx), netID))
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

func insertPools(ctx context.Context, tx *db.Tx, id string, pools []netaddr.Range) error {
	for i, r := range pools {
		if _, err := tx.Exec(ctx, "INSERT INTO ipallocationpools (subnet_id, first_ip, last_ip, ord) VALUES (?, ?, ?, ?)",
			id, netaddr.Format(r.First), netaddr.Format(r.Last), i); err != nil {
			return err
		}
	}
	return nil
}

func insertDNS(ctx context.Context, tx *db.Tx, id string, dns []any) error {
	for i, d := range dns {
		if _, err := tx.Exec(ctx, "INSERT INTO dnsnameservers (subnet_id, address, ord) VALUES (?, ?, ?)", id, pyfmt.Str(d), i); err != nil {
			return err
		}
	}
	return nil
}

func insertRoutes(ctx context.Context, tx *db.Tx, id string, routes []any) error {
	for _, r := range routes {
		m, _ := r.(map[string]any)
		dst, nh := pyfmt.Str(m["destination"]), pyfmt.Str(m["nexthop"])
		if c, ok := netaddr.CanonicalCIDR(dst); ok {
			dst = c
		}
		nh = netaddr.CanonicalIP(nh)
		if _, err := tx.Exec(ctx, "INSERT INTO subnetroutes (subnet_id, destination, nexthop) VALUES (?, ?, ?)", id, dst, nh); err != nil {
			return err
		}
	}
	return nil
}

func insertServiceTypes(ctx context.Context, tx *db.Tx, id string, types []any) error {
	seen := map[string]bool{}
	for _, t := range types {
		s := pyfmt.Str(t)
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
		mac, ok := netaddr.ParseMAC(pm.mac)
		if !ok {
			continue
		}
		a := netaddr.EUI64(s.Prefix, mac)
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
