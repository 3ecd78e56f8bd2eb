package ml2

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/sharing"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Device owners with a meaning for IPAM (neutron_lib.constants).
const (
	OwnerDHCP          = "network:dhcp"
	OwnerDistributed   = "network:distributed"
	OwnerAgentGW       = "network:floatingip_agent_gateway"
	OwnerRouterIntf    = "network:router_interface"
	OwnerHAReplicated  = "network:ha_router_replicated_interface"
	OwnerDVRInterface  = "network:router_interface_distributed"
	OwnerRouterSNAT    = "network:router_centralized_snat"
	OwnerRouterGateway = "network:router_gateway"
	OwnerRouted        = "network:routed"
	ownerNetworkPrefix = "network:"
)

var (
	routerInterfaceOwners     = []string{OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface}
	routerInterfaceOwnersSNAT = []string{OwnerRouterIntf, OwnerHAReplicated, OwnerDVRInterface, OwnerRouterSNAT}
	autoDeletePortOwners      = []string{OwnerDHCP, OwnerDistributed, OwnerAgentGW}
)

func in(s string, list []string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Subnet is the subnet resource as Neutron Zed declares it (core
// attributes, subnet_allocation, standard attributes, service types,
// segment).
func Subnet() *api.Resource {
	ipv6Modes := api.Values("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
	attrs := []*api.Attribute{
		api.IDAttr(),
		api.NameAttr(),
		api.TenantAttr(),
		{Name: "network_id", AllowPost: true, Required: true, Validate: api.UUID, IsFilter: true, IsSortKey: true,
			Visible: true, RequiredByPolicy: true},
		{Name: "ip_version", AllowPost: true, Required: true, Convert: api.ToInt, Validate: api.Values(4, 6),
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "subnetpool_id", AllowPost: true, Default: api.NotSpecified, Validate: api.SubnetpoolIDOrNone,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "enable_dhcp", AllowPost: true, AllowPut: true, Default: true, Convert: api.ToBool,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "ipv6_ra_mode", AllowPost: true, Default: api.NotSpecified, Validate: ipv6Modes,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "ipv6_address_mode", AllowPost: true, Default: api.NotSpecified, Validate: ipv6Modes,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "gateway_ip", AllowPost: true, AllowPut: true, Default: api.NotSpecified, Convert: api.ToCanonicalIP,
			Validate: api.IPAddressOrNone, IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "cidr", AllowPost: true, Default: api.NotSpecified, Convert: api.ToCanonicalCIDR,
			Validate: api.SubnetOrNone, IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "allocation_pools", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.ToCanonicalIP, Validate: api.IPPools, Visible: true},
		{Name: "host_routes", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.NoneToEmptyList, Validate: api.HostRoutes, Visible: true},
		{Name: "dns_nameservers", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.NoneToEmptyList, Validate: api.Nameservers, Visible: true},
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: api.String(255), Visible: true, IsFilter: true},
		{Name: "service_types", AllowPost: true, AllowPut: true, Default: api.NotSpecified,
			Convert: api.SubnetServiceTypes, Visible: true},
		{Name: "segment_id", AllowPost: true, AllowPut: true, Default: nil, Validate: api.UUIDOrNone,
			IsFilter: true, IsSortKey: true, Visible: true},
		{Name: "tags", Visible: true, IsFilter: true},
		{Name: "created_at", Default: nil, Visible: true},
		{Name: "updated_at", Default: nil, Visible: true},
		{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		{Name: "tags-any", IsFilter: true},
		{Name: "not-tags", IsFilter: true},
		{Name: "not-tags-any", IsFilter: true},
		// subnet_allocation
		{Name: "prefixlen", AllowPost: true, Default: api.NotSpecified, Convert: api.ToInt, Validate: api.NonNegative},
		{Name: "use_default_subnetpool", AllowPost: true, Default: false, Convert: api.ToBool},
		// shared mirrors the network's
		{Name: "shared", Default: false, Convert: api.ToBool, IsFilter: true, EnforcePolicy: true, RequiredByPolicy: true},
	}
	return &api.Resource{Name: "subnet", Collection: "subnets", Attrs: attrs, AllowBulk: true, Tags: true}
}

// SubnetNotFound is the subnet 404.
func SubnetNotFound(id string) error {
	return nerr.NotFound("SubnetNotFound", "Subnet %s could not be found.", id)
}

func subnetInUse(id, reason string) error {
	if reason == "" {
		reason = "One or more ports have an IP allocation from this subnet"
	}
	return nerr.Conflict("SubnetInUse", "Unable to complete operation on subnet %s: %s.", id, reason)
}

func (p *Plugin) setupSubnets(env *plugin.Env) {
	res := Subnet()
	res.NotFound = SubnetNotFound
	t := &store.Table{
		Name: "subnets", Res: res, DB: env.DB, IgnoreUnknownMarker: true, Std: true, InitialRevision: 0,
		// every update is a new revision, even one that changes nothing
		Revisions: func(old, changes api.Object) int { return 1 },
		Cols: []store.Column{
			{Attr: "id"}, {Attr: "project_id"}, {Attr: "name"}, {Attr: "description"},
			{Attr: "created_at"}, {Attr: "updated_at"}, {Attr: "revision_number", Kind: store.Int},
			{Attr: "network_id"}, {Attr: "segment_id"}, {Attr: "subnetpool_id"},
			{Attr: "ip_version", Kind: store.Int}, {Attr: "cidr"}, {Attr: "gateway_ip"},
			{Attr: "enable_dhcp", Kind: store.Bool}, {Attr: "ipv6_ra_mode"}, {Attr: "ipv6_address_mode"},
		},
		Filters: map[string]store.FilterFunc{
			"shared": subnetSharedFilter,
		},
		Shared: func(rc *reqctx.Context) (string, []any) {
			return sharing.VisibleCond("network", "t.network_id", rc.ProjectID, sharing.Shared)
		},
	}
	t.AddHooks(store.Hooks{
		// the network first (lock order: store/lock.go), exclusive: a
		// subnet write bumps the network's revision and must see every
		// port written on the network before it
		Lock:         store.ParentLock("networks", "network_id", store.Exclusive),
		BeforeCreate: p.beforeCreateSubnet,
		AfterCreate:  p.afterCreateSubnet,
		BeforeUpdate: p.beforeUpdateSubnet,
		BeforeDelete: p.beforeDeleteSubnet,
		Load:         p.loadSubnets,
	})
	p.subnets = t
	t.Init() // columns resolvable (Col) before env.Finish
	env.AddResource(res, t)
	// a network's subnets come with its row (one query per show)
	p.networks.AddColumn(store.Column{Attr: "subnets", Kind: store.JSON, Null: []any{},
		Child: &store.ChildList{Table: "subnets", KeyCol: "network_id", ValueCol: "id"}})
	env.AddExtensions("subnet-service-types", "subnet-segmentid-writable")
}

// Subnets is the subnets table.
func (p *Plugin) Subnets() *store.Table { return p.subnets }

// OnSubnetDelete registers a check run (in the transaction) before a subnet
// is deleted, e.g. "a router interface uses it".
func (p *Plugin) OnSubnetDelete(f func(ctx context.Context, tx *db.Tx, subnet api.Object) error) {
	p.subnetDeleteChecks = append(p.subnetDeleteChecks, f)
}

func subnetSharedFilter(ctx context.Context, values []any) (string, []any) {
	project := ""
	if rc := reqctx.From(ctx); rc != nil {
		project = rc.ProjectID
	}
	return sharing.Filter("network", "t.network_id", project, values)
}
