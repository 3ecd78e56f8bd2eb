package mechovn

import (
	"context"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/cache"
	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// A router's gateway port follows the chassis that claims its chassisredirect port (SB
// Port_Binding cr-lrp-<gateway port>), as ML2/OVN's PortBindingChassisEvent: its binding:host_id
// becomes that chassis' hostname and its status ACTIVE, so that the gateway's location shows in the
// API. The lease holder writes it, as port statuses.

const crPrefix = "cr-" + "lrp-"

// gatewayHandler queues the gateway ports whose chassisredirect binding got a chassis.
func (w *statusWatcher) gatewayHandler() cache.EventHandler {
	return &cache.EventHandlerFuncs{
		AddFunc: func(_ string, m model.Model) {
			if pb, ok := m.(*sbdb.PortBinding); ok && pb.Type == "chassisredirect" && pb.Chassis != nil {
				w.queue(pb.LogicalPort)
			}
		},
		UpdateFunc: func(_ string, old, m model.Model) {
			o, ok1 := old.(*sbdb.PortBinding)
			n, ok2 := m.(*sbdb.PortBinding)
			if ok1 && ok2 && n.Type == "chassisredirect" && n.Chassis != nil && (o.Chassis == nil || *o.Chassis != *n.Chassis) {
				w.queue(n.LogicalPort)
			}
		},
	}
}

// applyGateway binds a gateway port to the host of the chassis holding its chassisredirect port.
func (w *statusWatcher) applyGateway(ctx context.Context, crName string) error {
	d := w.d
	var pbs []sbdb.PortBinding
	_ = d.sb.OVSDB().WhereCache(func(pb *sbdb.PortBinding) bool { return pb.LogicalPort == crName }).List(ctx, &pbs)
	if len(pbs) == 0 || pbs[0].Chassis == nil {
		return nil
	}
	ch := &sbdb.Chassis{UUID: *pbs[0].Chassis}
	if d.sb.OVSDB().Get(ctx, ch) != nil || ch.Hostname == "" {
		return nil
	}
	ctx = admin(ctx)
	id := strings.TrimPrefix(crName, crPrefix)
	port, err := d.tables.ports.Get(ctx, id, nil)
	if gone(err) {
		return nil
	} else if err != nil {
		return err
	}
	if str(port["device_owner"]) != "network:router_gateway" {
		return nil
	}
	if str(port["binding:host_id"]) != ch.Hostname {
		// a new binding turns the port DOWN: ACTIVE after it, as Neutron
		if port, err = d.tables.ports.Update(ctx, id, api.Object{"binding:host_id": ch.Hostname}, nil); err != nil {
			return err
		}
	}
	if str(port["status"]) != "ACTIVE" {
		_, err = d.tables.ports.Update(ctx, id, api.Object{"status": "ACTIVE"}, nil)
	}
	return err
}
