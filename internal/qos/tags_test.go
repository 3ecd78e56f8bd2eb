package qos_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestPolicyTagsOnNeutronsTagPath: Neutron's tag extension serves a QoS
// policy's tags on /v2.0/policies/{id}/tags (its collection name, without
// the qos/ prefix), which neutron-tempest-plugin's tag tests use; the path
// serves nothing else.
func TestPolicyTagsOnNeutronsTagPath(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: qosConfig}).URL
	id := testutil.Do(t, "POST", s+"/v2.0/qos/policies", map[string]any{"policy": map[string]any{"name": "tagged"}}).
		Expect(t, 201).Obj("policy")["id"].(string)
	testutil.Do(t, "PUT", s+"/v2.0/policies/"+id+"/tags", map[string]any{"tags": []string{"red", "blue"}}).Expect(t, 200)
	testutil.Do(t, "PUT", s+"/v2.0/policies/"+id+"/tags/green", nil).Expect(t, 201)
	testutil.Do(t, "GET", s+"/v2.0/policies/"+id+"/tags/green", nil).Expect(t, 204)
	got := testutil.Do(t, "GET", s+"/v2.0/qos/policies?tags=red&tags=green", nil).Expect(t, 200).List("policies")
	if len(got) != 1 || got[0]["id"] != id {
		t.Fatalf("policies tagged red and green: %v", got)
	}
	testutil.Do(t, "DELETE", s+"/v2.0/policies/"+id+"/tags", nil).Expect(t, 204)
	if tags := testutil.Do(t, "GET", s+"/v2.0/qos/policies/"+id, nil).Expect(t, 200).Obj("policy")["tags"].([]any); len(tags) != 0 {
		t.Fatalf("tags after DELETE: %v", tags)
	}
	for _, path := range []string{"/v2.0/policies", "/v2.0/policies/" + id} {
		testutil.Do(t, "GET", s+path, nil).Expect(t, 404)
	}
}
