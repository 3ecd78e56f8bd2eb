package l3

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// subnet is what the L3 checks read of a subnet.
type subnet struct {
	ID, Network, Project, CIDR, Gateway string
	Version                             int
	RAMode, AddrMode                    string
	prefix                              netip.Prefix
}

const subnetCols = "id, network_id, COALESCE(project_id, ''), cidr, COALESCE(gateway_ip, ''), ip_version, COALESCE(ipv6_ra_mode, ''), COALESCE(ipv6_address_mode, '')"

func scanSubnets(rows *sql.Rows) ([]*subnet, error) {
	defer rows.Close()
	var out []*subnet
	for rows.Next() {
		s := &subnet{}
		if err := rows.Scan(&s.ID, &s.Network, &s.Project, &s.CIDR, &s.Gateway, &s.Version, &s.RAMode, &s.AddrMode); err != nil {
			return nil, err
		}
		s.prefix, _ = netaddr.Prefix(s.CIDR)
		out = append(out, s)
	}
	return out, rows.Err()
}

// subnetByID reads a subnet (no visibility check); nil when unknown.
func subnetByID(ctx context.Context, q db.Querier, id string) (*subnet, error) {
	rows, err := q.Query(ctx, "SELECT "+subnetCols+" FROM subnets WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	list, err := scanSubnets(rows)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return list[0], nil
}

// subnetsByIDs reads subnets in the order of ids (unknown ones skipped).
func subnetsByIDs(ctx context.Context, q db.Querier, ids []string) ([]*subnet, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.Query(ctx, "SELECT "+subnetCols+" FROM subnets WHERE id IN ("+store.Placeholders(len(ids))+")", args...)
	if err != nil {
		return nil, err
	}
	list, err := scanSubnets(rows)
	if err != nil {
		return nil, err
	}
	byID := map[string]*subnet{}
	for _, s := range list {
		byID[s.ID] = s
	}
	out := make([]*subnet, 0, len(ids))
	for _, id := range ids {
		if s := byID[id]; s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// networkSubnets reads the subnets of a network, by id.
func networkSubnets(ctx context.Context, q db.Querier, network string) ([]*subnet, error) {
	rows, err := q.Query(ctx, "SELECT "+subnetCols+" FROM subnets WHERE network_id = ? ORDER BY id", network)
	if err != nil {
		return nil, err
	}
	return scanSubnets(rows)
}

// visibleSubnet checks the caller may see subnet id (SubnetNotFound) and
// reads it.
func (p *Plugin) visibleSubnet(ctx context.Context, tx *db.Tx, id string) (*subnet, error) {
	if _, err := p.subnets.GetTx(ctx, tx, id, false); err != nil {
		return nil, err
	}
	s, err := subnetByID(ctx, tx, id)
	if err == nil && s == nil {
		err = nerr.NotFound("SubnetNotFound", "Subnet %s could not be found.", id)
	}
	return s, err
}

// overlaps: one prefix contains the other.
func overlaps(a, b netip.Prefix) bool {
	return a.IsValid() && b.IsValid() && (a.Contains(b.Addr()) || b.Contains(a.Addr()))
}

// routerPortIPs are the (port, owner, network, subnet, address) rows of a
// router's ports.
type routerPortIP struct {
	Port, Owner, Network, Subnet, IP string
}

func routerPortIPs(ctx context.Context, q db.Querier, router string) ([]routerPortIP, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.device_owner, p.network_id, COALESCE(a.subnet_id, ''), COALESCE(a.ip_address, '')
		FROM routerports rp JOIN ports p ON p.id = rp.port_id LEFT JOIN ipallocations a ON a.port_id = p.id
		WHERE rp.router_id = ? ORDER BY p.created_at, p.id, a.ip_address`, router)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []routerPortIP
	for rows.Next() {
		var r routerPortIP
		if err := rows.Scan(&r.Port, &r.Owner, &r.Network, &r.Subnet, &r.IP); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }
