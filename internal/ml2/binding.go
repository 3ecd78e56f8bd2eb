package ml2

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Binding states of binding:vif_type.
const (
	VIFUnbound       = "unbound"
	VIFBindingFailed = "binding_failed"
)

// PortContext is a port's driver context.
type PortContext struct {
	callContext
	// Network is the port's network.
	Network *NetworkContext
	// Host, VNICType and Profile are the binding request
	// (binding:host_id, binding:vnic_type, binding:profile).
	Host, VNICType string
	Profile        map[string]any
	// SegmentsToBind are the segments a driver may bind the port to.
	SegmentsToBind []*Segment
	// BindingLevels are the port's binding (one level without
	// hierarchical binding); empty when unbound.
	BindingLevels []BindingLevel

	bound *binding
}

// BindingLevel is one level of a port's binding (ml2_port_binding_levels).
type BindingLevel struct {
	Host      string
	Level     int
	Driver    string
	SegmentID string
}

type binding struct {
	segment    *Segment
	vifType    string
	vifDetails map[string]any
}

// SetBinding binds the port to segmentID (one of SegmentsToBind) with the
// VIF type and details the host's agent or controller expects.
func (c *PortContext) SetBinding(segmentID, vifType string, vifDetails map[string]any) {
	for _, s := range c.SegmentsToBind {
		if s.ID == segmentID {
			c.bound = &binding{segment: s, vifType: vifType, vifDetails: vifDetails}
			return
		}
	}
}

// BoundSegment is the segment of the port's binding, or nil.
func (c *PortContext) BoundSegment() *Segment {
	if len(c.BindingLevels) == 0 || c.Network == nil {
		return nil
	}
	for _, s := range c.Network.Segments {
		if s.ID == c.BindingLevels[len(c.BindingLevels)-1].SegmentID {
			return s
		}
	}
	return nil
}

// bindResult is what a binding attempt decided, written with the port.
type bindResult struct {
	vifType    string
	vifDetails map[string]any
	levels     []BindingLevel
}

// bindPort asks the mechanism drivers, in order, to bind port (its state
// after the change being made) on host; without a driver that binds, the
// binding fails as Neutron's does.
func (p *Plugin) bindPort(ctx context.Context, tx *db.Tx, port api.Object, host string) (*bindResult, error) {
	res := &bindResult{vifType: VIFBindingFailed}
	if len(p.mech.drivers) == 0 {
		return res, nil
	}
	netID, _ := port["network_id"].(string)
	segs, err := segmentsOf(ctx, tx, []string{netID})
	if err != nil {
		return nil, err
	}
	pc := &PortContext{
		callContext: callContext{Ctx: ctx, Tx: tx, Current: port},
		Network:     &NetworkContext{callContext: callContext{Ctx: ctx, Tx: tx}, Segments: segs[netID]},
		Host:        host, SegmentsToBind: segs[netID],
	}
	pc.VNICType, _ = port["binding:vnic_type"].(string)
	pc.Profile, _ = port["binding:profile"].(map[string]any)
	for _, d := range p.mech.drivers {
		d.BindPort(pc)
		if pc.bound != nil {
			res.vifType, res.vifDetails = pc.bound.vifType, pc.bound.vifDetails
			if res.vifDetails == nil {
				res.vifDetails = map[string]any{}
			}
			res.levels = []BindingLevel{{Host: host, Level: 0, Driver: d.name, SegmentID: pc.bound.segment.ID}}
			return res, nil
		}
	}
	p.env.Log.Warn("port binding failed", "port", port["id"], "host", host)
	return res, nil
}

// writeBindingLevels replaces a port's binding levels.
func writeBindingLevels(ctx context.Context, tx *db.Tx, portID string, levels []BindingLevel) error {
	if _, err := tx.Exec(ctx, "DELETE FROM ml2_port_binding_levels WHERE port_id = ?", portID); err != nil {
		return err
	}
	for _, l := range levels {
		if _, err := tx.Exec(ctx, "INSERT INTO ml2_port_binding_levels (port_id, host, level, driver, segment_id) VALUES (?, ?, ?, ?, ?)",
			portID, l.Host, l.Level, l.Driver, l.SegmentID); err != nil {
			return err
		}
	}
	return nil
}

// BindingLevels returns ports' binding levels by port id.
func BindingLevels(ctx context.Context, q db.Querier, portIDs []string) (map[string][]BindingLevel, error) {
	out := map[string][]BindingLevel{}
	err := store.ForChunks(portIDs, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT port_id, host, level, driver, segment_id FROM ml2_port_binding_levels WHERE port_id IN ("+ph+") ORDER BY port_id, level", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var l BindingLevel
			var seg *string
			if err := rows.Scan(&id, &l.Host, &l.Level, &l.Driver, &seg); err != nil {
				return err
			}
			l.SegmentID = nullStr(seg)
			out[id] = append(out[id], l)
		}
		return rows.Err()
	})
	return out, err
}

// rebindKey keeps an update's new binding for the AfterUpdate hook.
type rebindKey struct{}

// rebind is the binding part of a port update: a changed host, VNIC type
// or profile unbinds the port; a port with a host that is not bound (or
// was just unbound) is bound again by the mechanism drivers.
func (p *Plugin) rebind(op *store.Op, changed bool) error {
	old, ch := op.Old, op.New
	host, _ := old["binding:host_id"].(string)
	if h, ok := ch["binding:host_id"].(string); ok {
		host = h
	}
	vif, _ := old["binding:vif_type"].(string)
	if changed {
		vif = VIFUnbound
		ch["binding:vif_type"] = VIFUnbound
		ch["binding:vif_details"] = nil
		ch["status"] = "DOWN"
		op.Set(rebindKey{}, &bindResult{vifType: VIFUnbound})
	}
	if host == "" || vif != VIFUnbound && vif != VIFBindingFailed || !changed && len(p.mech.drivers) == 0 {
		return nil
	}
	port := make(api.Object, len(old)+len(ch))
	for k, v := range old {
		port[k] = v
	}
	for k, v := range ch {
		port[k] = v
	}
	b, err := p.bindPort(op.Ctx, op.Tx, port, host)
	if err != nil {
		return err
	}
	ch["binding:vif_type"], ch["binding:vif_details"] = b.vifType, nilIfEmpty(b.vifDetails)
	op.Set(rebindKey{}, b)
	return nil
}
