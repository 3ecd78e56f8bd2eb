package mechovn

import (
	"context"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// subscribeL3 follows the router plugin's events (internal/l3/doc.go): every change of a router,
// its gateway, interfaces or floating IPs rewrites the router's NB rows from SyncRouters.
func (d *Driver) subscribeL3() {
	bus := d.env.Bus
	bus.Subscribe(events.Router, events.PrecommitCreate, "mechovn", events.PriorityNotifier,
		func(_ string, _ events.Event, p *events.Payload) error {
			return initialRevision(p.Ctx, p.Tx, resRouter, p.ID)
		})
	for _, res := range []string{events.Router, events.RouterGateway, events.RouterInterface} {
		for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
			bus.Subscribe(res, ev, "mechovn", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
				return d.write(p.Ctx, func(ctx context.Context) error { return d.syncRouter(ctx, p.ID) })
			})
		}
	}
	bus.Subscribe(events.FloatingIP, events.PrecommitCreate, "mechovn", events.PriorityNotifier,
		func(_ string, _ events.Event, p *events.Payload) error {
			return initialRevision(p.Ctx, p.Tx, resFloatingIP, p.ID)
		})
	for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
		bus.Subscribe(events.FloatingIP, ev, "mechovn", events.PriorityNotifier, func(_ string, ev events.Event, p *events.Payload) error {
			return d.write(p.Ctx, func(ctx context.Context) error {
				if ev == events.AfterDelete {
					if err := d.syncRouters(ctx, routerOfFIP(p.Old)); err != nil {
						return err
					}
					if err := d.syncFIPQoS(ctx, p.ID); err != nil {
						return err
					}
					return d.forgetRevision(ctx, resFloatingIP, p.ID)
				}
				return d.fipWrite(ctx, p.ID, fipStatus(ev, p.Old, p.New), routerOfFIP(p.Old, p.New))
			})
		})
	}
	for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
		bus.Subscribe(events.PortForwarding, ev, "mechovn", events.PriorityNotifier, func(_ string, ev events.Event, p *events.Payload) error {
			return d.write(p.Ctx, func(ctx context.Context) error { return d.forwardingChanged(ctx, ev, p) })
		})
	}
}

// fipStatus is the status ML2/OVN gives a floating IP once its NAT rule is written: ACTIVE when
// created on a router or associated with a port, DOWN when its port goes ("" to leave it).
func fipStatus(ev events.Event, old, cur map[string]any) string {
	switch {
	case ev == events.AfterCreate && str(cur["router_id"]) != "":
		return "ACTIVE"
	case ev == events.AfterUpdate && str(cur["port_id"]) != "":
		return "ACTIVE"
	case ev == events.AfterUpdate && str(old["port_id"]) != "":
		return "DOWN"
	}
	return ""
}

// forwardingChanged rewrites the routers of a port forwarding's old and new state (their
// Load_Balancer rows). As Neutron's OVN port forwarding driver, the floating IP turns ACTIVE with
// its first forwarding and DOWN when the last one goes.
func (d *Driver) forwardingChanged(ctx context.Context, ev events.Event, p *events.Payload) error {
	fipID := str(p.New["floatingip_id"])
	if fipID == "" {
		fipID = str(p.Old["floatingip_id"])
	}
	status := ""
	switch ev {
	case events.AfterCreate:
		status = "ACTIVE"
	case events.AfterDelete:
		var n int
		if err := d.env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM portforwardings WHERE floatingip_id = ?", fipID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			status = "DOWN"
		}
	}
	return d.fipWrite(ctx, fipID, status, routerOfFIP(p.Old, p.New))
}

// fipWrite sets a floating IP's status (unless status is ""; it bumps its revision even when the
// status stays, as Neutron's update_floatingip_status: the goldens show it), rewrites the routers that hold or held it and records the
// floating IP's revision.
func (d *Driver) fipWrite(ctx context.Context, id, status string, routers []string) error {
	if status != "" {
		err := d.env.DB.Write(ctx, func(tx *db.Tx) error {
			res, err := tx.Exec(ctx, "UPDATE floatingips SET status = ? WHERE id = ?", status, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				return d.l3.FloatingIPs().BumpRevision(ctx, tx, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := d.syncRouters(ctx, routers); err != nil {
		return err
	}
	if err := d.syncFIPQoS(ctx, id); err != nil {
		return err
	}
	fip, err := d.l3.FloatingIPs().Get(ctx, id, nil)
	if gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	return d.recordRevision(ctx, resFloatingIP, id, intOf(fip["revision_number"]))
}

// syncRouters rewrites routers in turn (each once).
func (d *Driver) syncRouters(ctx context.Context, ids []string) error {
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			continue
		}
		if err := d.syncRouter(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// syncFIP rewrites the router of a floating IP, and the routers whose NB rows still hold it
// (maintenance).
func (d *Driver) syncFIP(ctx context.Context, fip map[string]any) error {
	routers := d.fipRouters(ctx, str(fip["id"]))
	if r := str(fip["router_id"]); r != "" && !slices.Contains(routers, r) {
		routers = append(routers, r)
	}
	if err := d.syncRouters(ctx, routers); err != nil {
		return err
	}
	if err := d.syncFIPQoS(ctx, str(fip["id"])); err != nil {
		return err
	}
	return d.recordRevision(ctx, resFloatingIP, str(fip["id"]), intOf(fip["revision_number"]))
}

// deleteFIP rewrites the routers whose NAT rules or forwarding rows still hold a floating IP that is gone.
func (d *Driver) deleteFIP(ctx context.Context, id string) error {
	if err := d.syncRouters(ctx, d.fipRouters(ctx, id)); err != nil {
		return err
	}
	if err := d.syncFIPQoS(ctx, id); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resFloatingIP, id)
}

// fipRouters are the routers whose NAT or Load_Balancer rows name a floating IP.
func (d *Driver) fipRouters(ctx context.Context, id string) []string {
	var nats []nbdb.NAT
	_ = d.nb.OVSDB().WhereCache(func(n *nbdb.NAT) bool { return n.ExternalIDs["neutron:fip_id"] == id }).List(ctx, &nats)
	var out []string
	add := func(name string) {
		if r := strings.TrimPrefix(name, switchPrefix); r != "" && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, n := range nats {
		add(n.ExternalIDs[extRtr])
	}
	for _, lb := range d.pfRows(ctx, func(lb *nbdb.LoadBalancer) bool { return lb.ExternalIDs[extFIPID] == id }) {
		add(lb.ExternalIDs[extRtr])
	}
	return out
}
