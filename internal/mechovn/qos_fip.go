package mechovn

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

const extRouterID = "neutron:router_id"

// QoS of floating IPs and router gateways, as ML2/OVN's QoS extension writes it: a floating IP on a router with a
// gateway and a policy (its own, else its floating network's) gets QoS rows on the floating
// network's switch matching the router's gateway port, the floating IP's address and the chassis
// where its NAT happens (is_chassis_resident of cr-lrp-<gateway port>, or of the floating IP's
// port with distributed floating IPs), external_ids neutron:fip_id. A router's gateway with a
// policy (its own, else its gateway network's) gets rows matching its gateway port on the gateway
// network's switch, external_ids neutron:router_id.

// fipQoS are the QoS rows a floating IP should have and the network whose switch holds them.
func (d *Driver) fipQoS(ctx context.Context, id string) (string, []*nbdb.QoS, error) {
	var addr, netID string
	var router, port, policy, gwPort sql.NullString
	err := d.env.DB.QueryRow(ctx, `SELECT f.floating_ip_address, f.floating_network_id, f.router_id, f.fixed_port_id,
		COALESCE(b.policy_id, n.qos_policy_id), r.gw_port_id
		FROM floatingips f JOIN networks n ON n.id = f.floating_network_id
		LEFT JOIN qos_fip_policy_bindings b ON b.fip_id = f.id LEFT JOIN routers r ON r.id = f.router_id
		WHERE f.id = ?`, id).Scan(&addr, &netID, &router, &port, &policy, &gwPort)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	} else if err != nil {
		return "", nil, err
	}
	if !router.Valid || !policy.Valid || !gwPort.Valid || gwPort.String == "" {
		return netID, nil, nil
	}
	resident := "cr-" + lrpName(gwPort.String)
	if d.s.distributedFIP {
		resident = port.String
	}
	rows, err := d.qosRows(ctx, policy.String, gwPort.String, addr, resident, map[string]string{extFIPID: id})
	return netID, rows, err
}

// syncFIPQoS writes a floating IP's QoS rows (and removes them from wherever they are when the
// floating IP is gone).
func (d *Driver) syncFIPQoS(ctx context.Context, id string) error {
	netID, want, err := d.fipQoS(ctx, id)
	if err != nil {
		return err
	}
	return d.placeQoS(ctx, netID, extFIPID, id, want)
}

// placeQoS makes the QoS rows whose external_ids key is id want on the switch of netID ("": none)
// and removes them from any other switch.
func (d *Driver) placeQoS(ctx context.Context, netID, key, id string, want []*nbdb.QoS) error {
	var qs []nbdb.QoS
	_ = d.nb.OVSDB().WhereCache(func(q *nbdb.QoS) bool { return q.ExternalIDs[key] == id }).List(ctx, &qs)
	if len(qs) > 0 {
		var lss []nbdb.LogicalSwitch
		_ = d.nb.OVSDB().List(ctx, &lss)
		for _, ls := range lss {
			if net := strings.TrimPrefix(ls.Name, switchPrefix); net != netID && len(ls.QOSRules) > 0 {
				if err := d.writeQoS(ctx, net, key, id, nil); err != nil {
					return err
				}
			}
		}
	}
	if netID == "" {
		return nil
	}
	return d.writeQoS(ctx, netID, key, id, want)
}

// routerQoS are the QoS rows of a router's gateway (its policy, else its gateway network's, on the
// gateway port; external_ids neutron:router_id) and the gateway's network.
func (d *Driver) routerQoS(ctx context.Context, id string) (string, []*nbdb.QoS, error) {
	var gwPort, netID, policy sql.NullString
	err := d.env.DB.QueryRow(ctx, `SELECT r.gw_port_id, p.network_id, COALESCE(b.policy_id, n.qos_policy_id)
		FROM routers r LEFT JOIN ports p ON p.id = r.gw_port_id LEFT JOIN networks n ON n.id = p.network_id
		LEFT JOIN qos_router_gw_policy_bindings b ON b.router_id = r.id WHERE r.id = ?`, id).Scan(&gwPort, &netID, &policy)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, nil
	} else if err != nil || !gwPort.Valid || !netID.Valid || !policy.Valid {
		return netID.String, nil, err
	}
	rows, err := d.qosRows(ctx, policy.String, gwPort.String, "", "", map[string]string{extRouterID: id})
	return netID.String, rows, err
}

// syncRouterQoS writes the QoS rows of a router's gateway.
func (d *Driver) syncRouterQoS(ctx context.Context, id string) error {
	netID, want, err := d.routerQoS(ctx, id)
	if err != nil {
		return err
	}
	return d.placeQoS(ctx, netID, extRouterID, id, want)
}
