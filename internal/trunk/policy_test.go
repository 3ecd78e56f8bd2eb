package trunk_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestSubportsEnforcePolicy: sub_ports has enforce_policy, as in Neutron:
// a create with sub-ports adds create_trunk:sub_ports and a
// create_trunk:sub_ports:<key> rule per key of each sub-port (here
// create_trunk:sub_ports is denied); an empty list is the default and
// adds nothing; add_subports on a trunk with sub-ports adds
// add_subports:sub_ports (the trunk is the target).
func TestSubportsEnforcePolicy(t *testing.T) {
	f := filepath.Join(t.TempDir(), "policy.yaml")
	rules := "\"create_trunk:sub_ports\": \"!\"\n\"add_subports:sub_ports\": \"!\"\n"
	if err := os.WriteFile(f, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"DEFAULT.service_plugins": "trunk",
		"oslo_policy.policy_file": f, "oslo_policy.enforce_new_defaults": "true"}}).URL
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
	port := func() string {
		return post(t, s+"/v2.0/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"].(string)
	}
	parent, sub := port(), port()
	subports := []any{map[string]any{"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 9}}
	r := post(t, s+"/v2.0/trunks", "trunk", map[string]any{"port_id": parent, "sub_ports": subports}).Expect(t, 403)
	msg := errMsg(r)
	if !strings.HasPrefix(msg, "(rule:create_trunk and (rule:create_trunk:sub_ports and (rule:create_trunk:sub_ports:") ||
		!strings.Contains(msg, "rule:create_trunk:sub_ports:segmentation_id") {
		t.Fatalf("create with sub-ports: %s", r.Raw)
	}
	tr := post(t, s+"/v2.0/trunks", "trunk", map[string]any{"port_id": parent, "sub_ports": []any{}}).Expect(t, 201).Obj("trunk")["id"].(string)
	// the trunk has no sub-ports: add_subports checks only its rule
	testutil.Do(t, "PUT", s+"/v2.0/trunks/"+tr+"/add_subports", map[string]any{"sub_ports": subports}).Expect(t, 200)
	r = testutil.Do(t, "PUT", s+"/v2.0/trunks/"+tr+"/add_subports", map[string]any{"sub_ports": []any{
		map[string]any{"port_id": port(), "segmentation_type": "vlan", "segmentation_id": 10}}}).Expect(t, 403)
	if msg := errMsg(r); !strings.HasPrefix(msg, "(rule:add_subports and (rule:add_subports:sub_ports and ") {
		t.Fatalf("add_subports to a trunk with sub-ports: %s", r.Raw)
	}
}

func errMsg(r *testutil.Response) string {
	e, _ := r.Body["NeutronError"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
