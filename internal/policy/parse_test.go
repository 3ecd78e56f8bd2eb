package policy

import (
	"errors"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// evalRule compiles rule standalone (rule:NAME references resolve against
// Neutron's defaults) and evaluates it.
func evalRule(t *testing.T, rule string, target map[string]any, c *reqctx.Context) bool {
	t.Helper()
	e := newTestEnforcer(t, Options{})
	n, err := parseRule(rule)
	if err != nil {
		t.Fatalf("parseRule(%q): %v", rule, err)
	}
	n.walk(func(n *node) {
		if n.op == opRule {
			n.ref = e.lookup(n.match)
		}
	})
	if target == nil {
		target = map[string]any{}
	}
	st := state{e: e, target: target, c: c}
	return st.run(n)
}

func roles(r ...string) *reqctx.Context { return &reqctx.Context{Roles: r, ProjectID: "p1"} }

func TestParserPrecedence(t *testing.T) {
	tests := []struct {
		rule  string
		roles []string
		want  bool
	}{
		{"role:a or role:b and role:c", []string{"a"}, true},
		{"role:a or role:b and role:c", []string{"b"}, false},
		{"role:a or role:b and role:c", []string{"b", "c"}, true},
		{"role:a and role:b or role:c", []string{"c"}, true},
		{"role:a and role:b or role:c", []string{"a"}, false},
		{"(role:a or role:b) and role:c", []string{"a"}, false},
		{"(role:a or role:b) and role:c", []string{"a", "c"}, true},
		{"role:a and (role:b or role:c)", []string{"a", "c"}, true},
		{"not role:a and role:b", []string{"b"}, true},
		{"not role:a and role:b", []string{"a", "b"}, false},
		{"not role:a or role:b", []string{"a"}, false},
		{"not (role:a and role:b)", []string{"a"}, true},
		{"not (role:a and role:b)", []string{"a", "b"}, false},
		{"not not role:a", []string{"a"}, true},
		{"role:a AND NOT role:b", []string{"a"}, true},
		{"role:a Or role:b", []string{"b"}, true},
		{"((role:a))", []string{"a"}, true},
		{"(((role:a) or (role:b)))", []string{"b"}, true},
		{"role:a or (role:b and (role:c or role:d))", []string{"b", "d"}, true},
		{"role:a or (role:b and (role:c or role:d))", []string{"b"}, false},
		{"role:ADMIN", []string{"admin"}, true},
		{"role:admin", []string{"Admin"}, true},
		{"@", nil, true},
		{"!", []string{"admin"}, false},
		{"", nil, true},
		{"@ and !", nil, false},
		{"! or @", nil, true},
		{"not @", nil, false},
		{"\trole:a\n  or\trole:b ", []string{"b"}, true},
		// Checks oslo cannot understand fail closed.
		{"nocolon", []string{"nocolon"}, false},
		{"nocolon or role:a", []string{"a"}, true},
		{"http://example.com/check", nil, false},
		{"not http://example.com/check", nil, true},
	}
	for _, tt := range tests {
		if got := evalRule(t, tt.rule, nil, roles(tt.roles...)); got != tt.want {
			t.Errorf("%q with roles %v = %v, want %v", tt.rule, tt.roles, got, tt.want)
		}
	}
}

func TestParserString(t *testing.T) {
	tests := map[string]string{
		"role:a or role:b and role:c":        "(role:a or (role:b and role:c))",
		"role:a and role:b and role:c":       "(role:a and role:b and role:c)",
		"(role:a and role:b) or not role:c":  "((role:a and role:b) or not role:c)",
		"rule:x":                             "rule:x",
		"project_id:%(project_id)s or @":     "(project_id:%(project_id)s or @)",
		"field:networks:shared=True":         "field:networks:shared=True",
		"tenant_id:%(network:tenant_id)s":    "tenant_id:%(network:tenant_id)s",
		"(role:a)":                           "role:a",
		"role:a or role:b or (role:c or !)":  "(role:a or role:b or (role:c or !))",
		"not (role:a or role:b) and role:c":  "(not (role:a or role:b) and role:c)",
		"'member':%(role.name)s and role:x ": "('member':%(role.name)s and role:x)",
	}
	for in, want := range tests {
		n, err := parseRule(in)
		if err != nil {
			t.Errorf("parseRule(%q): %v", in, err)
			continue
		}
		if got := n.String(); got != want {
			t.Errorf("parseRule(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func TestParserErrors(t *testing.T) {
	bad := []string{
		"role:a and",
		"or role:a",
		"role:a or or role:b",
		"(role:a",
		"role:a)",
		"role:a role:b",
		"()",
		"not",
		"role:a and not",
		"'quoted'",
		`role:a or "x"`,
		"   ",
		"tenant_id:abc",               // OwnerCheck needs %(field)s
		"tenant_id:%(a)s-x",           // ditto
		"field:networks",              // FieldCheck needs resource:field=value
		"field:networks:shared",       // ditto
		"field:networks:shared=maybe", // not a boolean
		"field:networks:mtu=big",      // not an integer
		"field:ports:device_owner=~(", // bad regexp
		"project_id:%(project_id)x",   // unsupported conversion
		"project_id:%s",               // positional substitution
		"project_id:50%",              // incomplete format
		"project_id:%(project_id",     // unterminated key
	}
	for _, rule := range bad {
		if _, err := parseRule(rule); err == nil {
			t.Errorf("parseRule(%q) succeeded, want an error", rule)
		} else if !errors.Is(err, errSyntax) {
			t.Errorf("parseRule(%q) = %v, want errSyntax", rule, err)
		}
	}
}

func TestGenericChecks(t *testing.T) {
	c := &reqctx.Context{
		UserID: "u1", ProjectID: "p1", DomainID: "", UserDomainID: "d1",
		Roles: []string{"member", "reader"}, IsAdmin: false, IsAdvsvc: true,
		SystemScope: "", ServiceRoles: []string{"service"},
	}
	sys := &reqctx.Context{UserID: "u9", SystemScope: "all", Roles: []string{"admin"}}
	tests := []struct {
		rule   string
		target map[string]any
		c      *reqctx.Context
		want   bool
	}{
		{"project_id:%(project_id)s", map[string]any{"project_id": "p1"}, c, true},
		{"project_id:%(project_id)s", map[string]any{"project_id": "p2"}, c, false},
		{"project_id:%(project_id)s", map[string]any{}, c, false}, // KeyError
		{"project_id:p1", nil, c, true},
		{"user_id:%(user_id)s", map[string]any{"user_id": "u1"}, c, true},
		{"tenant_id:%(tenant_id)s", map[string]any{"tenant_id": "p1"}, c, true},
		{"user_domain_id:d1", nil, c, true},
		{"domain_id:None", nil, c, true}, // unset IDs are Python None
		{"project_id:None", nil, sys, true},
		{"roles:reader", nil, c, true}, // a list matches any element
		{"roles:admin", nil, c, false},
		{"service_roles:service", nil, c, true},
		{"is_admin:True", nil, c, false},
		{"is_admin:False", nil, c, true},
		{"is_advsvc:True", nil, c, true},
		{"system_scope:all", nil, sys, true},
		{"system_scope:all", nil, c, false},
		{"system:all", nil, sys, true},
		{"system:None", nil, c, false}, // no "system" key without a system scope
		{"unknown_cred:x", nil, c, false},
		{"roles.name:reader", nil, c, false}, // no nested credentials
		// Dotted target keys: as-is first, then nested.
		{"project_id:%(target.project.id)s", map[string]any{"target.project.id": "p1"}, c, true},
		{"project_id:%(target.project.id)s", map[string]any{"target": map[string]any{"project": map[string]any{"id": "p1"}}}, c, true},
		{"project_id:%(target.project.id)s", map[string]any{"target": map[string]any{"project": map[string]any{"id": "p2"}}}, c, false},
		{"project_id:%(target.project.id)s", map[string]any{"target": map[string]any{"project": "p1"}}, c, false},
		{"project_id:%(network:tenant_id)s", map[string]any{"network:tenant_id": "p1"}, c, true},
		// Literal LEFT sides, compared with str() of the substituted RIGHT.
		{"'member':%(role)s", map[string]any{"role": "member"}, c, true},
		{`"member":%(role)s`, map[string]any{"role": "reader"}, c, false},
		{"'a\\'b':%(x)s", map[string]any{"x": "a'b"}, c, true},
		{"True:%(enabled)s", map[string]any{"enabled": true}, c, true},
		{"True:%(enabled)s", map[string]any{"enabled": false}, c, false},
		{"False:%(enabled)s", map[string]any{"enabled": false}, c, true},
		{"None:%(x)s", map[string]any{"x": nil}, c, true},
		{"5:%(n)s", map[string]any{"n": float64(5)}, c, true},
		{"5:%(n)s", map[string]any{"n": 5}, c, true},
		{"-5:%(n)s", map[string]any{"n": -5}, c, true},
		{"0x10:%(n)s", map[string]any{"n": 16}, c, true},
		{"1.5:%(n)s", map[string]any{"n": 1.5}, c, true},
		{"1e3:%(n)s", map[string]any{"n": "1000.0"}, c, true},
		{"'x':x", nil, c, true},
		{"'x':y", nil, c, false},
		// Several substitutions, %% and %(key)d.
		{"'p1-u1':%(project_id)s-%(user_id)s", map[string]any{"project_id": "p1", "user_id": "u1"}, c, true},
		{"'100%':100%%", nil, c, true},
		{"'7':%(n)d", map[string]any{"n": 7.0}, c, true},
		{"'7':%(n)d", map[string]any{"n": "7"}, c, false},
		// role: with a substitution.
		{"role:%(required)s", map[string]any{"required": "READER"}, c, true},
		{"role:%(required)s", map[string]any{}, c, false},
	}
	for _, tt := range tests {
		if got := evalRule(t, tt.rule, tt.target, tt.c); got != tt.want {
			t.Errorf("%q on %v = %v, want %v", tt.rule, tt.target, got, tt.want)
		}
	}
}

func TestTokenizeQuotedWithParens(t *testing.T) {
	// oslo checks the quotes before stripping trailing parentheses, so
	// "('x')" is a check named "'x'" (no colon: always false), not a string.
	n, err := parseRule("('x') or role:a")
	if err != nil {
		t.Fatal(err)
	}
	if s := n.String(); !strings.HasPrefix(s, "(!") {
		t.Errorf("got %q", s)
	}
}
