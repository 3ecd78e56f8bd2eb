package ml2

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

func (p *Plugin) beforeUpdateNetwork(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	// provider attributes: only a no-op "change" is accepted
	for _, a := range []string{"provider:network_type", "provider:physical_network"} {
		if v, ok := ch[a]; isSet(v, ok) && pyfmt.Str(v) != pyfmt.Str(old[a]) {
			return nerr.InvalidInput("Plugin does not support updating the following provider network attributes: provider:network_type, provider:physical_network")
		}
	}
	if v, ok := ch["provider:segmentation_id"]; isSet(v, ok) && pyfmt.Str(v) != pyfmt.Str(old["provider:segmentation_id"]) {
		if err := p.updateSegmentationID(ctx, tx, old, v); err != nil {
			return err
		}
	}
	delete(ch, "segments") // ML2 ignores segments on update
	if v, ok := ch["mtu"]; ok {
		mtu, _ := pyfmt.Int(v)
		maxMTU, err := p.networkMaxMTU(ctx, tx, old["id"].(string))
		if err != nil {
			return err
		}
		if mtu > int64(maxMTU) {
			return nerr.InvalidInput(fmt.Sprintf("Requested MTU is too big, maximum is %d", maxMTU))
		}
		if mtu == 0 {
			ch["mtu"] = int64(maxMTU)
		}
	}
	ext, extSet := ch["router:external"].(bool)
	if !extSet {
		ext, _ = old["router:external"].(bool)
	}
	if def, ok := ch["is_default"].(bool); ok && def {
		if err := checkDefaultExternal(ctx, tx, old["id"].(string)); err != nil {
			return err
		}
	}
	if extSet && !ext && old["router:external"] == true {
		if err := p.checkExternalInUse(ctx, tx, old["id"].(string)); err != nil {
			return err
		}
	}
	if !ext {
		ch["is_default"] = false
	} else if _, ok := ch["is_default"]; !ok && extSet && old["router:external"] != true {
		ch["is_default"] = false
	}
	return nil
}

// networkRevisions is how many times Neutron bumps a network's revision for
// an update: once when a column of the networks table is assigned (even to
// the same value) or when dns_domain, shared or router:external change; once
// more when router:external is removed from the default external network
// (two flushes). is_default and the
// provider attributes never bump it.
func networkRevisions(old, ch api.Object) int {
	n := 0
	for _, a := range []string{"name", "description", "admin_state_up", "mtu", "port_security_enabled"} {
		if _, ok := ch[a]; ok {
			n = 1
		}
	}
	changed := func(a string) bool {
		v, ok := ch[a]
		return ok && pyfmt.Repr(v) != pyfmt.Repr(old[a])
	}
	if changed("dns_domain") || changed("shared") {
		n = 1
	}
	if changed("router:external") {
		n = max(n, 1)
		if ch["router:external"] != true && old["is_default"] == true {
			n = 2 // the default flag goes in a flush of its own
		}
	}
	return n
}

// checkExternalInUse refuses to make a network internal while routers use
// it as gateway (the router plugin registers a real check).
func (p *Plugin) checkExternalInUse(ctx context.Context, tx *db.Tx, id string) error {
	for _, f := range p.externalInUse {
		if err := f(ctx, tx, id); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plugin) updateSegmentationID(ctx context.Context, tx *db.Tx, old api.Object, v any) error {
	segs, err := segmentsOf(ctx, tx, []string{old["id"].(string)})
	if err != nil {
		return err
	}
	list := segs[old["id"].(string)]
	if len(list) != 1 {
		return nerr.InvalidInput("Provider network attributes can be updated only in provider networks with a single segment.")
	}
	s := list[0]
	n, _ := pyfmt.Int(v)
	d := p.drivers[s.NetworkType]
	if d == nil || s.NetworkType != "vlan" {
		return nerr.InvalidInput("Only VLAN type networks can be updated.")
	}
	ns := &Segment{NetworkType: s.NetworkType, PhysicalNetwork: s.PhysicalNetwork, SegmentationID: &n}
	if err := d.Validate(ns); err != nil {
		return err
	}
	if err := d.Reserve(ctx, tx, ns); err != nil {
		return err
	}
	if err := d.Release(ctx, tx, s); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "UPDATE network_segments SET segmentation_id = ? WHERE id = ?", n, s.ID)
	return err
}

func (p *Plugin) networkMaxMTU(ctx context.Context, q db.Querier, id string) (int, error) {
	segs, err := segmentsOf(ctx, q, []string{id})
	if err != nil {
		return 0, err
	}
	m := 0
	for _, s := range segs[id] {
		if d := p.drivers[s.NetworkType]; d != nil {
			m = minMTU(m, d.MTU(s.PhysicalNetwork))
		}
	}
	if m == 0 {
		m = p.globalMTU
	}
	return m, nil
}

func (p *Plugin) afterUpdateNetwork(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	id := old["id"].(string)
	if v, ok := ch["shared"].(bool); ok {
		if v {
			if err := sharing.Grant(ctx, tx, "network", id, old["project_id"], sharing.Wildcard, sharing.Shared); err != nil {
				return err
			}
		} else if old["shared"] == true {
			if err := p.unshare(ctx, tx, old); err != nil {
				return err
			}
		}
	}
	if v, ok := ch["router:external"].(bool); ok {
		if v {
			return sharing.Grant(ctx, tx, "network", id, old["project_id"], sharing.Wildcard, sharing.External)
		}
		// every access_as_external entry goes (NetworkRBAC.delete_objects)
		return sharing.Revoke(ctx, tx, "network", id, sharing.External, "")
	}
	return nil
}

// unshare removes the wildcard access_as_shared entry, refusing while other
// projects use the network (NetworkInUse-style RBAC check).
func (p *Plugin) unshare(ctx context.Context, tx *db.Tx, old api.Object) error {
	id := old["id"].(string)
	for _, f := range p.sharedInUse {
		if err := f(ctx, tx, old); err != nil {
			return err
		}
	}
	return sharing.Revoke(ctx, tx, "network", id, sharing.Shared, sharing.Wildcard)
}
