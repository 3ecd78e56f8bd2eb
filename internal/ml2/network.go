package ml2

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/pyfmt"
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
			Check: AZHintsLength, IsSortKey: true, Visible: true},
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
				n, ok := pyfmt.Int(v)
				if !ok {
					continue
				}
				args = append(args, n)
				continue
			}
			args = append(args, pyfmt.Str(v))
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
	s := &Segment{NetworkType: pyfmt.Str(typ)}
	if physnet != nil && physnet != api.NotSpecified {
		s.PhysicalNetwork = pyfmt.Str(physnet)
	}
	if segid != nil && segid != api.NotSpecified {
		n, ok := pyfmt.Int(segid)
		if !ok {
			return nil, nerr.InvalidInput(fmt.Sprintf("'%s' is not an integer", pyfmt.Str(segid)))
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
