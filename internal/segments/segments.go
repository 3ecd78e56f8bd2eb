// Package segments is the segments service plugin (Neutron's
// SegmentsPlugin: the segment, standard-attr-segment and
// segments-peer-subnet-host-routes extensions): /v2.0/segments over ML2's
// network_segments rows. A segment added to a network is validated and
// reserved by ML2's type drivers and checked against the network's MTU;
// one with subnets cannot be deleted. Subnets on segments, deferred IP
// allocation and l2_adjacency (routed networks) are ML2's, which already
// honours segment_id.
package segments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	plugin.Register("segments", func() plugin.Plugin { return &Plugin{} },
		"neutron.services.segments.plugin.Plugin", "neutron.services.segments.plugin:Plugin")
}

// Plugin is the segments service plugin of one server.
type Plugin struct {
	env      *plugin.Env
	ml2      *ml2.Plugin
	segments *store.Table
}

// Segment is the segment resource as Neutron Zed declares it.
func Segment() *api.Resource {
	return &api.Resource{ExtensionController: true, Extension: "segment", Name: "segment", Collection: "segments",
		ListIgnoresFields: true,
		NotFound: func(id string) error {
			return nerr.NotFound("SegmentNotFound", "Segment %s could not be found.", id)
		},
		Attrs: []*api.Attribute{
			api.IDAttr(),
			// required, as in Neutron: the API fills it from the caller
			{Name: "tenant_id", AllowPost: true, Required: true, Validate: api.String(255)},
			{Name: "network_id", AllowPost: true, Required: true, Validate: api.UUID, Visible: true, IsFilter: true, IsSortKey: true},
			// name, physical_network and segmentation_id left out are
			// stored as NULL; an explicit null physical_network or
			// segmentation_id is refused (type:string, convert_to_int)
			{Name: "name", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Validate: api.StringOrNone(255),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true},
			{Name: "network_type", AllowPost: true, Required: true, Validate: api.String(32), Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "physical_network", AllowPost: true, Default: api.NotSpecified, Validate: api.String(64),
				Visible: true, IsFilter: true, IsSortKey: true},
			{Name: "segmentation_id", AllowPost: true, Default: api.NotSpecified, Convert: api.ToInt, Visible: true, IsSortKey: true},
			{Name: "created_at", Default: nil, Visible: true},
			{Name: "updated_at", Default: nil, Visible: true},
			{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		}}
}

// Setup declares segments on ML2's network_segments.
func (p *Plugin) Setup(env *plugin.Env) error {
	p.env = env
	ml, ok := env.Plugin("ml2").(*ml2.Plugin)
	if !ok {
		return fmt.Errorf("the segments plugin needs the ml2 core plugin")
	}
	p.ml2 = ml
	res := Segment()
	t := &store.Table{
		Name: "network_segments", Res: res, DB: env.DB, Std: true, InitialRevision: 1, IgnoreUnknownMarker: true,
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "network_id"}, {Attr: "project_id"}, {Attr: "name"},
			{Attr: "description", Name: "std_description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "network_type"}, {Attr: "physical_network"}, {Attr: "segmentation_id", Kind: store.Int},
			{Attr: "segment_index", Kind: store.Int}, {Attr: "is_dynamic", Kind: store.Bool},
		},
		// segments are admin-only through the API; ML2 keeps their
		// project, which is never a scope
		NoScope: true,
	}
	t.AddHooks(store.Hooks{
		// the network first (lock order: store/lock.go), exclusive: a
		// segment write revises its network
		Lock:         store.ParentLock("networks", "network_id", store.Exclusive),
		BeforeCreate: p.beforeCreate,
		AfterCreate:  p.afterCreate,
		BeforeDelete: p.beforeDelete,
		AfterDelete:  p.afterDelete,
	})
	p.segments = t
	env.AddResource(res, t)
	ml.Networks().AddHooks(store.Hooks{Load: loadAdjacency})
	env.AddExtensions("segment", "standard-attr-segment", "segments-peer-subnet-host-routes")
	return nil
}

func str(v any) string { s, _ := v.(string); return s }

func segmentOf(obj api.Object) *ml2.Segment {
	s := &ml2.Segment{ID: str(obj["id"]), NetworkType: str(obj["network_type"]), PhysicalNetwork: str(obj["physical_network"])}
	if n, ok := obj["segmentation_id"].(int64); ok {
		s.SegmentationID = &n
	}
	return s
}

// beforeCreate is create_segment up to the row: the network (locked, so
// that segment indexes are assigned one after the other), the next index,
// the type driver's validation and reservation.
func (p *Plugin) beforeCreate(op *store.Op) error {
	ctx, tx, obj := op.Ctx, op.Tx, op.New
	netID := str(obj["network_id"])
	var project sql.NullString
	err := tx.QueryRow(ctx, "SELECT project_id FROM networks WHERE id = ?"+tx.ForUpdate(), netID).Scan(&project)
	if errors.Is(err, sql.ErrNoRows) {
		return nerr.NotFound("NetworkNotFound", "Network %s could not be found.", netID)
	}
	if err != nil {
		return err
	}
	var max sql.NullInt64
	if err := tx.QueryRow(ctx, "SELECT MAX(segment_index) FROM network_segments WHERE network_id = ?", netID).Scan(&max); err != nil {
		return err
	}
	obj["segment_index"] = max.Int64 + 1
	if !max.Valid {
		obj["segment_index"] = int64(0)
	}
	obj["is_dynamic"] = false
	obj["project_id"] = project.String
	if !project.Valid {
		obj["project_id"] = nil
	}
	s := segmentOf(obj)
	if err := duplicate(ctx, tx, netID, s); err != nil {
		return err
	}
	if err := p.ml2.ReserveSegment(ctx, tx, s); err != nil {
		return err
	}
	if s.SegmentationID != nil {
		obj["segmentation_id"] = *s.SegmentationID
	}
	if s.PhysicalNetwork != "" {
		obj["physical_network"] = s.PhysicalNetwork
	}
	return nil
}

// duplicate refuses a second segment of one type on one physical network
// of a network (Neutron's unique key, which makes it retry for minutes
// before answering this).
func duplicate(ctx context.Context, tx *db.Tx, netID string, s *ml2.Segment) error {
	if s.PhysicalNetwork == "" {
		return nil
	}
	var n int
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM network_segments WHERE network_id = ? AND network_type = ? AND physical_network = ?",
		netID, s.NetworkType, s.PhysicalNetwork).Scan(&n)
	if err != nil || n == 0 {
		return err
	}
	return nerr.Conflict("NeutronDbObjectDuplicateEntry",
		"Failed to create a duplicate NetworkSegment: for attribute(s) ['network_id', 'network_type', 'physical_network'] with value(s) %s-%s-%s",
		netID, s.NetworkType, s.PhysicalNetwork)
}

// afterCreate links the allocation, checks the network's MTU against its
// segments and revises the network (twice, as Neutron saves it).
func (p *Plugin) afterCreate(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	s := segmentOf(op.New)
	s.ID = op.ID
	if err := p.ml2.LinkAllocation(ctx, tx, s); err != nil {
		return err
	}
	netID := str(op.New["network_id"])
	max, err := p.ml2.NetworkMaxMTU(ctx, tx, netID)
	if err != nil {
		return err
	}
	var mtu int
	if err := tx.QueryRow(ctx, "SELECT mtu FROM networks WHERE id = ?", netID).Scan(&mtu); err != nil {
		return err
	}
	if mtu > max {
		return nerr.InvalidInput(fmt.Sprintf("Requested MTU is too big, maximum is %d", max))
	}
	return reviseNetwork(ctx, tx, netID)
}

func reviseNetwork(ctx context.Context, tx *db.Tx, netID string) error {
	_, err := tx.Exec(ctx, "UPDATE networks SET revision_number = revision_number + 2, updated_at = ? WHERE id = ?", store.Now(), netID)
	return err
}

// beforeDelete refuses to delete a segment with subnets (SegmentInUse,
// Neutron's message twice) and releases its allocation.
func (p *Plugin) beforeDelete(op *store.Op) error {
	ctx, tx := op.Ctx, op.Tx
	subnets, err := db.Strings(ctx, tx, "SELECT id FROM subnets WHERE segment_id = ? ORDER BY id", op.ID)
	if err != nil {
		return err
	}
	if len(subnets) > 0 {
		msg := fmt.Sprintf("Segment '%s' cannot be deleted: The segment is still associated with subnet(s) %s.", op.ID, strings.Join(subnets, ", "))
		return nerr.Conflict("SegmentInUse", "%s\n%s", msg, msg)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM segmenthostmappings WHERE segment_id = ?", op.ID); err != nil {
		return err
	}
	return p.ml2.ReleaseSegment(ctx, tx, segmentOf(op.Old))
}

func (p *Plugin) afterDelete(op *store.Op) error {
	return reviseNetwork(op.Ctx, op.Tx, str(op.Old["network_id"]))
}

// loadAdjacency is the segments plugin's l2_adjacency: a network whose
// subnets are on segments (a routed network) is not L2-adjacent.
func loadAdjacency(ctx context.Context, q db.Querier, objs []api.Object) error {
	byID := store.IndexByID(objs)
	return store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		ids, err := db.Strings(ctx, q, "SELECT DISTINCT network_id FROM subnets WHERE segment_id IS NOT NULL AND network_id IN ("+ph+")", args...)
		for _, id := range ids {
			byID[id]["l2_adjacency"] = false
		}
		return err
	})
}
