package qos_test

import (
	"fmt"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestRuleCreatePolicyBeforeParent: a rule's create policy is enforced
// before its QoS policy is looked up, as Neutron's _create does: an
// admin-only rule answers 403 whatever the parent id (Tempest's
// test_rule_create_forbidden_for_regular_tenants posts to the policy
// "policy"), and only an allowed create reaches the lookup's 404. A rule
// on the parent's owner (%(ext_parent:tenant_id)s) reads the QoS policy
// named in the URL.
func TestRuleCreatePolicyBeforeParent(t *testing.T) {
	rule := map[string]any{"bandwidth_limit_rule": map[string]any{"max_kbps": 1000}}
	denied := policyServer(t, `"create_policy_bandwidth_limit_rule": "!"
"create_policy_dscp_marking_rule": "tenant_id:%(ext_parent:tenant_id)s"
`, qosConfig)
	r := testutil.Do(t, "POST", denied+"/v2.0/qos/policies/policy/bandwidth_limit_rules", rule).Expect(t, 403)
	if want := "rule:create_policy_bandwidth_limit_rule is disallowed by policy"; errMsg(r) != want {
		t.Fatalf("denied create on a missing policy: %s", r.Raw)
	}
	allowed := testutil.StartServer(t, testutil.Options{Set: qosConfig}).URL
	r = testutil.Do(t, "POST", allowed+"/v2.0/qos/policies/policy/bandwidth_limit_rules", rule).Expect(t, 404)
	if want := "QoS policy policy could not be found."; errMsg(r) != want {
		t.Fatalf("allowed create on a missing policy: %s", r.Raw)
	}

	dscp := map[string]any{"dscp_marking_rule": map[string]any{"dscp_mark": 8}}
	own := post(t, denied+"/v2.0/qos/policies", "policy", map[string]any{"name": "own"}).Expect(t, 201).Obj("policy")
	other := post(t, denied+"/v2.0/qos/policies", "policy", map[string]any{"name": "other", "project_id": "someone-else"}).Expect(t, 201).Obj("policy")
	testutil.Do(t, "POST", fmt.Sprintf("%s/v2.0/qos/policies/%s/dscp_marking_rules", denied, own["id"]), dscp).Expect(t, 201)
	testutil.Do(t, "POST", fmt.Sprintf("%s/v2.0/qos/policies/%s/dscp_marking_rules", denied, other["id"]), dscp).Expect(t, 403)
}
