package dbimport_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// checkWritable checks that neutrino keeps working on the imported state,
// not only reading it: what the import wrote for neutrino's own
// bookkeeping (allocations, MACs, IP addresses, default groups, rule
// numbering) must make new requests behave as on the reference.
func checkWritable(t *testing.T, base string) {
	t.Helper()
	byName := func(collection, key, name string) map[string]any {
		t.Helper()
		r := testutil.Do(t, "GET", base+"/v2.0/"+collection+"?name="+name, nil).Expect(t, 200)
		l := r.List(key)
		if len(l) != 1 {
			t.Fatalf("%s named %s: %d found", collection, name, len(l))
		}
		return l[0]
	}
	netA1 := byName("networks", "networks", "net-a1")["id"].(string)
	subA1 := byName("subnets", "subnets", "sub-a1")["id"].(string)
	web := byName("security-groups", "security_groups", "web")

	// imported allocations are taken
	r := testutil.Do(t, "POST", base+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "new-vlan",
		"provider:network_type": "vlan", "provider:physical_network": "physnet1", "provider:segmentation_id": 150}})
	if r.Status != 409 || r.ErrorType() != "VlanIdInUse" {
		t.Errorf("VLAN 150 of an imported network: %d %s, want 409 VlanIdInUse", r.Status, r.Raw)
	}
	r = testutil.Do(t, "POST", base+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netA1,
		"fixed_ips": []any{map[string]any{"subnet_id": subA1, "ip_address": "10.1.0.15"}}}})
	if r.Status != 409 || r.ErrorType() != "IpAddressAlreadyAllocated" {
		t.Errorf("an imported port's address: %d %s, want 409 IpAddressAlreadyAllocated", r.Status, r.Raw)
	}
	r = testutil.Do(t, "POST", base+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netA1, "mac_address": "fa:16:3e:11:22:33"}})
	if r.Status != 409 || r.ErrorType() != "MacAddressInUse" {
		t.Errorf("an imported port's MAC: %d %s, want 409 MacAddressInUse", r.Status, r.Raw)
	}
	// new resources next to the imported ones
	p := testutil.Do(t, "POST", base+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": netA1,
		"project_id": web["project_id"], "fixed_ips": []any{map[string]any{"subnet_id": subA1}}}}).Expect(t, 201).Obj("port")
	if ip := p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"]; ip == "10.1.0.15" {
		t.Errorf("a new port got an imported port's address %v", ip)
	}
	testutil.Do(t, "POST", base+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "new"}}).Expect(t, 201)
	rule := testutil.Do(t, "POST", base+"/v2.0/security-group-rules", map[string]any{"security_group_rule": map[string]any{
		"security_group_id": web["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 8080, "port_range_max": 8080}}).
		Expect(t, 201).Obj("security_group_rule")
	if rule["revision_number"] != float64(0) {
		t.Errorf("new rule: %v", rule)
	}
	// the project's default group was imported: no second one
	groups := testutil.Do(t, "GET", base+"/v2.0/security-groups?name=default&project_id="+web["project_id"].(string), nil).
		Expect(t, 200).List("security_groups")
	if len(groups) != 1 {
		t.Errorf("project %v has %d default security groups after the import", web["project_id"], len(groups))
	}
	// updates continue the imported revision numbers
	before := byName("networks", "networks", "net-a1")["revision_number"].(float64)
	n := testutil.Do(t, "PUT", base+"/v2.0/networks/"+netA1, map[string]any{"network": map[string]any{"description": "updated"}}).
		Expect(t, 200).Obj("network")
	if n["revision_number"] != before+1 {
		t.Errorf("update of an imported network: revision %v, want %v", n["revision_number"], before+1)
	}
	testutil.Do(t, "DELETE", base+"/v2.0/ports/"+p["id"].(string), nil).Expect(t, 204)
}
