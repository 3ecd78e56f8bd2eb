package policy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// Fuzz targets (go test -fuzz=FuzzX ./internal/policy/); seeds in
// testdata/fuzz/<target>/ plus the f.Add below.

// FuzzParseRule: any rule text either fails to parse or gives a rule whose
// printed form parses back to the same rule, and which evaluates (against
// Neutron's defaults for rule: references) without a panic.
func FuzzParseRule(f *testing.F) {
	e := newTestEnforcer(f, Options{})
	for _, s := range []string{
		"role:admin or (role:member and project_id:%(project_id)s)",
		"not rule:admin_only and field:networks:shared=True",
		"@", "!", "", "rule:context_is_admin or tenant_id:%(tenant_id)s",
		"(((role:a)))", "role:a and or role:b", "'x':%(y)s", "True:%(network:shared)s",
		"http://example.com/%(target)s", "is_admin:True", "role:%(missing)s",
		"rule:admin_or_network_owner or rule:shared or rule:external or rule:context_is_advsvc",
		"field:port:device_owner=~^network:", "not not not @", "project_id:%(network:tenant_id)s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rule string) {
		n, err := parseRule(rule)
		if err != nil {
			return
		}
		printed := n.String()
		n2, err := parseRule(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", rule, printed, err)
		}
		if again := n2.String(); again != printed {
			t.Fatalf("%q printed as %q, then as %q", rule, printed, again)
		}
		n.walk(func(n *node) {
			if n.op == opRule {
				n.ref = e.lookup(n.match)
			}
		})
		target := map[string]any{"project_id": "p1", "tenant_id": "p1", "network:shared": true, "name": []any{"x", 1}}
		for _, c := range []*reqctx.Context{{}, {Roles: []string{"admin"}, ProjectID: "p1", IsAdmin: true}, {Roles: []string{"member"}, ProjectID: "p2", SystemScope: "all"}} {
			st := state{e: e, target: target, c: c}
			st.run(n)
		}
	})
}

// FuzzPolicyFile: any policy.yaml (or JSON) either is refused at load or
// gives an enforcer that answers every check without a panic.
func FuzzPolicyFile(f *testing.F) {
	for _, s := range []string{
		"\"get_network\": \"role:admin\"\n\"create_port\": \"rule:admin_only or project_id:%(project_id)s\"\n",
		`{"get_network": "", "admin_only": "role:admin", "x": null}`,
		"a: &x 'role:a'\nb: *x\na: 'role:b'\n",
		"- not a map\n", "get_network: [1, 2]\n", "{", "", "\"context_is_admin\": \"role:nobody\"\n",
		"\"admin_only\": \"rule:admin_only\"\n", "\"get_network\": \"rule:get_network\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{ConfigDir: dir, PolicyDirs: []string{}})
		if err != nil {
			return
		}
		c := &reqctx.Context{Roles: []string{"member"}, ProjectID: "p1"}
		for _, action := range []string{"get_network", "create_port", "update_port:binding:host_id", "context_is_admin", "nonexistent"} {
			e.Check(action, map[string]any{"project_id": "p1", "tenant_id": "p1"}, c)
		}
		e.CheckIsAdmin(c)
	})
}
