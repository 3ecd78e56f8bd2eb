package policy

import (
	"errors"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

func TestOwnerCheckResolver(t *testing.T) {
	e := newTestEnforcer(t, Options{EnforceNewDefaults: true})
	calls := 0
	e.SetResolver(fakeResolver(&calls))

	// network_owner = tenant_id:%(network:tenant_id)s
	target := map[string]any{"network_id": "n1"}
	if ok, err := e.Check("network_owner", target, ownerCtx); !ok || err != nil {
		t.Fatalf("owner of n1: %v, %v", ok, err)
	}
	if got, ok := target["network:tenant_id"]; ok {
		t.Errorf("target modified: network:tenant_id = %v (targets may be shared between requests)", got)
	}
	if ok, _ := e.Check("network_owner", target, otherCtx); ok {
		t.Error("p2 passes network_owner on n1")
	}
	if calls != 2 {
		t.Errorf("resolver called %d times, want once per evaluation", calls)
	}

	// A value already in the target is used as is.
	if !e.Enforce("network_owner", map[string]any{"network:tenant_id": "p2"}, otherCtx) {
		t.Error("network:tenant_id in target not used")
	}

	// Security group and ext_parent forms.
	if !e.Enforce("sg_owner", map[string]any{"security_group_id": "sg1"}, ownerCtx) {
		t.Error("sg_owner failed for owner")
	}
	if !e.Enforce("ext_parent_owner", map[string]any{"ext_parent_floatingip_id": "fip1"}, ownerCtx) {
		t.Error("ext_parent_owner (floatingip) failed for owner")
	}
	if !e.Enforce("ext_parent_owner", map[string]any{"ext_parent_router_id": "r1"}, ownerCtx) {
		t.Error("ext_parent_owner (router) failed for owner")
	}
	if e.Enforce("ext_parent_owner", map[string]any{"ext_parent_router_id": "r1"}, otherCtx) {
		t.Error("ext_parent_owner passes for another project")
	}

	// Resolver errors fail closed and are reported.
	ok, err := e.Check("network_owner", map[string]any{"network_id": "missing"}, ownerCtx)
	if ok || !errors.Is(err, errNotFound) {
		t.Errorf("missing network: %v, %v; want false, errNotFound", ok, err)
	}
	// No foreign key in the target, or no parent the check knows.
	if ok, err := e.Check("network_owner", map[string]any{}, ownerCtx); ok || err == nil {
		t.Errorf("no network_id: %v, %v; want false and an error", ok, err)
	}
	if ok, err := e.Check("ext_parent_owner", map[string]any{"ext_parent_thing_id": "x"}, ownerCtx); ok || err == nil {
		t.Errorf("unknown ext parent: %v, %v; want false and an error", ok, err)
	}
	// An error is not inverted by "not": the whole evaluation fails.
	e2 := newTestEnforcer(t, Options{PolicyFile: writePolicy(t, `"x": "not rule:network_owner"`)})
	if ok, err := e2.Check("x", map[string]any{"network_id": "missing"}, ownerCtx); ok || err == nil {
		t.Errorf("not <error>: %v, %v; want false and an error", ok, err)
	}
	// Without a resolver.
	e3, err := New(Options{ConfigDir: t.TempDir(), PolicyDirs: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := e3.Check("network_owner", map[string]any{"network_id": "n1"}, ownerCtx); ok || err == nil {
		t.Errorf("no resolver: %v, %v; want false and an error", ok, err)
	}
	// The owner rule compares str(target tenant_id) with the project.
	if e.Enforce("owner", map[string]any{"tenant_id": nil}, &reqctx.Context{}) != true {
		t.Error("None tenant_id should equal a project-less token's None, as in Python")
	}
}

func writePolicy(t *testing.T, yaml string) string {
	t.Helper()
	p := t.TempDir() + "/policy.yaml"
	writeFile(t, p, yaml+"\n")
	return p
}

func TestFieldCheck(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	tests := []struct {
		rule   string
		target map[string]any
		want   bool
	}{
		{"shared", map[string]any{"shared": true}, true},
		{"shared", map[string]any{"shared": false}, false},
		{"shared", map[string]any{"shared": "True"}, false}, // converted value is a bool
		{"shared", map[string]any{"shared": nil}, false},
		{"shared", map[string]any{"shared": 1}, true}, // Python: True == 1
		// Ports and subnets: the network is looked up.
		{"shared", map[string]any{"network_id": "n3"}, true},
		{"shared", map[string]any{"network_id": "n1"}, false},
		{"shared", map[string]any{}, false},
		{"external", map[string]any{"router:external": true}, true},
		{"external", map[string]any{"router:external": false}, false},
		{"network_device", map[string]any{"device_owner": "network:dhcp"}, true},
		{"network_device", map[string]any{"device_owner": "compute:nova"}, false},
		{"network_device", map[string]any{"device_owner": "xnetwork:dhcp"}, false}, // re.match anchors
		{"network_device", map[string]any{}, false},
		{"shared_subnetpools", map[string]any{"shared": true}, true},
		{"shared_address_scopes", map[string]any{"shared": false}, false},
		{"restrict_wildcard", map[string]any{"target_tenant": "*"}, false},
		{"restrict_wildcard", map[string]any{"target_tenant": "p9"}, true},
	}
	for _, tt := range tests {
		if got := e.Enforce(tt.rule, tt.target, ownerCtx); got != tt.want {
			t.Errorf("%s on %v = %v, want %v", tt.rule, tt.target, got, tt.want)
		}
	}
	// Integer conversion.
	e2 := newTestEnforcer(t, Options{PolicyFile: writePolicy(t, `"mtu1500": "field:networks:mtu=1500"`)})
	if !e2.Enforce("mtu1500", map[string]any{"mtu": 1500.0}, ownerCtx) || e2.Enforce("mtu1500", map[string]any{"mtu": "1500"}, ownerCtx) {
		t.Error("field:networks:mtu=1500 does not compare as an integer")
	}
	// The resolver's error is reported.
	if ok, err := e.Check("shared", map[string]any{"network_id": "nope"}, ownerCtx); ok || !errors.Is(err, errNotFound) {
		t.Errorf("shared on missing network: %v, %v", ok, err)
	}
}

var netAttrs = []Attr{
	{Name: "shared", EnforcePolicy: true, HasDefault: true, Default: false},
	{Name: "router:external", EnforcePolicy: true, HasDefault: true, Default: false},
	{Name: "provider:network_type", EnforcePolicy: true},
	{Name: "name"},
}

var portAttrs = []Attr{
	{Name: "mac_address", EnforcePolicy: true},
	{Name: "fixed_ips", EnforcePolicy: true},
	{Name: "device_owner", EnforcePolicy: true, HasDefault: true, Default: ""},
	{Name: "binding:profile", EnforcePolicy: true},
	{Name: "binding:vnic_type", EnforcePolicy: true, HasDefault: true, Default: "normal"},
	{Name: "name"},
}

var routerAttrs = []Attr{
	{Name: "external_gateway_info", EnforcePolicy: true, HasDefault: true, Default: nil,
		DictKeys: []string{"network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"}},
}

func TestAuthorizeCreateNetworkShared(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	body := map[string]any{"name": "n", "shared": true}
	target := owned("p1", "name", "n", "shared", true)

	err := e.AuthorizeAttrs("create_network", target, body, netAttrs, ownerCtx)
	var na *NotAuthorized
	if !errors.As(err, &na) {
		t.Fatalf("member creating a shared network: %v, want NotAuthorized", err)
	}
	const msg = "(rule:create_network and rule:create_network:shared) is disallowed by policy"
	if na.Error() != msg || na.Type() != "PolicyNotAuthorized" || na.Action != "create_network" {
		t.Errorf("got %q (%s, %s), want %q", na.Error(), na.Type(), na.Action, msg)
	}
	// The short form, with the caller filtering the body, builds the same rule.
	err = e.Authorize("create_network", target, body, func(a string) bool { return a == "shared" }, ownerCtx)
	if err == nil || err.Error() != msg {
		t.Errorf("Authorize: %v, want %q", err, msg)
	}

	// Admins may (Neutron's is_admin shortcut) ...
	if err := e.AuthorizeAttrs("create_network", owned("pa", "shared", true), body, netAttrs, adminCtx); err != nil {
		t.Errorf("admin: %v", err)
	}
	// ... and still may when the rules are really evaluated.
	strict := newTestEnforcer(t, Options{EnforceNewDefaults: true})
	if err := strict.AuthorizeAttrs("create_network", owned("pa", "shared", true), body, netAttrs, adminCtx); err != nil {
		t.Errorf("admin, enforce_new_defaults: %v", err)
	}
	if err := strict.AuthorizeAttrs("create_network", target, body, netAttrs, ownerCtx); err == nil {
		t.Error("member, enforce_new_defaults: allowed")
	}

	// shared=false is the default: not explicitly set on create ...
	off := map[string]any{"name": "n", "shared": false}
	if err := e.AuthorizeAttrs("create_network", owned("p1", "shared", false), off, netAttrs, ownerCtx); err != nil {
		t.Errorf("member creating with shared=false: %v", err)
	}
	// ... but on update every attribute sent counts.
	err = e.AuthorizeAttrs("update_network", owned("p1", "shared", false), off, netAttrs, ownerCtx)
	if err == nil || err.Error() != "(rule:update_network and rule:update_network:shared) is disallowed by policy" {
		t.Errorf("member updating shared=false: %v", err)
	}
	// Attributes without enforce_policy and plain updates are fine.
	if err := e.AuthorizeAttrs("update_network", owned("p1"), map[string]any{"name": "x"}, netAttrs, ownerCtx); err != nil {
		t.Errorf("rename: %v", err)
	}
	// Another project's network cannot be updated.
	if err := e.AuthorizeAttrs("update_network", owned("p1"), map[string]any{"name": "x"}, netAttrs, otherCtx); err == nil {
		t.Error("p2 renamed p1's network")
	} else if err.Error() != "rule:update_network is disallowed by policy" {
		t.Errorf("message %q", err)
	}
	// For get_* and delete_* only the action rule is built.
	if m := buildMatch("get_network", body, netAttrs); m.String() != "rule:get_network" {
		t.Errorf("get_network match %s", m)
	}
	if m := buildMatch("delete_network", body, netAttrs); m.String() != "rule:delete_network" {
		t.Errorf("delete_network match %s", m)
	}
	three := map[string]any{"shared": true, "router:external": true, "provider:network_type": "vlan"}
	if m := buildMatch("create_network", three, netAttrs); m.String() !=
		"(((rule:create_network and rule:create_network:shared) and rule:create_network:router:external) and rule:create_network:provider:network_type)" {
		t.Errorf("three attributes: %s", m)
	}
}

func TestAuthorizeCreatePortFixedIPs(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	// p2's member on p1's network n1, choosing an IP address.
	fixed := []any{map[string]any{"subnet_id": "s1", "ip_address": "10.0.0.5"}}
	body := map[string]any{"network_id": "n1", "fixed_ips": fixed}
	target := owned("p2", "network_id", "n1", "fixed_ips", fixed)
	err := e.AuthorizeAttrs("create_port", target, body, portAttrs, otherCtx)
	if err == nil || err.Error() != "(rule:create_port and (rule:create_port:fixed_ips and (rule:create_port:fixed_ips:ip_address and rule:create_port:fixed_ips:subnet_id))) is disallowed by policy" {
		t.Errorf("fixed ip on another project's network: %v", err)
	}
	// The network owner may.
	if err := e.AuthorizeAttrs("create_port", owned("p1", "network_id", "n1", "fixed_ips", fixed), body, portAttrs, ownerCtx); err != nil {
		t.Errorf("network owner: %v", err)
	}
	// On a shared network (n3, p3's) a subnet may be chosen but not an address.
	subnetOnly := []any{map[string]any{"subnet_id": "s3"}}
	body3 := map[string]any{"network_id": "n3", "fixed_ips": subnetOnly}
	if err := e.AuthorizeAttrs("create_port", owned("p2", "network_id", "n3", "fixed_ips", subnetOnly), body3, portAttrs, otherCtx); err != nil {
		t.Errorf("subnet on shared network: %v", err)
	}
	withIP := []any{map[string]any{"subnet_id": "s3", "ip_address": "10.3.0.9"}}
	body3["fixed_ips"] = withIP
	if err := e.AuthorizeAttrs("create_port", owned("p2", "network_id", "n3", "fixed_ips", withIP), body3, portAttrs, otherCtx); err == nil {
		t.Error("ip_address on a shared network allowed for a non-owner")
	}
	// binding:profile is admin only; its dict validator has no spec, so
	// no sub-attribute rule is added.
	prof := map[string]any{"network_id": "n1", "binding:profile": map[string]any{"migrating_to": "h"}}
	err = e.AuthorizeAttrs("create_port", owned("p1", "network_id", "n1"), prof, portAttrs, ownerCtx)
	if err == nil || err.Error() != "(rule:create_port and rule:create_port:binding:profile) is disallowed by policy" {
		t.Errorf("binding:profile: %v", err)
	}
	// device_owner: a member may not create network:* ports on a network
	// of another project, but may create compute ports; "" is the default.
	dev := func(owner string) map[string]any { return map[string]any{"network_id": "n3", "device_owner": owner} }
	if err := e.AuthorizeAttrs("create_port", owned("p2", "network_id", "n3", "device_owner", "network:dhcp"), dev("network:dhcp"), portAttrs, otherCtx); err == nil {
		t.Error("network:dhcp port on someone else's network allowed")
	}
	if err := e.AuthorizeAttrs("create_port", owned("p2", "network_id", "n3", "device_owner", "compute:nova"), dev("compute:nova"), portAttrs, otherCtx); err != nil {
		t.Errorf("compute port: %v", err)
	}
	if m := buildMatch("create_port", dev(""), portAttrs); m.String() != "rule:create_port" {
		t.Errorf("default device_owner counted: %s", m)
	}
	// Resolver failures surface through NotAuthorized.
	err = e.AuthorizeAttrs("create_port", owned("p2", "network_id", "gone"), map[string]any{"network_id": "gone", "mac_address": "fa:16:3e:00:00:01"}, portAttrs, otherCtx)
	if !errors.Is(err, errNotFound) {
		t.Errorf("resolver error not reported: %v", err)
	}
}

func TestAuthorizeRouterGatewaySubAttributes(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	gw := map[string]any{"network_id": "ext", "enable_snat": false}
	body := map[string]any{"external_gateway_info": gw}
	err := e.AuthorizeAttrs("create_router", owned("p1", "external_gateway_info", gw), body, routerAttrs, ownerCtx)
	want := "(rule:create_router and (rule:create_router:external_gateway_info and " +
		"(rule:create_router:external_gateway_info:network_id and rule:create_router:external_gateway_info:enable_snat))) is disallowed by policy"
	if err == nil || err.Error() != want {
		t.Errorf("enable_snat by a member: %v", err)
	}
	gw2 := map[string]any{"network_id": "ext"}
	if err := e.AuthorizeAttrs("create_router", owned("p1", "external_gateway_info", gw2), map[string]any{"external_gateway_info": gw2}, routerAttrs, ownerCtx); err != nil {
		t.Errorf("gateway by a member: %v", err)
	}
	// The short form finds the sub-attribute rules that exist.
	enf := func(a string) bool { return a == "external_gateway_info" }
	err = e.Authorize("create_router", owned("p1", "external_gateway_info", gw), body, enf, ownerCtx)
	if err == nil {
		t.Error("Authorize: enable_snat by a member allowed")
	}
	// external_gateway_info = null: not explicitly set on create.
	if m := buildMatch("create_router", map[string]any{"external_gateway_info": nil}, routerAttrs); m.String() != "rule:create_router" {
		t.Errorf("null gateway: %s", m)
	}
	// Neutron keeps an empty AndCheck when no spec key is present.
	if m := buildMatch("update_router", map[string]any{"external_gateway_info": map[string]any{}}, routerAttrs); m.String() !=
		"(rule:update_router and (rule:update_router:external_gateway_info and ()))" {
		t.Errorf("empty gateway: %s", m)
	}
}

func TestAttributeVisibility(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	net := owned("p1", "provider:network_type", "vlan")
	for _, attr := range []string{"get_network:provider:network_type", "get_network:provider:segmentation_id", "get_network:segments", "get_port:binding:host_id"} {
		if e.Enforce(attr, net, ownerCtx) {
			t.Errorf("%s visible to a member", attr)
		}
		if !e.Enforce(attr, net, adminCtx) {
			t.Errorf("%s hidden from admin", attr)
		}
	}
	if e.HasRule("get_network:name") || !e.HasRule("get_network:provider:network_type") {
		t.Error("HasRule")
	}
}

func TestUnknownActionUsesDefaultRule(t *testing.T) {
	e := newTestEnforcer(t, Options{EnforceNewDefaults: true})
	// "default" is "rule:admin_or_owner".
	if !e.Enforce("frobnicate_widget", owned("p1"), ownerCtx) {
		t.Error("owner denied by the default rule")
	}
	if e.Enforce("frobnicate_widget", owned("p1"), otherCtx) {
		t.Error("other project allowed by the default rule")
	}
	if !e.Enforce("frobnicate_widget", owned("p1"), adminCtx) {
		t.Error("admin denied by the default rule")
	}
	// Overriding "default" changes the fallback; rule:NAME references to
	// missing rules fall back too.
	e2 := newTestEnforcer(t, Options{EnforceNewDefaults: true, PolicyFile: writePolicy(t, `
"default": "!"
"uses_missing": "rule:no_such_rule"`)})
	if e2.Enforce("frobnicate_widget", owned("p1"), ownerCtx) || e2.Enforce("uses_missing", owned("p1"), ownerCtx) {
		t.Error("default '!' not applied")
	}
}
