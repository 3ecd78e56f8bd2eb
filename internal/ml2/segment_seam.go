package ml2

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
)

// The segments service plugin (internal/segments) manages a network's
// segments through these: the type drivers validate and reserve what it
// is given, the segment row is ML2's, and the network's MTU is checked
// against the new set of segments.

// ReserveSegment validates and reserves a segment as the type manager does
// for a provider segment (an omitted tunnel id is allocated), without
// writing its row.
func (p *Plugin) ReserveSegment(ctx context.Context, tx *db.Tx, s *Segment) error {
	d := p.drivers[s.NetworkType]
	if d == nil {
		return nerr.InvalidInput(fmt.Sprintf("network_type value '%s' not supported", s.NetworkType))
	}
	if err := d.Validate(s); err != nil {
		return err
	}
	return d.Reserve(ctx, tx, s)
}

// LinkAllocation records a segment's id on its allocation, once its row
// is written.
func (p *Plugin) LinkAllocation(ctx context.Context, tx *db.Tx, s *Segment) error {
	if s.SegmentationID == nil && s.NetworkType != "flat" {
		return nil
	}
	_, err := tx.Exec(ctx, "UPDATE segment_allocations SET segment_id = ? WHERE network_type = ? AND physical_network = ? AND segmentation_id = ?",
		s.ID, s.NetworkType, s.PhysicalNetwork, derefOr(s.SegmentationID, 0))
	return err
}

// ReleaseSegment frees a segment's allocation (its row is the caller's to
// delete).
func (p *Plugin) ReleaseSegment(ctx context.Context, tx *db.Tx, s *Segment) error {
	if d := p.drivers[s.NetworkType]; d != nil {
		return d.Release(ctx, tx, s)
	}
	if s.SegmentationID != nil || s.NetworkType == "flat" {
		return release(ctx, tx, s.NetworkType, s.PhysicalNetwork, derefOr(s.SegmentationID, 0))
	}
	return nil
}

// NetworkMaxMTU is the largest MTU a network's segments allow.
func (p *Plugin) NetworkMaxMTU(ctx context.Context, q db.Querier, netID string) (int, error) {
	return p.networkMaxMTU(ctx, q, netID)
}

// Segments returns the segments of networks by network id (in segment order).
func Segments(ctx context.Context, q db.Querier, netIDs []string) (map[string][]*Segment, error) {
	return segmentsOf(ctx, q, netIDs)
}
