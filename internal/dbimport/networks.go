package dbimport

import (
	"context"
	"encoding/json"
	"fmt"
)

func init() {
	Register(Importer{
		Name: "networks", Order: 30,
		Reads: []string{"networks", "networksecuritybindings", "networkdnsdomains", "externalnetworks", "networksegments",
			"ml2_vlan_allocations", "ml2_vxlan_allocations", "ml2_geneve_allocations", "ml2_gre_allocations", "ml2_flat_allocations"},
		Writes: []string{"networks", "network_segments", "segment_allocations"},
		Tagged: []string{"networks"},
		RBAC:   map[string]string{"networkrbacs": "network"},
		Run:    importNetworks,
	})
}

func importNetworks(ctx context.Context, s *Source, w *Writer) error {
	err := s.Each(ctx, `SELECT n.id, n.project_id, n.name, n.status, n.admin_state_up, n.mtu, n.availability_zone_hints,
		n.vlan_transparent, `+stdCols+`, psb.port_security_enabled, dd.dns_domain, en.network_id AS ext, en.is_default
		FROM networks n JOIN standardattributes sa ON sa.id = n.standard_attr_id
		LEFT JOIN networksecuritybindings psb ON psb.network_id = n.id
		LEFT JOIN networkdnsdomains dd ON dd.network_id = n.id
		LEFT JOIN externalnetworks en ON en.network_id = n.id
		ORDER BY n.id`, func(r Row) error {
		id := r.Str("id")
		portSecurity := r.BoolOr("port_security_enabled", true) // no binding: the extension's default
		ext := !r.Null("ext")
		if r.Bool("vlan_transparent") {
			w.Note("network %s: vlan_transparent is not supported by neutrino; imported without it", id)
		}
		vals := []any{id, r.NStr("project_id"), r.Str("name")}
		vals = append(vals, std(r)...)
		vals = append(vals, r.BoolOr("admin_state_up", true), r.Str("status"), r.Int("mtu"), portSecurity,
			r.Str("dns_domain"), ext, ext && r.Bool("is_default"), azHints(w, id, r.Str("availability_zone_hints")))
		return w.Insert(ctx, "networks", `id, project_id, name, description, created_at, updated_at, revision_number,
			admin_state_up, status, mtu, port_security_enabled, dns_domain, router_external, is_default, availability_zone_hints`, vals...)
	})
	if err != nil {
		return err
	}
	segs, err := importSegments(ctx, s, w)
	if err != nil {
		return err
	}
	return importAllocations(ctx, s, w, segs)
}

// azHints keeps the stored JSON list of availability zone hints (NULL
// when empty or not JSON).
func azHints(w *Writer, id, s string) any {
	var list []any
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), &list); err != nil {
		w.Note("network %s: availability_zone_hints %q is not a JSON list; imported without hints", id, s)
		return nil
	}
	if len(list) == 0 {
		return nil
	}
	return s
}

// segKey names an allocation: type, physical network, segmentation id.
type segKey struct {
	typ, physnet string
	id           int64
}

// importSegments copies the segments and returns their ids by allocation.
func importSegments(ctx context.Context, s *Source, w *Writer) (map[segKey]string, error) {
	out := map[segKey]string{}
	err := s.Each(ctx, `SELECT s.id, s.network_id, s.network_type, s.physical_network, s.segmentation_id, s.is_dynamic,
		s.segment_index, s.name, `+stdCols+`, n.project_id
		FROM networksegments s JOIN standardattributes sa ON sa.id = s.standard_attr_id
		JOIN networks n ON n.id = s.network_id
		ORDER BY s.network_id, s.segment_index, s.id`, func(r Row) error {
		vals := []any{r.Str("id"), r.Str("network_id"), r.NStr("project_id"), r.NStr("name")}
		vals = append(vals, std(r)...)
		// the segments plugin shows the standard description (null for
		// the segments ML2 made)
		vals = append(vals, r.Str("network_type"), r.NStr("physical_network"), r.NInt("segmentation_id"),
			r.Int("segment_index"), r.Bool("is_dynamic"), r.NStr("description"))
		out[segKey{r.Str("network_type"), r.Str("physical_network"), r.Int("segmentation_id")}] = r.Str("id")
		return w.Insert(ctx, "network_segments", `id, network_id, project_id, name, description, created_at, updated_at,
			revision_number, network_type, physical_network, segmentation_id, segment_index, is_dynamic, std_description`, vals...)
	})
	return out, err
}

// allocationTables are ML2's type drivers' allocation tables: the
// network type, the table, its physical network column ("" for none) and
// its segmentation id column ("" for flat: one allocation per physical
// network). Only allocated rows are copied: neutrino keeps no rows for
// free ids.
var allocationTables = []struct{ typ, table, physnet, id string }{
	{"flat", "ml2_flat_allocations", "physical_network", ""},
	{"vlan", "ml2_vlan_allocations", "physical_network", "vlan_id"},
	{"vxlan", "ml2_vxlan_allocations", "", "vxlan_vni"},
	{"geneve", "ml2_geneve_allocations", "", "geneve_vni"},
	{"gre", "ml2_gre_allocations", "", "gre_id"},
}

func importAllocations(ctx context.Context, s *Source, w *Writer, segs map[segKey]string) error {
	for _, a := range allocationTables {
		if !s.Has(a.table) {
			continue
		}
		physnet, id, where := "''", "0", ""
		if a.physnet != "" {
			physnet = a.physnet
		}
		if a.id != "" {
			id, where = a.id, " WHERE allocated"
		}
		q := fmt.Sprintf("SELECT %s AS physnet, %s AS segid FROM %s%s ORDER BY 1, 2", physnet, id, a.table, where)
		err := s.Each(ctx, q, func(r Row) error {
			k := segKey{a.typ, r.Str("physnet"), r.Int("segid")}
			var seg any
			if sid, ok := segs[k]; ok {
				seg = sid
			}
			return w.Insert(ctx, "segment_allocations", "network_type, physical_network, segmentation_id, segment_id",
				k.typ, k.physnet, k.id, seg)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
