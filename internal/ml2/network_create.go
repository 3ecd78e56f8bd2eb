package ml2

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

type netCreateState struct {
	segs   []*Segment
	shared bool
}

type netCreateKey struct{}

func (p *Plugin) beforeCreateNetwork(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	segs, err := p.requestedSegments(obj)
	if err != nil {
		return err
	}
	if segs == nil {
		seg, err := p.allocateTenantSegment(ctx, tx)
		if err != nil {
			return err
		}
		if seg != nil {
			segs = []*Segment{seg}
		}
	} else {
		for _, s := range segs {
			if err := p.drivers[s.NetworkType].Reserve(ctx, tx, s); err != nil {
				return err
			}
		}
	}
	maxMTU := 0
	for _, s := range segs {
		maxMTU = minMTU(maxMTU, s.MTU)
	}
	if maxMTU == 0 {
		maxMTU = p.globalMTU
	}
	mtu, _ := pyfmt.Int(obj["mtu"])
	if mtu > int64(maxMTU) {
		return nerr.InvalidInput(fmt.Sprintf("Requested MTU is too big, maximum is %d", maxMTU))
	}
	if mtu == 0 {
		obj["mtu"] = int64(maxMTU)
	}
	if hints, _ := obj["availability_zone_hints"].([]any); len(hints) > 0 {
		if err := p.validateAZHints(ctx, tx, hints); err != nil {
			return err
		}
	}
	ext, _ := obj["router:external"].(bool)
	if def, _ := obj["is_default"].(bool); def {
		// auto-allocated-topology checks any is_default=true request
		if err := checkDefaultExternal(ctx, tx, obj["id"].(string)); err != nil {
			return err
		}
	}
	if !ext {
		obj["is_default"] = false // only external networks keep it
	}
	obj["status"] = "ACTIVE"
	shared, _ := obj["shared"].(bool)
	op.Set(netCreateKey{}, &netCreateState{segs: segs, shared: shared})
	return nil
}

func checkDefaultExternal(ctx context.Context, tx *db.Tx, id string) error {
	var other string
	err := tx.QueryRow(ctx, "SELECT id FROM networks WHERE router_external = ? AND is_default = ? AND id <> ? LIMIT 1", true, true, id).Scan(&other)
	switch {
	case err == nil:
		return nerr.Conflict("DefaultExternalNetworkExists", "A default external network already exists: %s.", other)
	case errors.Is(err, sql.ErrNoRows):
		return nil
	}
	return err
}

func (p *Plugin) allocateTenantSegment(ctx context.Context, tx *db.Tx) (*Segment, error) {
	for _, t := range p.tenantTypes {
		seg, ok, err := p.drivers[t].AllocateTenant(ctx, tx)
		if err != nil {
			return nil, err
		}
		if ok {
			return seg, nil
		}
	}
	if len(p.tenantTypes) == 0 {
		return nil, nil
	}
	return nil, noNetworkAvailable()
}

func (p *Plugin) afterCreateNetwork(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	st := op.Value(netCreateKey{}).(*netCreateState)
	id := obj["id"].(string)
	for i, s := range st.segs {
		if err := insertSegment(ctx, tx, id, obj["project_id"], i, s); err != nil {
			return err
		}
	}
	if st.shared {
		if err := sharing.Grant(ctx, tx, "network", id, obj["project_id"], sharing.Wildcard, sharing.Shared); err != nil {
			return err
		}
	}
	if ext, _ := obj["router:external"].(bool); ext {
		if err := sharing.Grant(ctx, tx, "network", id, obj["project_id"], sharing.Wildcard, sharing.External); err != nil {
			return err
		}
	}
	return nil
}

func insertSegment(ctx context.Context, tx *db.Tx, netID string, project any, index int, s *Segment) error {
	if s.ID == "" {
		s.ID = store.NewID()
	}
	var physnet any
	if s.PhysicalNetwork != "" {
		physnet = s.PhysicalNetwork
	}
	var segid any
	if s.SegmentationID != nil {
		segid = *s.SegmentationID
	}
	now := store.Now()
	_, err := tx.Exec(ctx, `INSERT INTO network_segments (id, network_id, project_id, name, description, created_at, updated_at,
		revision_number, network_type, physical_network, segmentation_id, segment_index, is_dynamic)
		VALUES (?, ?, ?, NULL, '', ?, ?, 0, ?, ?, ?, ?, ?)`,
		s.ID, netID, project, now, now, s.NetworkType, physnet, segid, index, false)
	if err != nil {
		return err
	}
	if s.SegmentationID != nil || s.NetworkType == "flat" {
		_, err = tx.Exec(ctx, "UPDATE segment_allocations SET segment_id = ? WHERE network_type = ? AND physical_network = ? AND segmentation_id = ?",
			s.ID, s.NetworkType, s.PhysicalNetwork, derefOr(s.SegmentationID, 0))
	}
	return err
}

func derefOr(p *int64, d int64) int64 {
	if p == nil {
		return d
	}
	return *p
}
