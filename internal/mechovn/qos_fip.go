package mechovn

import (
	"context"
	"database/sql"
	"errors"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// QoS of floating IPs, as ML2/OVN's QoS extension writes it: a floating IP on a router with a
// gateway and a policy (its own, else its floating network's) gets QoS rows on the floating
// network's switch matching the router's gateway port, the floating IP's address and the chassis
// where its NAT happens (is_chassis_resident of cr-lrp-<gateway port>, or of the floating IP's
// port with distributed floating IPs), external_ids neutron:fip_id.

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
	if netID != "" {
		return d.writeQoS(ctx, netID, extFIPID, id, want)
	}
	var qs []nbdb.QoS
	_ = d.nb.OVSDB().WhereCache(func(q *nbdb.QoS) bool { return q.ExternalIDs[extFIPID] == id }).List(ctx, &qs)
	if len(qs) == 0 {
		return nil
	}
	var lss []nbdb.LogicalSwitch
	_ = d.nb.OVSDB().List(ctx, &lss)
	for _, ls := range lss {
		if net := ls.Name[min(len(switchPrefix), len(ls.Name)):]; net != "" {
			if err := d.writeQoS(ctx, net, extFIPID, id, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// resyncFIPQoS rewrites the QoS rows of the floating IPs a query on their ids selects.
func (d *Driver) resyncFIPQoS(ctx context.Context, query string, args ...any) error {
	ids, err := db.Strings(ctx, d.env.DB, query, args...)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := d.syncFIPQoS(ctx, id); err != nil {
			return err
		}
	}
	return nil
}
