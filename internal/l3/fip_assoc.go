package l3

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// assoc is a floating IP's association.
type assoc struct {
	port, fixed, router any
}

// association is _check_and_get_fip_assoc: the association a floating IP
// fip (its row: id, floating_network_id, floating_ip_address) gets for
// port and fixed (nil port: none). cur is the stored floating IP on an
// update (nil on create).
func (p *Plugin) association(ctx context.Context, tx *db.Tx, fip, cur api.Object, port, fixed any) (assoc, error) {
	if port == nil {
		if fixed != nil {
			return assoc{}, badFIP("fixed_ip_address cannot be specified without a port_id")
		}
		return assoc{}, nil
	}
	pid := port.(string)
	pt, err := p.ports.GetTx(ctx, tx, pid, false)
	if err != nil {
		return assoc{}, err
	}
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin && pt["project_id"] != fip["project_id"] {
		return assoc{}, badFIP("Cannot process floating IP association with Port %s, since that port is owned by a different tenant", pid)
	}
	if str(pt["device_owner"]) == "network:dhcp" {
		return assoc{}, badFIP("Port %%(id)s is unable to be assigned a floating IP")
	}
	ip, err := fixedIPFor(pt, pid, fixed)
	if err != nil {
		return assoc{}, err
	}
	subnet := ""
	for _, f := range pt["fixed_ips"].([]any) {
		if m := f.(map[string]any); m["ip_address"] == ip {
			subnet = str(m["subnet_id"])
		}
	}
	net := str(fip["floating_network_id"])
	router, err := p.routerFor(ctx, tx, net, subnet)
	if err != nil {
		return assoc{}, err
	}
	if router == "" {
		return assoc{}, nerr.NotFound("ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", net, subnet, pid)
	}
	if cur != nil && cur["port_id"] == pid && cur["fixed_ip_address"] == ip {
		return assoc{pid, ip, router}, nil
	}
	other, err := first(ctx, tx, "SELECT id FROM floatingips WHERE floating_network_id = ? AND fixed_port_id = ? AND fixed_ip_address = ? AND id <> ?",
		net, pid, ip, fip["id"])
	if err != nil {
		return assoc{}, err
	}
	if other != "" {
		return assoc{}, nerr.Conflict("FloatingIPPortAlreadyAssociated",
			"Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
			api.PyStr(fip["floating_ip_address"]), fip["id"], pid, ip, net)
	}
	return assoc{pid, ip, router}, nil
}

// fixedIPFor picks the port's IPv4 address a floating IP maps to.
func fixedIPFor(pt api.Object, pid string, fixed any) (string, error) {
	var v4 []string
	for _, ip := range portIPs(pt) {
		if !isIPv6(str(ip)) {
			v4 = append(v4, str(ip))
		}
	}
	if fixed != nil {
		f := str(fixed)
		if isIPv6(f) {
			return "", badFIP("Cannot process floating IP association with %s, since that is not an IPv4 address", f)
		}
		for _, ip := range portIPs(pt) {
			if sameIP(str(ip), f) {
				return str(ip), nil
			}
		}
		return "", badFIP("Port %s does not have fixed ip %s", pid, f)
	}
	switch len(v4) {
	case 0:
		return "", badFIP("Cannot add floating IP to port %s that has no fixed IPv4 addresses", pid)
	case 1:
		return v4[0], nil
	}
	return "", badFIP("Port %s has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP", pid)
}

// routerFor is the router through which network extNet reaches subnet:
// one with an interface address on the subnet and a gateway on extNet,
// the one whose interface holds the subnet's gateway IP first ("" none).
func (p *Plugin) routerFor(ctx context.Context, q db.Querier, extNet, subnet string) (string, error) {
	rows, err := q.Query(ctx, `SELECT r.id, a.ip_address, COALESCE(s.gateway_ip, '') FROM routerports rp
		JOIN ipallocations a ON a.port_id = rp.port_id JOIN subnets s ON s.id = a.subnet_id
		JOIN routers r ON r.id = rp.router_id JOIN ports gp ON gp.id = r.gw_port_id
		WHERE rp.port_type IN (?, ?, ?) AND a.subnet_id = ? AND gp.network_id = ? ORDER BY r.created_at, r.id`,
		interfaceOwners[0], interfaceOwners[1], interfaceOwners[2], subnet, extNet)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	found := ""
	for rows.Next() {
		var r, ip, gw string
		if err := rows.Scan(&r, &ip, &gw); err != nil {
			return "", err
		}
		if gw != "" && sameIP(ip, gw) {
			return r, nil
		}
		if found == "" {
			found = r
		}
	}
	return found, rows.Err()
}

// ReachableRouter is the router a floating IP (or a port forwarding) of
// external network extNetwork to fixedIP of port portID goes through;
// 404 ExternalGatewayForFloatingIPNotFound when there is none.
func (p *Plugin) ReachableRouter(ctx context.Context, tx *db.Tx, extNetwork, portID, fixedIP string) (string, error) {
	subnet, err := first(ctx, tx, "SELECT subnet_id FROM ipallocations WHERE port_id = ? AND ip_address = ?", portID, fixedIP)
	if err != nil {
		return "", err
	}
	r, err := p.routerFor(ctx, tx, extNetwork, subnet)
	if err == nil && r == "" {
		err = nerr.NotFound("ExternalGatewayForFloatingIPNotFound",
			"External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", extNetwork, subnet, portID)
	}
	return r, err
}

var _ = store.Now
