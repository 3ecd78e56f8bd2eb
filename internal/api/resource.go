// Package api is neutrino's generic REST layer, the counterpart of Neutron's
// api.v2.base.Controller: resources are declared as attribute maps
// (Resource, Attribute) and one Controller serves every one of them —
// request body preparation (defaults, conversion, validation), policy,
// fields, filters, sorting, pagination links, tags and Neutron's error
// bodies — delegating storage to a Backend.
package api

import (
	"context"
	"strings"
)

// Object is one resource as the API sees it: attribute name → JSON value
// (string, bool, int64, float64, nil, []any, map[string]any, []string).
type Object = map[string]any

// unset is the type of NotSpecified.
type unset struct{}

// NotSpecified is neutron's ATTR_NOT_SPECIFIED: as a Default it means "leave
// the attribute out of the request body when the caller did not give it".
var NotSpecified any = unset{}

// Converter turns a request value into its canonical form (neutron's
// convert_to). An error must be a *nerr.Error (usually InvalidInput).
type Converter func(v any) (any, error)

// Validator checks a converted value; it returns "" when valid, else the
// reason, which the controller reports as
// "Invalid input for <attr>. Reason: <reason>."
type Validator func(v any) string

// Attribute is one entry of a resource's attribute map.
type Attribute struct {
	Name string

	AllowPost bool
	AllowPut  bool
	// Required: allowed in POST without a default (Neutron: no 'default' key).
	Required bool
	// Default is filled on POST when the attribute is absent (nil = None);
	// NotSpecified leaves it absent.
	Default any
	// DefaultOverridesNone also replaces an explicit null by Default.
	DefaultOverridesNone bool

	Convert  Converter
	Validate Validator
	// Check runs after Validate for validators that raise a typed error
	// instead of returning a reason (e.g. "Too many availability_zone_hints").
	Check func(v any) error
	// ConvertFilter converts one query-string filter value; when nil,
	// Convert is used (as neutron's get_filters does), and when both are nil
	// the string is used as is.
	ConvertFilter Converter
	// ConvertFilterList converts all the values of a filter at once
	// (neutron's convert_list_to), e.g. fixed_ips=ip_address=...
	ConvertFilterList func(values []string) (any, error)

	// DictKeys are the keys of a type:dict validator's specification, for
	// sub-attribute policy rules (e.g. external_gateway_info:network_id).
	DictKeys []string

	Visible          bool
	IsFilter         bool
	IsSortKey        bool
	EnforcePolicy    bool
	RequiredByPolicy bool
	PrimaryKey       bool
}

// Resource is a declared API resource.
type Resource struct {
	Name       string // member name in bodies and policies, e.g. "security_group"
	Collection string // collection key in bodies, e.g. "security_groups"
	Path       string // URL segment, e.g. "security-groups" (defaults to Collection)
	// PathAliases are other URL paths Neutron serves the collection on
	// (floatingip-pools beside floatingip_pools).
	PathAliases []string
	// TagPathAliases are URL paths on which only the resource's tags
	// (/<alias>/{id}/tags[/{tag}]) are served: Neutron's tag extension
	// names QoS policies "policies", without their "qos/" prefix.
	TagPathAliases []string
	// Parent makes this a sub-resource: /<parent path>/{parent_id}/<Path>.
	Parent *Parent
	// Extension names the alias that contributes the resource ("" = core).
	Extension string
	// ExtensionController: Neutron serves the resource through an
	// extension's controller, which answers an unparsable body
	// MalformedRequestBody (the core controller: HTTPBadRequest) and does
	// not negotiate the Accept header (the core one answers 406).
	ExtensionController bool

	Attrs []*Attribute

	AllowBulk bool
	// BulkView, when set, is what a bulk create answers for each object
	// instead of the attribute map's view (Neutron's port forwardings
	// answer the plugin's objects as they are).
	BulkView func(Object) Object
	// NoSorting and NoPagination are Neutron's allow_sorting=False and
	// allow_pagination=False (availability zones): a list ignores
	// sort_key/sort_dir, and limit/marker/page_reverse, without
	// checking them.
	NoSorting, NoPagination bool
	// AnyFilter: the plugin has no filter validation (Neutron's service
	// type manager): a query key that is no filter attribute is passed
	// to the backend as a filter of strings instead of a 400.
	AnyFilter bool
	// ListIgnoresFields: the plugin answers lists with every attribute
	// whatever "fields" asks (segments, metering); the API then strips only
	// what it added for the policy check (the id and the attributes
	// required by policy) unless they were asked for.
	ListIgnoresFields bool
	// ShowIgnoresFields: the backend answers a show with the attributes
	// it decides from "fields" (the auto-allocated topology's dry-run);
	// the API shows every visible attribute of its answer.
	ShowIgnoresFields bool
	// Tags enables /<path>/{id}/tags (standard-attr tagging).
	Tags bool
	// NotFound builds the 404 for an unknown id; defaults to a
	// "<Name>NotFound" error.
	NotFound func(id string) error
	// MemberActions are PUT /<path>/{id}/<action> handlers
	// (e.g. add_router_interface, add_prefixes).
	MemberActions map[string]MemberAction
	// ActionPostCreates are member actions whose URL Neutron's pecan
	// front end answers a POST to as a create of the collection (the
	// extra-route actions: the body is a router's, "routes" is refused).
	ActionPostCreates map[string]bool
	// ActionsTakeAnyBody passes a member action a body that is no JSON
	// object as an empty one (router interfaces answer their own 400).
	ActionsTakeAnyBody bool
	// ActionMethodNotAllowed answers a member action's URL with a verb
	// other than PUT 405 (address groups) instead of 404.
	ActionMethodNotAllowed bool
	// UpdateTargetOmits are attributes the policy check of an update does
	// not see: Neutron reads the object for it with only the attributes that
	// are required by policy, primary keys or without a default (an address
	// group's hidden "shared", which its get rule reads: an RBAC-shared
	// group is not found for an update, but is for a delete).
	UpdateTargetOmits []string
	// KeepFields are attributes shown whenever "fields" is given (the
	// API adds them for the policy check and Neutron's plugin keeps them:
	// tenant_id of address groups).
	KeepFields []string
	// MemberSpecials are hand-written endpoints below a member:
	// /<path>/{id}/<name>[/...], every verb; the Special gets the id and
	// the segments after name (the agent schedulers' sub-collections,
	// which Neutron serves with their own controllers and policies).
	MemberSpecials map[string]Special
	// MemberGets are GET /<path>/{id}/<action> handlers (get_subports).
	MemberGets map[string]MemberAction
	// CollectionReadOnly disables POST on the collection.
	NoCreate, NoUpdate, NoDelete bool
	// ValidateCreate checks each item of a create before the policy check
	// (the caller is reqctx.From(ctx)), e.g. Neutron's
	// _validate_network_tenant_ownership for ports and subnets.
	ValidateCreate func(ctx context.Context, item Object) error

	Backend Backend
	// Stream, when set, lists without pagination in batches (the
	// controller writes them as they come).
	Stream StreamFunc

	attrs     map[string]*Attribute
	primary   string
	owner     *Attribute        // tenant_id, or project_id where declared instead
	mirror    string            // the other of the two names
	policyFor map[string]string // verb → policy action ("get_network")
	// dropEmpty: empty filter values are ignored (Controller.NoEmptyStringFiltering)
	dropEmpty bool
}

// Parent describes the owning resource of a sub-resource.
type Parent struct {
	Path       string // e.g. "qos/policies"
	MemberName string // e.g. "policy" → URL param policy_id
	Resource   *Resource
	// Unchecked: the API does not look the parent up; the backend gets
	// its id (ParentID, the <member>_id filter or attribute) and decides
	// (a flavor's service profile bindings: an unknown binding of a
	// deleted flavor is the binding's 404, as in Neutron).
	Unchecked bool
}

// MemberAction is a PUT member action. body is the decoded request body.
type MemberAction func(ctx context.Context, r *Resource, id string, body map[string]any) (any, error)

// Backend stores and retrieves one resource. The caller is in ctx
// (reqctx.From). Implementations must make every call one transaction.
type Backend interface {
	Create(ctx context.Context, items []Object) ([]Object, error)
	Get(ctx context.Context, id string, fields []string) (Object, error)
	List(ctx context.Context, q *Query) ([]Object, error)
	Update(ctx context.Context, id string, changes Object, ifMatch *int64) (Object, error)
	Delete(ctx context.Context, id string, ifMatch *int64) error
}

// StreamFunc lists q, handing the result to fn in batches (bounded
// memory for whole collections); set by the storage when the backend
// can.
type StreamFunc func(ctx context.Context, q *Query, fn func([]Object) error) error

// Tagger is implemented by backends of resources with tags.
type Tagger interface {
	GetTags(ctx context.Context, id string) ([]string, error)
	ReplaceTags(ctx context.Context, id string, tags []string) ([]string, error)
	AddTag(ctx context.Context, id, tag string) error
	RemoveTag(ctx context.Context, id, tag string) error
	RemoveAllTags(ctx context.Context, id string) error
}

// Finish indexes the attribute map; it must be called once the resource's
// attributes (including extension ones) are final.
func (r *Resource) Finish() *Resource {
	if r.Path == "" {
		r.Path = r.Collection
	}
	r.attrs = make(map[string]*Attribute, len(r.Attrs))
	r.primary = "id"
	for _, a := range r.Attrs {
		r.attrs[a.Name] = a
		if a.PrimaryKey {
			r.primary = a.Name
		}
	}
	r.owner, r.mirror = r.attrs["tenant_id"], "project_id"
	if r.owner == nil && r.attrs["project_id"] != nil {
		r.owner, r.mirror = r.attrs["project_id"], "tenant_id"
	}
	if r.owner == nil {
		r.mirror = ""
	}
	name := strings.ReplaceAll(r.Name, "-", "_")
	parent := ""
	if r.Parent != nil {
		parent = "_" + r.Parent.MemberName
	}
	coll := strings.ReplaceAll(r.Collection, "-", "_")
	r.policyFor = map[string]string{
		"list":   "get" + parent + "_" + coll,
		"show":   "get" + parent + "_" + name,
		"create": "create" + parent + "_" + name,
		"update": "update" + parent + "_" + name,
		"delete": "delete" + parent + "_" + name,
	}
	return r
}

// Attr returns the named attribute, or nil.
func (r *Resource) Attr(name string) *Attribute { return r.attrs[name] }

// owns reports whether a is the resource's owner attribute: tenant_id or,
// where the map declares it instead (address groups), project_id. The
// other name mirrors it (the same value, visibility and policy), as
// Neutron's populate_project_info adds it to the attribute map.
func (r *Resource) owns(a *Attribute) bool { return a != nil && a == r.owner }

// PrimaryKey is the name of the primary key attribute ("id").
func (r *Resource) PrimaryKey() string { return r.primary }

// PolicyAction is the policy rule name for a verb ("show" → "get_network").
func (r *Resource) PolicyAction(verb string) string { return r.policyFor[verb] }

// AddAttrs appends extension attributes, replacing any of the same name.
func (r *Resource) AddAttrs(attrs ...*Attribute) {
	for _, a := range attrs {
		replaced := false
		for i, old := range r.Attrs {
			if old.Name == a.Name {
				r.Attrs[i] = a
				replaced = true
			}
		}
		if !replaced {
			r.Attrs = append(r.Attrs, a)
		}
	}
	if r.attrs != nil {
		r.Finish()
	}
}

// StdAttrs are the standard attributes every standard-attr resource carries
// (description, timestamps, revision, tags and the tag filters).
func StdAttrs() []*Attribute {
	return []*Attribute{
		{Name: "description", AllowPost: true, AllowPut: true, Default: "", Validate: String(255), Visible: true, IsFilter: true},
		{Name: "created_at", Default: nil, Visible: true},
		{Name: "updated_at", Default: nil, Visible: true},
		{Name: "revision_number", Default: nil, Visible: true, IsFilter: true},
		{Name: "tags", Visible: true, IsFilter: true},
		{Name: "tags-any", IsFilter: true},
		{Name: "not-tags", IsFilter: true},
		{Name: "not-tags-any", IsFilter: true},
	}
}

// IDAttr is the usual primary key attribute.
func IDAttr() *Attribute {
	return &Attribute{Name: "id", Validate: UUID, Visible: true, IsFilter: true, IsSortKey: true, PrimaryKey: true}
}

// TenantAttr is the usual tenant_id attribute (project_id mirrors it).
func TenantAttr() *Attribute {
	return &Attribute{Name: "tenant_id", AllowPost: true, Required: true, Validate: String(255),
		RequiredByPolicy: true, IsFilter: true, IsSortKey: true, Visible: true}
}

// NameAttr is the usual name attribute.
func NameAttr() *Attribute {
	return &Attribute{Name: "name", AllowPost: true, AllowPut: true, Default: "", Validate: String(255),
		Visible: true, IsFilter: true, IsSortKey: true}
}
