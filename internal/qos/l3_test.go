package qos_test

import (
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestFloatingIPPolicyOutlivesItsPort: a floating IP keeps its QoS policy
// when its port's deletion disassociates it (the router plugin's own
// update, not an API update without qos_policy_id, which clears it); the
// policy stays in use until the floating IP goes.
func TestFloatingIPPolicyOutlivesItsPort(t *testing.T) {
	base := testutil.StartServer(t, testutil.Options{Set: testutil.ReferenceConfig()}).URL + "/v2.0"
	obj := func(url, key string, o map[string]any) map[string]any {
		return post(t, url, key, o).Expect(t, 201).Obj(key)
	}
	pol := obj(base+"/qos/policies", "policy", map[string]any{"name": "p"})["id"].(string)
	ext := obj(base+"/networks", "network", map[string]any{"name": "ext", "router:external": true})["id"]
	obj(base+"/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "203.0.113.0/24", "ip_version": 4})
	net := obj(base+"/networks", "network", map[string]any{"name": "int"})["id"]
	sub := obj(base+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.71.0.0/24", "ip_version": 4})["id"]
	r := obj(base+"/routers", "router", map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext}})["id"].(string)
	testutil.Do(t, "PUT", base+"/routers/"+r+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
	port := obj(base+"/ports", "port", map[string]any{"network_id": net})["id"].(string)
	fip := obj(base+"/floatingips", "floatingip", map[string]any{"floating_network_id": ext, "port_id": port, "qos_policy_id": pol})
	if fip["qos_policy_id"] != pol || fip["port_id"] != port {
		t.Fatalf("floating IP %v", fip)
	}
	testutil.Do(t, "DELETE", base+"/ports/"+port, nil).Expect(t, 204)
	got := testutil.Do(t, "GET", base+"/floatingips/"+fip["id"].(string), nil).Expect(t, 200).Obj("floatingip")
	if got["port_id"] != nil || got["qos_policy_id"] != pol {
		t.Fatalf("after the port's deletion: %v", got)
	}
	if e := testutil.Do(t, "DELETE", base+"/qos/policies/"+pol, nil).Expect(t, 409).ErrorType(); e != "QosPolicyInUse" {
		t.Fatalf("policy delete: %s", e)
	}
	testutil.Do(t, "PUT", base+"/floatingips/"+fip["id"].(string), map[string]any{"floatingip": map[string]any{"description": "d"}}).Expect(t, 200)
	testutil.Do(t, "DELETE", base+"/qos/policies/"+pol, nil).Expect(t, 204)
}
