package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

func TestDefaultsTable(t *testing.T) {
	if len(neutronDefaults) != 262 {
		t.Errorf("%d default rules, Neutron 21.2.1 registers 262", len(neutronDefaults))
	}
	seen := map[string]bool{}
	for _, d := range neutronDefaults {
		if seen[d.Name] {
			t.Errorf("duplicate rule %q", d.Name)
		}
		seen[d.Name] = true
		for _, s := range []string{d.Check, d.Deprecated} {
			n, err := parseRule(s)
			if err != nil {
				t.Errorf("%s: %v", d.Name, err)
				continue
			}
			// Every rule:NAME a default references is itself a default.
			n.walk(func(n *node) {
				if n.op == opRule && !seen[n.match] && !hasDefault(n.match) {
					t.Errorf("%s references undefined rule %q", d.Name, n.match)
				}
			})
		}
		for _, s := range d.ScopeTypes {
			if s != "project" && s != "system" && s != "domain" {
				t.Errorf("%s: scope %q", d.Name, s)
			}
		}
	}
	for name, want := range map[string]string{
		"context_is_admin":                                "role:admin",
		"create_network:shared":                           "rule:admin_only",
		"get_network:provider:segmentation_id":            "rule:admin_only",
		"create_port:mac_address":                         "rule:context_is_advsvc or rule:network_owner or rule:admin_only",
		"create_port:fixed_ips:ip_address":                "rule:context_is_advsvc or rule:network_owner or rule:admin_only",
		"update_port:binding:host_id":                     "rule:admin_only",
		"admin_or_data_plane_int":                         "rule:context_is_admin or role:data_plane_integrator",
		"shared_subnetpools":                              "field:subnetpools:shared=True",
		"create_subnet":                                   "rule:admin_only or role:member and rule:network_owner",
		"get_alias_minimum_packet_rate_rule":              "rule:get_policy_minimum_packet_rate_rule",
		"create_router:external_gateway_info:enable_snat": "rule:admin_only",
	} {
		if d := findDefault(name); d == nil || d.Check != want {
			t.Errorf("%s = %+v, want check %q", name, d, want)
		}
	}
	if d := findDefault("create_network"); d.Deprecated != "rule:regular_user" || len(d.ScopeTypes) != 1 || d.Operations[0] != (Operation{"POST", "/networks"}) {
		t.Errorf("create_network = %+v", d)
	}
	// Defaults() hands out copies.
	ds := Defaults()
	ds[0].Check = "!"
	if neutronDefaults[0].Check != "role:admin" {
		t.Error("Defaults() aliases the table")
	}
}

func hasDefault(name string) bool { return findDefault(name) != nil }

func findDefault(name string) *RuleDefault {
	for i := range neutronDefaults {
		if neutronDefaults[i].Name == name {
			return &neutronDefaults[i]
		}
	}
	return nil
}

func TestDeprecatedDefaults(t *testing.T) {
	legacy := newTestEnforcer(t, Options{})
	strict := newTestEnforcer(t, Options{EnforceNewDefaults: true})
	// A p1 token without member/reader: only the deprecated rules allow it.
	cases := []struct {
		action string
		target map[string]any
	}{
		{"create_network", owned("p1")},                    // deprecated: rule:regular_user
		{"get_network", owned("p1")},                       // deprecated: rule:admin_or_owner
		{"update_router", owned("p1")},                     // deprecated: rule:admin_or_owner
		{"get_availability_zone", owned("p1")},             // deprecated: rule:regular_user
		{"create_subnet", owned("p1", "network_id", "n1")}, // admin_or_network_owner
	}
	for _, c := range cases {
		if !legacy.Enforce(c.action, c.target, noRoleCtx) {
			t.Errorf("%s: denied with enforce_new_defaults=False", c.action)
		}
		if strict.Enforce(c.action, c.target, noRoleCtx) {
			t.Errorf("%s: allowed with enforce_new_defaults=True", c.action)
		}
	}
	// With the new defaults, a plain admin context is evaluated, not waved
	// through: an "is_admin" context without the admin role is refused.
	fake := &reqctx.Context{ProjectID: "p9", IsAdmin: true}
	if !legacy.Enforce("get_quota", owned("p1"), fake) {
		t.Error("legacy: is_admin shortcut missing")
	}
	if strict.Enforce("get_quota", owned("p1"), fake) {
		t.Error("strict: is_admin shortcut applied")
	}
}

func TestEnforceScope(t *testing.T) {
	sysAdmin := &reqctx.Context{UserID: "root", SystemScope: "all", Roles: []string{"admin", "reader"}}
	domAdmin := &reqctx.Context{UserID: "dom", DomainID: "d1", Roles: []string{"admin"}}

	off := newTestEnforcer(t, Options{EnforceNewDefaults: true})
	if err := off.Authorize("create_network", owned("p1"), nil, nil, sysAdmin); err != nil {
		t.Errorf("enforce_scope=False: %v", err)
	}
	on := newTestEnforcer(t, Options{EnforceNewDefaults: true, EnforceScope: true})
	err := on.Authorize("create_network", map[string]any{}, nil, nil, sysAdmin)
	var na *NotAuthorized
	if !errors.As(err, &na) || na.Type() != "InvalidScope" ||
		na.Error() != "rule:create_network requires a scope of ['project'], request was made with system scope." {
		t.Fatalf("system token on a project rule: %v", err)
	}
	if on.Enforce("get_network", owned("p1"), sysAdmin) {
		t.Error("Enforce passes a system token on a project rule")
	}
	if on.Enforce("get_network", owned("p1"), domAdmin) {
		t.Error("Enforce passes a domain token on a project rule")
	}
	// Project tokens are unaffected; rules without scope types accept any.
	if err := on.Authorize("create_network", owned("p1"), nil, nil, ownerCtx); err != nil {
		t.Errorf("project token: %v", err)
	}
	if !on.Enforce("context_is_admin", nil, sysAdmin) {
		t.Error("context_is_admin has no scope types but was refused")
	}
	// As in Neutron, attribute rules hide the scope types (oslo only looks
	// at the top check, an AndCheck without scope types).
	body := map[string]any{"shared": true}
	if err := on.AuthorizeAttrs("create_network", owned("p1"), body, netAttrs, sysAdmin); err != nil {
		t.Errorf("with attribute rules: %v", err)
	}
	// enforce_new_defaults=False lets is_admin contexts through first.
	legacyOn := newTestEnforcer(t, Options{EnforceScope: true})
	sysAdminCtx := *sysAdmin
	sysAdminCtx.IsAdmin = true
	if err := legacyOn.Authorize("create_network", nil, nil, nil, &sysAdminCtx); err != nil {
		t.Errorf("legacy admin shortcut: %v", err)
	}
}

func TestOverridesFilesAndDirs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.yaml"), `
# an override of a default with a deprecated rule: no OR any more
"create_network": "(rule:admin_only) or (role:member and project_id:%(project_id)s)"
"get_network": "role:lister"
"my_rule": "role:custom"
"null_rule":
`)
	writeFile(t, filepath.Join(dir, "policy.d", "20-b.json"), `{"get_network": "role:from_json", "json_only": "@"}`)
	writeFile(t, filepath.Join(dir, "policy.d", "10-a.yaml"), `"get_network": "role:from_a"`+"\n"+`"update_network": "!"`)
	writeFile(t, filepath.Join(dir, "policy.d", ".hidden.yaml"), `"get_network": "role:hidden"`)
	writeFile(t, filepath.Join(dir, "policy.d", "README"), `not a policy file`)
	writeFile(t, filepath.Join(dir, "more", "x.yml"), `"update_network": "role:later"`)

	e := newTestEnforcer(t, Options{ConfigDir: dir, PolicyDirs: []string{"policy.d", "missing.d", filepath.Join(dir, "more")}})
	if e.Enforce("create_network", owned("p1"), noRoleCtx) {
		t.Error("overridden create_network still ORs the deprecated rule")
	}
	if !e.Enforce("create_network", owned("p1"), ownerCtx) {
		t.Error("override of create_network broken")
	}
	// get_network: policy.yaml < 10-a.yaml < 20-b.json.
	jsonCtx := &reqctx.Context{ProjectID: "p1", Roles: []string{"from_json"}}
	fromA := &reqctx.Context{ProjectID: "p1", Roles: []string{"from_a"}}
	if !e.Enforce("get_network", owned("p9"), jsonCtx) || e.Enforce("get_network", owned("p9"), fromA) {
		t.Error("policy.d files not applied in sorted order")
	}
	// Directories apply in order: more/x.yml wins over policy.d.
	later := &reqctx.Context{ProjectID: "p1", Roles: []string{"later"}}
	if !e.Enforce("update_network", owned("p9"), later) {
		t.Error("later policy dir did not win")
	}
	for _, r := range []string{"my_rule", "json_only", "null_rule"} {
		if !e.HasRule(r) {
			t.Errorf("file-only rule %s missing", r)
		}
	}
	if !e.Enforce("null_rule", nil, otherCtx) {
		t.Error("a null rule is always true in oslo")
	}
	if !e.Enforce("my_rule", nil, &reqctx.Context{Roles: []string{"custom"}}) {
		t.Error("my_rule")
	}

	// Missing files are ignored; the old policy.json default is picked up.
	if _, err := New(Options{ConfigDir: t.TempDir(), PolicyFile: "nope.yaml"}); err != nil {
		t.Errorf("missing policy file: %v", err)
	}
	jdir := t.TempDir()
	writeFile(t, filepath.Join(jdir, "policy.json"), `{"get_network": "!"}`)
	ej := newTestEnforcer(t, Options{ConfigDir: jdir})
	if ej.Enforce("get_network", owned("p1"), ownerCtx) {
		t.Error("policy.json fallback not used")
	}
}

func TestOverrideErrors(t *testing.T) {
	for name, content := range map[string]string{
		"syntax.yaml":  `"get_network": "role:a or"`,
		"type.yaml":    `"get_network": ["role:a"]`,
		"number.json":  `{"get_network": 5}`,
		"broken.yaml":  "\"get_network\": [unclosed\n",
		"list.yaml":    "- a\n- b\n",
		"owner.yaml":   `"get_network": "tenant_id:p1"`,
		"newrule.json": `{"my_new_rule": "field:networks:shared=perhaps"}`,
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "policy.d", name)
		writeFile(t, path, content)
		_, err := New(Options{ConfigDir: dir})
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
		if strings.HasSuffix(name, "json") || name == "syntax.yaml" || name == "owner.yaml" {
			if !strings.Contains(err.Error(), "rule") {
				t.Errorf("%s: error %q does not name the rule", name, err)
			}
		}
	}
	// Not a directory.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.d"), "x")
	if _, err := New(Options{ConfigDir: dir}); err == nil {
		t.Error("policy_dirs entry that is a file: no error")
	}
}

func TestCheckIsAdmin(t *testing.T) {
	e := newTestEnforcer(t, Options{})
	if !e.CheckIsAdmin(&reqctx.Context{Roles: []string{"Admin"}}) || e.CheckIsAdmin(ownerCtx) {
		t.Error("check_is_admin")
	}
	// It does not trust IsAdmin, it computes it.
	if e.CheckIsAdmin(&reqctx.Context{IsAdmin: true}) {
		t.Error("check_is_admin trusted IsAdmin")
	}
	if !e.CheckIsAdvsvc(&reqctx.Context{Roles: []string{"advsvc"}}) || e.CheckIsAdvsvc(ownerCtx) {
		t.Error("check_is_advsvc")
	}
	// Overrides apply, with the credentials as the target.
	e2 := newTestEnforcer(t, Options{PolicyFile: writePolicy(t, `
"context_is_admin": "role:cloud_admin or user_id:%(user_id)s and project_id:ops"`)})
	if e2.CheckIsAdmin(&reqctx.Context{Roles: []string{"admin"}}) {
		t.Error("overridden context_is_admin ignored")
	}
	if !e2.CheckIsAdmin(&reqctx.Context{Roles: []string{"cloud_admin"}}) || !e2.CheckIsAdmin(&reqctx.Context{UserID: "u", ProjectID: "ops"}) {
		t.Error("overridden context_is_admin not applied")
	}
}

func TestNotAuthorizedUnwrap(t *testing.T) {
	base := errors.New("boom")
	na := &NotAuthorized{Action: "create_port", Rule: "rule:create_port", Err: base}
	if !errors.Is(na, base) || na.Error() != "rule:create_port is disallowed by policy" {
		t.Errorf("%v", na)
	}
}

// personaCase is one real rule checked for admin, a member of the owning
// project, a member of another project and a reader of the owning project,
// as a Neutron operator would expect them to come out in Zed.
type personaCase struct {
	action                      string
	target                      map[string]any
	admin, owner, other, reader bool
	// newDefaults overrides owner/other/reader under enforce_new_defaults
	// when the deprecated rule makes a difference ("-" = same).
	newOwner, newOther, newReader string
	newAdmin                      string
}

var personaCases = []personaCase{
	{action: "create_network", target: owned("p1"), admin: true, owner: true, other: true, reader: true,
		newOther: "other", newReader: "deny"},
	{action: "get_network", target: owned("p1", "shared", false, "router:external", false), admin: true, owner: true, reader: true},
	{action: "get_network", target: owned("p3", "shared", true), admin: true, owner: true, other: true, reader: true},
	{action: "get_network", target: owned("p3", "router:external", true), admin: true, owner: true, other: true, reader: true},
	{action: "update_network", target: owned("p1"), admin: true, owner: true, reader: true, newReader: "deny"},
	{action: "delete_network", target: owned("p1"), admin: true, owner: true, reader: true, newReader: "deny"},
	{action: "get_network:provider:network_type", target: owned("p1"), admin: true},
	{action: "create_subnet", target: owned("p1", "network_id", "n1"), admin: true, owner: true, reader: true, newReader: "deny"},
	{action: "get_subnet", target: owned("p3", "network_id", "n3"), admin: true, owner: true, other: true, reader: true},
	{action: "get_port", target: owned("p1", "network_id", "n1", "device_owner", ""), admin: true, owner: true, reader: true},
	{action: "update_port:binding:host_id", target: owned("p1", "network_id", "n1"), admin: true},
	{action: "create_port:mac_address", target: owned("p1", "network_id", "n1"), admin: true, owner: true, reader: true},
	{action: "get_security_group_rule", target: owned("p1", "security_group_id", "sg1"), admin: true, owner: true, reader: true},
	{action: "create_rbac_policy:target_tenant", target: owned("p1", "target_tenant", "*"), admin: true, reader: false},
	{action: "create_rbac_policy:target_tenant", target: owned("p1", "target_tenant", "p7"), admin: true, owner: true, other: true, reader: true},
	// 21.0.0's port forwarding rules have no admin_only: under the new
	// defaults an admin of another project is refused, as in the reference
	{action: "get_floatingip_port_forwarding", target: map[string]any{"ext_parent_floatingip_id": "fip1"}, admin: true, owner: true, reader: true,
		newAdmin: "deny"},
	{action: "get_quota", target: owned("p1"), admin: true},
	{action: "update_port:data_plane_status", target: owned("p1"), admin: true},
	{action: "get_availability_zone", target: map[string]any{}, admin: true, owner: true, other: true, reader: true},
	{action: "no_such_action", target: owned("p1"), admin: true, owner: true, reader: true}, // "default"
}

func TestNeutronRulesByPersona(t *testing.T) {
	for _, mode := range []bool{false, true} {
		e := newTestEnforcer(t, Options{EnforceNewDefaults: mode})
		for _, pc := range personaCases {
			want := map[string]bool{"admin": pc.admin, "owner": pc.owner, "other": pc.other, "reader": pc.reader}
			if mode {
				for who, v := range map[string]string{"admin": pc.newAdmin, "owner": pc.newOwner, "other": pc.newOther, "reader": pc.newReader} {
					switch v {
					case "deny":
						want[who] = false
					case "allow":
						want[who] = true
					case "other":
						// create_network: the target names p1, so a p2
						// member fails project_id:%(project_id)s.
						want[who] = false
					}
				}
			}
			for who, c := range map[string]*reqctx.Context{"admin": adminCtx, "owner": ownerCtx, "other": otherCtx, "reader": readerCtx} {
				target := copyMap(pc.target)
				if got := e.Enforce(pc.action, target, c); got != want[who] {
					t.Errorf("enforce_new_defaults=%v %s on %v as %s = %v, want %v", mode, pc.action, pc.target, who, got, want[who])
				}
			}
		}
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestWriteEffective(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "policy.yaml"), `"get_network": "role:lister"`+"\n"+`"zz_extra": "@"`+"\n"+`"aa_extra": "!"`)
	e := newTestEnforcer(t, Options{ConfigDir: dir})
	var y bytes.Buffer
	if err := e.WriteEffective(&y, "yaml"); err != nil {
		t.Fatal(err)
	}
	out := y.String()
	for _, line := range []string{
		`"context_is_admin": "role:admin"`,
		`"create_network": "((rule:admin_only) or (role:member and project_id:%(project_id)s)) or (rule:regular_user)"`,
		`"create_network:shared": "rule:admin_only"`,
		`"get_network": "role:lister"`,
		`"regular_user": ""`,
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("YAML output lacks %s", line)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 264 || !strings.HasPrefix(lines[0], `"context_is_admin"`) ||
		!strings.HasPrefix(lines[262], `"aa_extra"`) || !strings.HasPrefix(lines[263], `"zz_extra"`) {
		t.Errorf("%d lines; first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}

	var j bytes.Buffer
	if err := e.WriteEffective(&j, "json"); err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(j.Bytes(), &m); err != nil || len(m) != 264 || m["get_network"] != "role:lister" {
		t.Errorf("JSON output: %v, %d rules", err, len(m))
	}
	if err := e.WriteEffective(&j, "toml"); err == nil {
		t.Error("unknown format accepted")
	}

	// The effective policy, loaded with enforce_new_defaults=True (so no
	// further OR), decides exactly like the legacy defaults.
	legacy := newTestEnforcer(t, Options{})
	var eff bytes.Buffer
	if err := legacy.WriteEffective(&eff, ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "effective.yaml")
	writeFile(t, path, eff.String())
	reloaded := newTestEnforcer(t, Options{PolicyFile: path, EnforceNewDefaults: true})
	for _, pc := range personaCases {
		for _, c := range []*reqctx.Context{ownerCtx, otherCtx, readerCtx, noRoleCtx} {
			if a, b := legacy.Enforce(pc.action, copyMap(pc.target), c), reloaded.Enforce(pc.action, copyMap(pc.target), c); a != b {
				t.Errorf("%s as %s: legacy %v, reloaded effective policy %v", pc.action, c.UserID, a, b)
			}
		}
	}
}

func BenchmarkEnforceGetNetwork(b *testing.B) {
	e := newTestEnforcer(b, Options{})
	target := owned("p1", "shared", false, "router:external", false, "id", "n1")
	b.ReportAllocs()
	for b.Loop() {
		if !e.Enforce("get_network", target, readerCtx) {
			b.Fatal("denied")
		}
	}
}

func BenchmarkEnforceDeniedAttribute(b *testing.B) {
	e := newTestEnforcer(b, Options{EnforceNewDefaults: true})
	target := owned("p1", "provider:network_type", "vlan")
	b.ReportAllocs()
	for b.Loop() {
		if e.Enforce("get_network:provider:segmentation_id", target, ownerCtx) {
			b.Fatal("allowed")
		}
	}
}

func BenchmarkAuthorizeCreatePort(b *testing.B) {
	e := newTestEnforcer(b, Options{})
	fixed := []any{map[string]any{"subnet_id": "s1", "ip_address": "10.0.0.5"}}
	body := map[string]any{"network_id": "n1", "fixed_ips": fixed, "name": "x"}
	b.ReportAllocs()
	for b.Loop() {
		target := owned("p1", "network_id", "n1", "fixed_ips", fixed, "network:tenant_id", "p1")
		if err := e.AuthorizeAttrs("create_port", target, body, portAttrs, ownerCtx); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRuleCycleFailsClosed(t *testing.T) {
	e := newTestEnforcer(t, Options{PolicyFile: writePolicy(t, `
"a": "rule:b or @"
"b": "rule:a"
"c": "not rule:a"`)})
	for _, r := range []string{"a", "b", "c"} {
		if ok, err := e.Check(r, nil, ownerCtx); ok || !errors.Is(err, errTooDeep) {
			t.Errorf("%s: %v, %v; want false, errTooDeep", r, ok, err)
		}
	}
}
