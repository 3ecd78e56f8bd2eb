package mechovn

import (
	"context"
	"strings"

	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// subscribeL3 follows the router plugin's events (internal/l3/doc.go): every change of a router,
// its gateway, interfaces or floating IPs rewrites the router's NB rows from SyncRouters.
func (d *Driver) subscribeL3() {
	bus := d.env.Bus
	sync := func(ids ...string) func(context.Context) error {
		return func(ctx context.Context) error {
			for _, id := range ids {
				if err := d.syncRouter(ctx, id); err != nil {
					return err
				}
			}
			return nil
		}
	}
	bus.Subscribe(events.Router, events.PrecommitCreate, "mechovn", events.PriorityNotifier,
		func(_ string, _ events.Event, p *events.Payload) error {
			return initialRevision(p.Ctx, p.Tx, resRouter, p.ID)
		})
	for _, res := range []string{events.Router, events.RouterGateway, events.RouterInterface} {
		for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
			bus.Subscribe(res, ev, "mechovn", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
				return d.write(p.Ctx, sync(p.ID))
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
				if err := sync(routerOfFIP(p.Old, p.New)...)(ctx); err != nil {
					return err
				}
				if ev == events.AfterDelete {
					return d.forgetRevision(ctx, resFloatingIP, p.ID)
				}
				return d.recordRevision(ctx, resFloatingIP, p.ID, intOf(p.New["revision_number"]))
			})
		})
	}
}

// syncFIP rewrites the router of a floating IP (maintenance).
func (d *Driver) syncFIP(ctx context.Context, fip map[string]any) error {
	if err := d.syncRouter(ctx, str(fip["router_id"])); err != nil {
		return err
	}
	return d.recordRevision(ctx, resFloatingIP, str(fip["id"]), intOf(fip["revision_number"]))
}

// deleteFIP rewrites the router whose NAT rules still hold a floating IP that is gone.
func (d *Driver) deleteFIP(ctx context.Context, id string) error {
	var nats []nbdb.NAT
	_ = d.nb.OVSDB().WhereCache(func(n *nbdb.NAT) bool { return n.ExternalIDs["neutron:fip_id"] == id }).List(ctx, &nats)
	for _, n := range nats {
		if r := strings.TrimPrefix(n.ExternalIDs["neutron:router_name"], switchPrefix); r != "" {
			if err := d.syncRouter(ctx, r); err != nil {
				return err
			}
		}
	}
	return d.forgetRevision(ctx, resFloatingIP, id)
}
