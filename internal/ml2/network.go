package ml2

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Network is the network resource as Neutron Zed's ML2 declares it, with
// the attributes of the extensions ML2 implements.
func Network() *api.Resource {
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		{Name: "subnets", Default: []any{}, Visible: true},
		{Name: "admin_state_up", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "status", Visible: true, IsFilter: true, IsSortKey: true},
		api.TenantAttr(),
		{Name: "shared", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool,
			Visible: true, IsFilter: true, RequiredByPolicy: true, EnforcePolicy: true},
		// net-mtu, net-mtu-writable
		{Name: "mtu", AllowPost: true, AllowPut: true, Default: int64(0), Convert: api.ToInt, Validate: api.NonNegative,
			EnforcePolicy: true, IsFilter: true, IsSortKey: true, Visible: true},
		// port-security
		{Name: "port_security_enabled", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			EnforcePolicy: true, Visible: true},
		// dns-integration
		{Name: "dns_domain", AllowPost: true, AllowPut: true, Default: "", Convert: api.ToLowerString,
			Validate: api.DNSDomain(255), Visible: true},
		// external-net
		{Name: "router:external", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool,
			EnforcePolicy: true, IsFilter: true, RequiredByPolicy: true, Visible: true},
		// provider
		{Name: "provider:network_type", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Validate: api.String(32), EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "provider:physical_network", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Validate: api.String(64), EnforcePolicy: true, IsFilter: true, Visible: true},
		{Name: "provider:segmentation_id", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.ToInt, EnforcePolicy: true, IsFilter: true, Visible: true},
		// multi-provider
		{Name: "segments", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Check: checkSegments, EnforcePolicy: true, Visible: true},
		// auto-allocated-topology
		{Name: "is_default", AllowPost: true, AllowPut: true, Default: false, Convert: api.ToBool,
			EnforcePolicy: true, IsFilter: true, RequiredByPolicy: true, Visible: true},
		// network_availability_zone
		{Name: "availability_zone_hints", AllowPost: true, Default: []any{}, Validate: api.ListOf(api.String(0)),
			Check: azHintsLength, IsSortKey: true, Visible: true},
		{Name: "availability_zones", Visible: true},
		// address-scope
		{Name: "ipv4_address_scope", Visible: true},
		{Name: "ipv6_address_scope", Visible: true},
		// l2_adjacency
		{Name: "l2_adjacency", Visible: true},
	}
	attrs = append(attrs, api.StdAttrs()...)
	return &api.Resource{Name: "network", Collection: "networks", Attrs: attrs, AllowBulk: true, Tags: true}
}

var providerAttrs = []string{"provider:network_type", "provider:physical_network", "provider:segmentation_id"}

func (p *Plugin) setupNetworks(env *plugin.Env) {
	res := Network()
	res.NotFound = func(id string) error {
		return nerr.NotFound("NetworkNotFound", "Network %s could not be found.", id)
	}
	t := &store.Table{
		Name: "networks", Res: res, DB: env.DB, Std: true, InitialRevision: 1, Quota: "network",
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "admin_state_up", Kind: store.Bool}, {Attr: "status"},
			{Attr: "mtu", Kind: store.Int}, {Attr: "port_security_enabled", Kind: store.Bool},
			{Attr: "dns_domain"}, {Attr: "router:external", Name: "router_external", Kind: store.Bool},
			{Attr: "is_default", Kind: store.Bool},
			{Attr: "availability_zone_hints", Kind: store.JSON, Null: []any{}},
		},
		Filters: map[string]store.FilterFunc{
			"shared":                    sharedFilter,
			"provider:network_type":     segmentFilter("network_type"),
			"provider:physical_network": segmentFilter("physical_network"),
			"provider:segmentation_id":  segmentFilter("segmentation_id"),
			// Neutron accepts the filter and ignores it
			"is_default": func(context.Context, []any) (string, []any) { return "", nil },
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharing.VisibleCond("network", "t.id", rc.ProjectID, "")
		},
	}
	t.AddHooks(store.Hooks{
		BeforeCreate: p.beforeCreateNetwork,
		AfterCreate:  p.afterCreateNetwork,
		BeforeUpdate: p.beforeUpdateNetwork,
		AfterUpdate:  p.afterUpdateNetwork,
		BeforeDelete: p.beforeDeleteNetwork,
		Load:         p.loadNetworks,
		Result:       networkResult,
	})
	t.Revisions = networkRevisions
	p.networks = t
	env.AddResource(res, t)
}

// segmentFilter filters networks on their segments' column.
func segmentFilter(col string) store.FilterFunc {
	return func(_ context.Context, values []any) (string, []any) {
		var args []any
		for _, v := range values {
			if col == "segmentation_id" {
				n, ok := api.PyInt(v)
				if !ok {
					continue
				}
				args = append(args, n)
				continue
			}
			args = append(args, api.PyStr(v))
		}
		if len(args) == 0 {
			return "1 = 0", nil
		}
		return "t.id IN (SELECT network_id FROM network_segments WHERE " + col + " IN (" + store.Placeholders(len(args)) + "))", args
	}
}

// sharedCond is the visibility of "shared" for the caller: a wildcard or
// caller-targeted access_as_shared RBAC entry.
func sharedCond(rc *reqctx.Context) (string, []any) {
	project := ""
	if rc != nil {
		project = rc.ProjectID
	}
	return sharing.SharedCond("network", "t.id", project)
}

// sharedFilter is Neutron's shared filter: only the first value counts.
func sharedFilter(ctx context.Context, values []any) (string, []any) {
	if len(values) == 0 {
		return "", nil
	}
	b, _ := api.ParseBool(values[0])
	cond, args := sharedCond(reqctx.From(ctx))
	if b {
		return cond, args
	}
	return "NOT " + cond, args
}

func isSet(v any, ok bool) bool { return ok && v != nil && v != api.NotSpecified }

// requestedSegments reads provider or multi-provider attributes of a
// create request; nil means "allocate a tenant segment".
func (p *Plugin) requestedSegments(obj api.Object) ([]*Segment, error) {
	anyProvider := false
	for _, a := range providerAttrs {
		if v, ok := obj[a]; isSet(v, ok) {
			anyProvider = true
		}
	}
	segsRaw, hasSegs := obj["segments"]
	if anyProvider {
		if isSet(segsRaw, hasSegs) {
			return nil, nerr.Typed(400, "SegmentsSetInConjunctionWithProviders", "Segments and provider values cannot both be set.")
		}
		s, err := p.segmentFrom(obj["provider:network_type"], obj["provider:physical_network"], obj["provider:segmentation_id"])
		if err != nil {
			return nil, err
		}
		return []*Segment{s}, nil
	}
	if !isSet(segsRaw, hasSegs) {
		return nil, nil
	}
	list := segsRaw.([]any)
	var segs []*Segment
	for _, e := range list {
		m := e.(map[string]any)
		s, err := p.segmentFrom(m["provider:network_type"], m["provider:physical_network"], m["provider:segmentation_id"])
		if err != nil {
			return nil, err
		}
		segs = append(segs, s)
	}
	// check_duplicate_segments (fully specified ones only)
	seen := map[string]bool{}
	for _, s := range segs {
		if s.SegmentationID == nil {
			continue
		}
		k := fmt.Sprintf("%s/%s/%d", s.NetworkType, s.PhysicalNetwork, *s.SegmentationID)
		if seen[k] {
			return nil, nerr.Typed(400, "SegmentsContainDuplicateEntry", "Duplicate segment entry in request.")
		}
		seen[k] = true
	}
	if len(segs) == 0 {
		return nil, nil
	}
	return segs, nil
}

func (p *Plugin) segmentFrom(typ, physnet, segid any) (*Segment, error) {
	if typ == nil || typ == api.NotSpecified {
		return nil, nerr.InvalidInput("network_type required")
	}
	s := &Segment{NetworkType: api.PyStr(typ)}
	if physnet != nil && physnet != api.NotSpecified {
		s.PhysicalNetwork = api.PyStr(physnet)
	}
	if segid != nil && segid != api.NotSpecified {
		n, ok := api.PyInt(segid)
		if !ok {
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not an integer", api.PyStr(segid)))
		}
		s.SegmentationID = &n
	}
	d := p.drivers[s.NetworkType]
	if d == nil {
		return nil, nerr.InvalidInput(fmt.Sprintf("network_type value '%s' not supported", s.NetworkType))
	}
	if err := d.Validate(s); err != nil {
		return nil, err
	}
	return s, nil
}

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
	mtu, _ := api.PyInt(obj["mtu"])
	if mtu > int64(maxMTU) {
		return nerr.InvalidInput(fmt.Sprintf("Requested MTU is too big, maximum is %d", maxMTU))
	}
	if mtu == 0 {
		obj["mtu"] = int64(maxMTU)
	}
	if hints, _ := obj["availability_zone_hints"].([]any); len(hints) > 0 {
		// No agent hosts any availability zone yet.
		return nerr.NotFound("AvailabilityZoneNotFound", "AvailabilityZone %s could not be found.", api.PyStr(hints[0]))
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

func (p *Plugin) beforeUpdateNetwork(op *store.Op) error {
	ctx, tx, old, ch := op.Ctx, op.Tx, op.Old, op.New
	// provider attributes: only a no-op "change" is accepted
	for _, a := range []string{"provider:network_type", "provider:physical_network"} {
		if v, ok := ch[a]; isSet(v, ok) && api.PyStr(v) != api.PyStr(old[a]) {
			return nerr.InvalidInput("Plugin does not support updating the following provider network attributes: provider:network_type, provider:physical_network")
		}
	}
	if v, ok := ch["provider:segmentation_id"]; isSet(v, ok) && api.PyStr(v) != api.PyStr(old["provider:segmentation_id"]) {
		if err := p.updateSegmentationID(ctx, tx, old, v); err != nil {
			return err
		}
	}
	delete(ch, "segments") // ML2 ignores segments on update
	if v, ok := ch["mtu"]; ok {
		mtu, _ := api.PyInt(v)
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
// more when router:external is removed (two flushes). is_default and the
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
		return ok && api.PyRepr(v) != api.PyRepr(old[a])
	}
	if changed("dns_domain") || changed("shared") {
		n = 1
	}
	if changed("router:external") {
		if ch["router:external"] == true {
			n = max(n, 1)
		} else {
			n = 2
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
	n, _ := api.PyInt(v)
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

// azHintsLength is the end of type:availability_zone_hint_list: the hints
// are stored as a JSON list of at most 255 characters.
func azHintsLength(v any) error {
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
		return nerr.HTTPBadRequest("Invalid input for segments. Reason: '%s' is not a list.", api.PyStr(v))
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nerr.HTTPBadRequest("Invalid input for segments. Reason: '%s' is not a dictionary.", api.PyStr(e))
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
