package ml2

import (
	"context"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

func (p *Plugin) beforeDeleteNetwork(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.Old
	id := obj["id"].(string)
	for _, f := range p.networkDeleteChecks {
		if err := f(ctx, tx, obj); err != nil {
			return err
		}
	}
	segs, err := segmentsOf(ctx, tx, []string{id})
	if err != nil {
		return err
	}
	for _, s := range segs[id] {
		if d := p.drivers[s.NetworkType]; d != nil {
			if err := d.Release(ctx, tx, s); err != nil {
				return err
			}
		} else if s.SegmentationID != nil || s.NetworkType == "flat" {
			if err := release(ctx, tx, s.NetworkType, s.PhysicalNetwork, derefOr(s.SegmentationID, 0)); err != nil {
				return err
			}
		}
	}
	if _, err := tx.Exec(ctx, "DELETE FROM network_segments WHERE network_id = ?", id); err != nil {
		return err
	}
	return sharing.RevokeAll(ctx, tx, "network", id)
}

// segmentsOf returns the segments of networks, in segment_index order.
func segmentsOf(ctx context.Context, q db.Querier, ids []string) (map[string][]*Segment, error) {
	out := map[string][]*Segment{}
	err := store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT network_id, id, network_type, physical_network, segmentation_id FROM network_segments WHERE network_id IN ("+ph+") ORDER BY network_id, segment_index", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var netID, id, typ string
			var physnet *string
			var segid *int64
			if err := rows.Scan(&netID, &id, &typ, &physnet, &segid); err != nil {
				return err
			}
			s := &Segment{ID: id, NetworkType: typ, SegmentationID: segid}
			if physnet != nil {
				s.PhysicalNetwork = *physnet
			}
			out[netID] = append(out[netID], s)
		}
		return rows.Err()
	})
	return out, err
}

func segmentDict(s *Segment) map[string]any {
	var physnet, segid any
	if s.PhysicalNetwork != "" {
		physnet = s.PhysicalNetwork
	}
	if s.SegmentationID != nil {
		segid = *s.SegmentationID
	}
	return map[string]any{"provider:network_type": s.NetworkType, "provider:physical_network": physnet, "provider:segmentation_id": segid}
}

func (p *Plugin) loadNetworks(ctx context.Context, q db.Querier, objs []api.Object) error {
	ids := store.IDs(objs)
	segs, err := segmentsOf(ctx, q, ids)
	if err != nil {
		return err
	}
	rc := reqctx.From(ctx)
	project := ""
	if rc != nil {
		project = rc.ProjectID
	}
	shared, err := sharing.SharedWith(ctx, q, "network", project, ids)
	if err != nil {
		return err
	}
	for _, o := range objs {
		id := o["id"].(string)
		o["shared"] = shared[id]
		ss := segs[id]
		switch len(ss) {
		case 0:
			o["provider:network_type"], o["provider:physical_network"], o["provider:segmentation_id"] = nil, nil, nil
		case 1:
			for k, v := range segmentDict(ss[0]) {
				o[k] = v
			}
		default:
			list := make([]any, len(ss))
			for i, s := range ss {
				list[i] = segmentDict(s)
			}
			o["segments"] = list
		}
		if _, ok := o["subnets"]; !ok {
			o["subnets"] = []any{}
		}
		o["availability_zones"] = []any{}
		if _, ok := o["ipv4_address_scope"]; !ok {
			o["ipv4_address_scope"] = nil
		}
		if _, ok := o["ipv6_address_scope"]; !ok {
			o["ipv6_address_scope"] = nil
		}
		o["l2_adjacency"] = true
		if o["router:external"] != true {
			delete(o, "is_default")
		}
	}
	return nil
}

// networkResult echoes is_default as Neutron's create/update responses do
// (it is only stored for external networks).
func networkResult(op *store.Op, obj api.Object) {
	if v, ok := op.Request["is_default"]; ok {
		obj["is_default"] = v
	}
}

// ---- validators of network attributes ----

// AZHintsLength is the end of type:availability_zone_hint_list (networks,
// routers): the hints are stored as a JSON list of at most 255 characters.
func AZHintsLength(v any) error {
	if len(api.AppendJSONSpaced(nil, v)) > 255 {
		return nerr.InvalidInput("Too many availability_zone_hints specified")
	}
	return nil
}

// checkSegments is type:network_segments (multi-provider): every segment
// has the three provider keys and nothing else; segmentation ids become
// integers.
func checkSegments(v any) error {
	list, ok := v.([]any)
	if !ok {
		return nerr.HTTPBadRequest("Invalid input for segments. Reason: '%s' is not a list.", pyfmt.Str(v))
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nerr.HTTPBadRequest("Invalid input for segments. Reason: '%s' is not a dictionary.", pyfmt.Str(e))
		}
		var extra []string
		for k := range m {
			switch k {
			case "provider:network_type", "provider:physical_network", "provider:segmentation_id":
			default:
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			sort.Strings(extra)
			return nerr.HTTPBadRequest("Unrecognized attribute(s) '%s'", strings.Join(extra, ", "))
		}
		if sid, ok := m["provider:segmentation_id"]; ok && sid != nil && sid != false && sid != int64(0) && sid != "" {
			n, err := api.ToInt(sid)
			if err != nil {
				return err
			}
			m["provider:segmentation_id"] = n
		} else {
			m["provider:segmentation_id"] = api.NotSpecified
		}
		// _convert_and_validate_segments: every segment has the three
		// keys (the policy checks a rule per key)
		for _, k := range []string{"provider:network_type", "provider:physical_network"} {
			if _, ok := m[k]; !ok {
				m[k] = api.NotSpecified
			}
		}
	}
	return nil
}
