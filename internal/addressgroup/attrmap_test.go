package addressgroup_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func errMsg(r *testutil.Response) string {
	e, _ := r.Body["NeutronError"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// TestProjectIDDeclared: address groups declare project_id, not tenant_id;
// tenant_id mirrors it in bodies, views, filters and sort keys, as the
// attribute map Neutron's populate_project_info completes (the answers
// checked on the reference). addresses left out are none.
func TestProjectIDDeclared(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{}).URL
	g := post(t, s+"/v2.0/address-groups", "address_group", map[string]any{"name": "g", "tenant_id": "pa"}).Expect(t, 201).Obj("address_group")
	if g["project_id"] != "pa" || g["tenant_id"] != "pa" || len(g["addresses"].([]any)) != 0 {
		t.Fatalf("created %v", g)
	}
	id := g["id"].(string)
	for _, q := range []string{"tenant_id=pa", "project_id=pa", "tenant_id=pa&sort_key=tenant_id&sort_dir=asc", "project_id=pa&sort_key=project_id&sort_dir=desc"} {
		l := testutil.Do(t, "GET", s+"/v2.0/address-groups?fields=name&"+q, nil).Expect(t, 200).List("address_groups")
		if len(l) != 1 || l[0]["name"] != "g" || l[0]["tenant_id"] != "pa" {
			t.Fatalf("%s: %v", q, l)
		}
	}
	r := post(t, s+"/v2.0/address-groups", "address_group", map[string]any{"project_id": 5}).Expect(t, 400)
	if want := "Invalid input for project_id. Reason: '5' is not a valid string."; errMsg(r) != want {
		t.Fatalf("project_id not a string: %s", r.Raw)
	}
	r = testutil.Do(t, "PUT", s+"/v2.0/address-groups/"+id, map[string]any{"address_group": map[string]any{"tenant_id": "x"}}).Expect(t, 400)
	if want := "Cannot update read-only attribute project_id"; errMsg(r) != want {
		t.Fatalf("update tenant_id: %s", r.Raw)
	}
}

// TestOwnerHiddenByTenantIDRule: the owner of an address group is shown
// or hidden, under both names, by get_address_group:tenant_id, which
// _exclude_attributes_by_policy checks; project_id has no rule of its own.
func TestOwnerHiddenByTenantIDRule(t *testing.T) {
	for rule, hidden := range map[string]bool{"get_address_group:tenant_id": true, "get_address_group:project_id": false} {
		f := filepath.Join(t.TempDir(), "policy.yaml")
		if err := os.WriteFile(f, []byte(fmt.Sprintf("%q: \"!\"\n", rule)), 0o644); err != nil {
			t.Fatal(err)
		}
		s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"oslo_policy.policy_file": f,
			"oslo_policy.enforce_new_defaults": "true"}}).URL
		g := post(t, s+"/v2.0/address-groups", "address_group", map[string]any{"name": "g"}).Expect(t, 201).Obj("address_group")
		_, tenant := g["tenant_id"]
		_, project := g["project_id"]
		if tenant == hidden || project == hidden {
			t.Fatalf("%s denied: %v", rule, g)
		}
	}
}
