package qos_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func errMsg(r *testutil.Response) string {
	e, _ := r.Body["NeutronError"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// TestRuleAliasCreate: the aliases have no create. Their attribute maps
// decide the 400s as Neutron's do (the minimum packet rate alias declares
// tenant_id postable, the others do not: checked on the reference); a body
// the map accepts is a 404 (a 500 in Neutron, whose plugin has no method
// for it), never a rule.
func TestRuleAliasCreate(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: qosConfig}).URL
	cases := []struct {
		coll   string
		body   map[string]any
		status int
		msg    string
	}{
		{"alias_bandwidth_limit_rules", map[string]any{}, 400, "Attribute 'tenant_id' not allowed in POST"},
		{"alias_minimum_packet_rate_rules", map[string]any{"direction": "any"}, 400, "Attribute 'direction' not allowed in POST"},
		{"alias_minimum_packet_rate_rules", map[string]any{}, 404, "The resource could not be found."},
	}
	for _, c := range cases {
		r := post(t, s+"/v2.0/qos/"+c.coll, c.coll[:len(c.coll)-1], c.body).Expect(t, c.status)
		if errMsg(r) != c.msg {
			t.Errorf("%s %v: %s", c.coll, c.body, r.Raw)
		}
	}
}

// TestRuleTypesLimit: a list of rule types with a limit is every type (the
// plugin ignores the limit, as Neutron's does) with links whose markers
// are types. Neutron answers it 500: its links are built from an "id"
// rule types lack.
func TestRuleTypesLimit(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: qosConfig}).URL
	r := testutil.Do(t, "GET", s+"/v2.0/qos/rule-types?limit=2", nil).Expect(t, 200)
	if got := r.List("rule_types"); len(got) != 5 || got[4]["type"] != "packet_rate_limit" {
		t.Fatalf("rule types: %s", r.Raw)
	}
	links, _ := r.Body["rule_types_links"].([]any)
	if len(links) != 2 || !strings.Contains(fmt.Sprint(links[0]), "marker=packet_rate_limit") {
		t.Fatalf("links: %s", r.Raw)
	}
}

// policyServer runs the qos configuration with extra policy rules and the
// new defaults (so that the noauth admin goes through the rules too).
func policyServer(t *testing.T, rules string, set map[string]string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]string{"oslo_policy.policy_file": f, "oslo_policy.enforce_new_defaults": "true"}
	for k, v := range set {
		cfg[k] = v
	}
	return testutil.StartServer(t, testutil.Options{Set: cfg}).URL
}

// TestQosPolicyIDEnforcesPolicy: qos_policy_id of networks and ports has
// enforce_policy, so setting it adds the <action>:qos_policy_id rule (here
// denied; a null value on create is the default and does not count).
func TestQosPolicyIDEnforcesPolicy(t *testing.T) {
	set := map[string]string{}
	for k, v := range qosConfig {
		set[k] = v
	}
	s := policyServer(t, `"create_network:qos_policy_id": "!"
"update_network:qos_policy_id": "!"
"create_port:qos_policy_id": "!"
"update_port:qos_policy_id": "!"
`, set)
	pol := post(t, s+"/v2.0/qos/policies", "policy", map[string]any{"name": "p"}).Expect(t, 201).Obj("policy")["id"]
	r := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n", "qos_policy_id": pol}).Expect(t, 403)
	if want := "(rule:create_network and rule:create_network:qos_policy_id) is disallowed by policy"; errMsg(r) != want {
		t.Fatalf("create network: %s", r.Raw)
	}
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n", "qos_policy_id": nil}).Expect(t, 201).Obj("network")["id"]
	r = testutil.Do(t, "PUT", s+"/v2.0/networks/"+fmt.Sprint(net), map[string]any{"network": map[string]any{"qos_policy_id": nil}}).Expect(t, 403)
	if want := "(rule:update_network and rule:update_network:qos_policy_id) is disallowed by policy"; errMsg(r) != want {
		t.Fatalf("update network: %s", r.Raw)
	}
	r = post(t, s+"/v2.0/ports", "port", map[string]any{"network_id": net, "qos_policy_id": pol}).Expect(t, 403)
	if want := "(rule:create_port and rule:create_port:qos_policy_id) is disallowed by policy"; errMsg(r) != want {
		t.Fatalf("create port: %s", r.Raw)
	}
	port := post(t, s+"/v2.0/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"]
	r = testutil.Do(t, "PUT", s+"/v2.0/ports/"+fmt.Sprint(port), map[string]any{"port": map[string]any{"qos_policy_id": pol}}).Expect(t, 403)
	if want := "(rule:update_port and rule:update_port:qos_policy_id) is disallowed by policy"; errMsg(r) != want {
		t.Fatalf("update port: %s", r.Raw)
	}
}
