package portforwarding

import (
	"context"
	"database/sql"
	"errors"
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

const subscriber = "port_forwarding"

// hookFloatingIPs adds the forwardings' rules to floating IPs, ports and
// router interfaces.
func (p *Plugin) hookFloatingIPs(env *plugin.Env) {
	p.fips.AddHooks(store.Hooks{Load: p.loadFIPs})
	bus := env.Bus
	bus.Subscribe(events.FloatingIP, events.BeforeDelete, subscriber, events.PriorityDefault,
		func(_ string, _ events.Event, pl *events.Payload) error { return inUse(pl.Ctx, pl.Tx, pl.ID) })
	bus.Subscribe(events.FloatingIP, events.PrecommitUpdate, subscriber, events.PriorityDefault,
		func(_ string, _ events.Event, pl *events.Payload) error {
			if pl.Request["port_id"] == nil {
				return nil
			}
			return inUse(pl.Ctx, pl.Tx, pl.ID)
		})
	for _, ev := range []events.Event{events.BeforeCreate, events.BeforeUpdate} {
		bus.Subscribe(events.FloatingIP, ev, subscriber, events.PriorityDefault, portHasForwardings)
	}
	bus.Subscribe(events.Port, events.PrecommitUpdate, subscriber, events.PriorityDefault, p.portUpdated)
	bus.Subscribe(events.Port, events.BeforeDelete, subscriber, events.PriorityDefault, p.portDeleted)
	bus.Subscribe(events.RouterInterface, events.BeforeDelete, subscriber, events.PriorityDefault, p.interfaceInUse)
}

// inUse is FipInUseByPortForwarding: a floating IP with forwardings can
// neither get a port nor go.
func inUse(ctx context.Context, q db.Querier, fipID string) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM portforwardings WHERE floatingip_id = ?", fipID).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nerr.Conflict("FipInUseByPortForwarding", "Floating IP %s in use by Port Forwarding resources.", fipID)
	}
	return nil
}

// portHasForwardings is _check_port_has_port_forwarding: a port whose
// forwardings go through a distributed router cannot get a floating IP.
func portHasForwardings(_ string, _ events.Event, pl *events.Payload) error {
	port, _ := pl.Request["port_id"].(string)
	if port == "" {
		return nil
	}
	var distributed bool
	err := pl.Tx.QueryRow(pl.Ctx, `SELECT r.distributed FROM portforwardings pf JOIN floatingips f ON f.id = pf.floatingip_id
		JOIN routers r ON r.id = f.router_id WHERE pf.internal_neutron_port_id = ? ORDER BY pf.id LIMIT 1`, port).Scan(&distributed)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !distributed) {
		return nil
	}
	if err != nil {
		return err
	}
	return nerr.Typed(400, "PortHasPortForwarding", "Cannot associate floating IP to port %s because it already has a Port Forwarding binding.", port)
}

// loadFIPs fills the floating IPs' port_forwardings
// (expose-port-forwarding-in-fip): id, internal_ip_address, protocol,
// internal_port_id, and the single ports when they are single.
func (p *Plugin) loadFIPs(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := map[string]api.Object{}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		id, _ := o["id"].(string)
		byID[id] = o
		ids = append(ids, id)
		o["port_forwardings"] = []any{}
	}
	return store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, `SELECT floatingip_id, id, internal_ip_address, protocol, internal_neutron_port_id,
			internal_port_start, internal_port_end, external_port_start, external_port_end
			FROM portforwardings WHERE floatingip_id IN (`+ph+`) ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var fip, id, ip, proto, port string
			var is, ie, es, ee int64
			if err := rows.Scan(&fip, &id, &ip, &proto, &port, &is, &ie, &es, &ee); err != nil {
				return err
			}
			pf := map[string]any{"id": id, "internal_ip_address": ip, "protocol": proto, "internal_port_id": port}
			if is == ie {
				pf["internal_port"] = is
			}
			if es == ee {
				pf["external_port"] = es
			}
			o := byID[fip]
			o["port_forwardings"] = append(o["port_forwardings"].([]any), pf)
		}
		return rows.Err()
	})
}

// portUpdated is _process_port_request on a port's update: the
// forwardings to IPv4 addresses the port no longer has go (not when it
// has no IPv4 address left, as in Neutron).
func (p *Plugin) portUpdated(_ string, _ events.Event, pl *events.Payload) error {
	keep := v4Set(pl.New)
	if len(keep) == 0 || isFIPPort(pl.New) {
		return nil
	}
	return p.deleteForwardings(pl.Ctx, pl.Tx, pl.ID, keep)
}

// portDeleted deletes a deleted port's forwardings.
func (p *Plugin) portDeleted(_ string, _ events.Event, pl *events.Payload) error {
	if isFIPPort(pl.Old) {
		return nil
	}
	pl.Tx.Set(goingPort{pl.ID}, true)
	return p.deleteForwardings(pl.Ctx, pl.Tx, pl.ID, nil)
}

func isFIPPort(o api.Object) bool {
	owner, _ := o["device_owner"].(string)
	return len(owner) >= len("network:floatingip") && owner[:len("network:floatingip")] == "network:floatingip"
}

func v4Set(port api.Object) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	l, _ := port["fixed_ips"].([]any)
	for _, f := range l {
		m, _ := f.(map[string]any)
		s, _ := m["ip_address"].(string)
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			out[a] = true
		}
	}
	return out
}

// deleteForwardings deletes the forwardings to port whose address is not
// in keep (all when keep is nil), with their events.
func (p *Plugin) deleteForwardings(ctx context.Context, tx *db.Tx, port string, keep map[netip.Addr]bool) error {
	rows, err := tx.Query(ctx, "SELECT id, internal_ip_address FROM portforwardings WHERE internal_neutron_port_id = ? ORDER BY id", port)
	if err != nil {
		return err
	}
	var ids []string
	for rows.Next() {
		var id, ip string
		if err := rows.Scan(&id, &ip); err != nil {
			rows.Close()
			return err
		}
		if a, err := netip.ParseAddr(ip); keep == nil || err != nil || !keep[a] {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range ids {
		if err := p.table.DeleteTx(ctx, tx, id, nil); err != nil {
			return err
		}
	}
	return nil
}

// interfaceInUse refuses to remove a router interface a forwarding of
// the router's floating IPs goes through.
func (p *Plugin) interfaceInUse(_ string, _ events.Event, pl *events.Payload) error {
	subnet, _ := pl.Meta["subnet_id"].(string)
	var n int
	err := pl.Tx.QueryRow(pl.Ctx, `SELECT COUNT(*) FROM portforwardings pf JOIN floatingips f ON f.id = pf.floatingip_id
		JOIN ipallocations a ON a.port_id = pf.internal_neutron_port_id AND a.ip_address = pf.internal_ip_address
		WHERE f.router_id = ? AND a.subnet_id = ?`, pl.ID, subnet).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return nerr.Conflict("RouterInterfaceInUseByFloatingIP",
			"Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", subnet, pl.ID)
	}
	return nil
}
