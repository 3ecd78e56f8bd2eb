package rbac_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

const missing = "11111111-1111-1111-1111-111111111111"

func netRev(c client, id string) (rev float64, shared, external bool) {
	c.t.Helper()
	n := c.do("GET", "/networks/"+id, nil).Expect(c.t, 200).Obj("network")
	return n["revision_number"].(float64), n["shared"] == true, n["router:external"] == true
}

// TestCreateValidation covers the create path as the (noauth) admin:
// object_type, action, missing objects and duplicates, with Neutron's
// answers.
func TestCreateValidation(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{})
	c := client{t: t, base: s.URL}
	net := c.network("n", "tenant_id", "projA")["id"].(string)
	post := func(typ, obj, action, target string) *testutil.Response {
		return c.do("POST", "/rbac-policies", policyBody(typ, obj, action, target))
	}
	expectError(t, post("Networkx", net, "access_as_shared", "projB"), 400, "InvalidInput",
		"Invalid input for operation: 'Networkx' is not a valid RBAC object type.", false)
	expectError(t, post(" NETWORK ", net, "access_as_sharedx", "projB"), 400, "InvalidActionForType",
		"Invalid action 'access_as_sharedx' for object type 'network'. Valid actions: ('access_as_shared', 'access_as_external')", false)
	expectError(t, post("network", "x", "access_as_shared", "projB"), 400, "HTTPBadRequest",
		"Invalid input for object_id. Reason: 'x' is not a valid UUID.", false)
	r := c.do("POST", "/rbac-policies", map[string]any{"rbac_policy": map[string]any{"object_type": "network", "object_id": net, "action": "access_as_shared"}})
	expectError(t, r, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'target_tenant' not specified", false)
	expectError(t, post("network", missing, "access_as_shared", "projB"), 400, "InvalidInput",
		"Invalid input for operation: Callback neutron.plugins.ml2.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-749001 failed with \"Network "+missing+" could not be found.\",", true)
	expectError(t, post("network", missing, "access_as_external", "projB"), 400, "InvalidInput",
		"_process_ext_policy_create-691369 failed with \"Network "+missing+" could not be found.\".", true)
	// a Neutron type nothing registers has no objects
	expectError(t, post("address_group", missing, "access_as_shared", "projB"), 400, "InvalidInput",
		"Callback neutron.objects.address_group.RbacNeutronDbObjectMixin.validate_rbac_policy_change-", true)

	p := c.do("POST", "/rbac-policies", policyBody(" NETWORK ", net, "access_as_shared", "projB")).Expect(t, 201).Obj("rbac_policy")
	want := map[string]any{"object_type": "network", "object_id": net, "action": "access_as_shared", "target_tenant": "projB",
		"tenant_id": "fake_project_id", "project_id": "fake_project_id"}
	for k, v := range want {
		if p[k] != v {
			t.Fatalf("%s = %v, want %v (%v)", k, p[k], v, p)
		}
	}
	if len(p) != 7 {
		t.Fatalf("attributes: %v", p)
	}
	expectError(t, post("network", net, "access_as_shared", "projB"), 409, "DuplicateRbacPolicy",
		"An RBAC policy already exists with those values.", false)
	expectError(t, c.do("GET", "/rbac-policies/"+missing, nil), 404, "RbacPolicyNotFound",
		"RBAC policy of type unknown with ID "+missing+" not found", false)

	// list: filters, no sort keys, no pagination
	if l := c.do("GET", "/rbac-policies?object_type=NETWORK&target_tenant=projB&fields=id", nil).Expect(t, 200).List("rbac_policies"); len(l) != 1 || len(l[0]) != 1 {
		t.Fatalf("filtered list: %v", l)
	}
	expectError(t, c.do("GET", "/rbac-policies?object_type=bogus", nil), 400, "InvalidInput",
		"Invalid input for operation: 'bogus' is not a valid RBAC object type.", false)
	expectError(t, c.do("GET", "/rbac-policies?sort_key=id&sort_dir=asc", nil), 400, "HTTPBadRequest",
		"['id'] is invalid attribute for sort_keys", false)
	expectError(t, c.do("GET", "/rbac-policies?target_project=projB", nil), 400, "HTTPBadRequest",
		"['target_project'] is invalid attribute for filtering", false)
	c.share(net, "access_as_shared", "projC")
	page := c.do("GET", "/rbac-policies?limit=1", nil).Expect(t, 200)
	if len(page.List("rbac_policies")) != 2 || page.Body["rbac_policies_links"] != nil {
		t.Fatalf("limit is ignored: %s", page.Raw)
	}

	// quota (rbac_policy, per project)
	c.do("PUT", "/quotas/projQ", map[string]any{"quota": map[string]any{"rbac_policy": 1}}).Expect(t, 200)
	c.share(net, "access_as_shared", "projD", "tenant_id", "projQ")
	expectError(t, c.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", "projE", "tenant_id", "projQ")),
		409, "OverQuota", "Quota exceeded for resources: ['rbac_policy'].", false)
}

// TestNetworkEffects checks what policies do to the network: shared,
// router:external, revision numbers, and the update/delete refusals.
func TestNetworkEffects(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{})
	c := client{t: t, base: s.URL}
	net := c.network("n", "tenant_id", "projA")["id"].(string)
	if rev, sh, ext := netRev(c, net); rev != 1 || sh || ext {
		t.Fatalf("new network: rev %v shared %v external %v", rev, sh, ext)
	}
	// a wildcard access_as_shared entry makes the network shared
	w := c.share(net, "access_as_shared", "*", "tenant_id", "projA")
	if rev, sh, _ := netRev(c, net); rev != 2 || !sh {
		t.Fatalf("after wildcard share: rev %v shared %v", rev, sh)
	}
	c.do("DELETE", "/rbac-policies/"+w["id"].(string), nil).Expect(t, 204)
	if rev, sh, _ := netRev(c, net); rev != 3 || sh {
		t.Fatalf("after unshare: rev %v shared %v", rev, sh)
	}
	// access_as_external to one project makes the network external (the
	// externalnetworks row and the entry each revise it)
	e := c.share(net, "access_as_external", "projE", "tenant_id", "projA")
	if rev, _, ext := netRev(c, net); rev != 5 || !ext {
		t.Fatalf("after external entry: rev %v external %v", rev, ext)
	}
	if l := c.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies"); len(l) != 1 {
		t.Fatalf("no wildcard entry is added: %v", l)
	}
	// updates: a target change, the same target (still a revision), no target
	u := c.do("PUT", "/rbac-policies/"+e["id"].(string), map[string]any{"rbac_policy": map[string]any{"target_tenant": "projF"}}).Expect(t, 200).Obj("rbac_policy")
	if u["target_tenant"] != "projF" {
		t.Fatalf("update: %v", u)
	}
	c.do("PUT", "/rbac-policies/"+e["id"].(string), map[string]any{"rbac_policy": map[string]any{"target_tenant": "projF"}}).Expect(t, 200)
	if rev, _, _ := netRev(c, net); rev != 7 {
		t.Fatalf("after two updates: rev %v", rev)
	}
	r := c.do("PUT", "/rbac-policies/"+e["id"].(string), map[string]any{"rbac_policy": map[string]any{}})
	expectError(t, r, 409, "RbacPolicyInUse", "RBAC policy on object "+net+" cannot be removed because other objects depend on it.\nDetails: "+
		"Callback neutron.objects.network.RbacNeutronDbObjectMixin.validate_rbac_policy_change-8765727729370 failed with \"'target_project'\","+
		"Callback neutron.plugins.ml2.plugin.External_net_db_mixin._validate_ext_not_in_use_by_tenant-691383 failed with \"'target_project'\"", false)
	expectError(t, c.do("PUT", "/rbac-policies/"+e["id"].(string), map[string]any{"rbac_policy": map[string]any{"action": "access_as_shared"}}),
		400, "HTTPBadRequest", "Cannot update read-only attribute action", false)
	// the last access_as_external entry gone, the network is internal again
	c.do("DELETE", "/rbac-policies/"+e["id"].(string), nil).Expect(t, 204)
	if rev, _, ext := netRev(c, net); rev != 9 || ext {
		t.Fatalf("after external entry deleted: rev %v external %v", rev, ext)
	}

	// a default external network keeps its wildcard entry
	def := c.network("ext", "router:external", true, "is_default", true)["id"].(string)
	var wid string
	for _, p := range c.do("GET", "/rbac-policies?object_id="+def, nil).Expect(t, 200).List("rbac_policies") {
		wid = p["id"].(string)
	}
	r = c.do("DELETE", "/rbac-policies/"+wid, nil)
	expectError(t, r, 409, "RbacPolicyInUse", "Details: Callback neutron.plugins.ml2.plugin.External_net_db_mixin._validate_ext_not_in_use_by_tenant-691383 failed with "+
		"\"RBAC policy on object "+def+" cannot be removed because other objects depend on it.\nDetails: Default external networks must be shared to everyone.\"", true)
	// making the network internal removes every access_as_external entry
	c.share(def, "access_as_external", "projX")
	c.do("PUT", "/networks/"+def, map[string]any{"network": map[string]any{"router:external": false}}).Expect(t, 200)
	if l := c.do("GET", "/rbac-policies?object_id="+def, nil).Expect(t, 200).List("rbac_policies"); len(l) != 0 {
		t.Fatalf("entries left on an internal network: %v", l)
	}
	// deleting a network deletes its policies
	c.share(net, "access_as_shared", "projB")
	c.do("DELETE", "/networks/"+net, nil).Expect(t, 204)
	if l := c.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies"); len(l) != 0 {
		t.Fatalf("entries left on a deleted network: %v", l)
	}
}

// TestInUse checks that a project keeps the access its ports depend on
// (policy delete and target update), and the unshare rule of networks
// (ports and subnets).
func TestInUse(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{})
	c := client{t: t, base: s.URL}
	if r := c.do("GET", "/ports", nil); r.Status != 200 {
		t.Skip("no ports in this build")
	}
	net := c.network("netname", "tenant_id", "projA")["id"].(string)
	pb := c.share(net, "access_as_shared", "projB", "tenant_id", "projA")["id"].(string)
	c.do("POST", "/ports", map[string]any{"port": map[string]any{"network_id": net, "tenant_id": "projB"}}).Expect(t, 201)
	inUse := "RBAC policy on object " + net + " cannot be removed because other objects depend on it.\nDetails: " +
		"Callback neutron.plugins.ml2.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-749001 failed with " +
		"\"Unable to reconfigure sharing settings for network " + net + ". Multiple tenants are using it.\","
	expectError(t, c.do("DELETE", "/rbac-policies/"+pb, nil), 409, "RbacPolicyInUse", inUse, true)
	for _, target := range []string{"projZ", "*"} {
		expectError(t, c.do("PUT", "/rbac-policies/"+pb, map[string]any{"rbac_policy": map[string]any{"target_tenant": target}}), 409, "RbacPolicyInUse", inUse, true)
	}
	c.do("PUT", "/rbac-policies/"+pb, map[string]any{"rbac_policy": map[string]any{"target_tenant": "projB"}}).Expect(t, 200)
	// with a wildcard entry projB's own entry can go, then the wildcard cannot
	w := c.share(net, "access_as_shared", "*", "tenant_id", "projA")["id"].(string)
	c.do("DELETE", "/rbac-policies/"+pb, nil).Expect(t, 204)
	expectError(t, c.do("DELETE", "/rbac-policies/"+w, nil), 409, "RbacPolicyInUse", inUse, true)
	// shared=false: the same rule, as InvalidSharedSetting naming the network
	unshare := map[string]any{"network": map[string]any{"shared": false}}
	expectError(t, c.do("PUT", "/networks/"+net, unshare), 409, "InvalidSharedSetting",
		"Unable to reconfigure sharing settings for network netname. Multiple tenants are using it.", false)
	pb = c.share(net, "access_as_shared", "projB", "tenant_id", "projA")["id"].(string)
	c.do("PUT", "/networks/"+net, unshare).Expect(t, 200)
	if _, sh, _ := netRev(c, net); sh {
		t.Fatal("still shared")
	}
	// the owner's own ports never count
	c.do("POST", "/ports", map[string]any{"port": map[string]any{"network_id": net, "tenant_id": "projA"}}).Expect(t, 201)
	c.do("PUT", "/networks/"+net, map[string]any{"network": map[string]any{"shared": true}}).Expect(t, 200)
	c.do("PUT", "/networks/"+net, unshare).Expect(t, 200)

	// subnets count for shared=false, not for policies (as in Neutron)
	if r := c.do("GET", "/subnets", nil); r.Status != 200 {
		return
	}
	n2 := c.network("n2", "tenant_id", "projA", "shared", true)["id"].(string)
	pc := c.share(n2, "access_as_shared", "projC", "tenant_id", "projA")["id"].(string)
	c.do("POST", "/subnets", map[string]any{"subnet": map[string]any{"network_id": n2, "tenant_id": "projC",
		"cidr": "10.9.0.0/24", "ip_version": 4, "enable_dhcp": false}}).Expect(t, 201)
	c.do("DELETE", "/rbac-policies/"+pc, nil).Expect(t, 204)
	expectError(t, c.do("PUT", "/networks/"+n2, unshare), 409, "InvalidSharedSetting",
		"Unable to reconfigure sharing settings for network n2. Multiple tenants are using it.", false)
}

// TestMember runs the member's view against a fake Keystone: project pA
// owns a network shared with pB (access_as_shared) and pC
// (access_as_external); pD has nothing.
func TestMember(t *testing.T) {
	t.Parallel()
	ks := fakeKeystone(t, map[string]identity{
		"admin": {"admin", []string{"admin", "member", "reader"}},
		"A":     {"pA", []string{"member", "reader"}},
		"B":     {"pB", []string{"member", "reader"}},
		"C":     {"pC", []string{"member", "reader"}},
		"D":     {"pD", []string{"member", "reader"}},
	})
	s := keystoneServer(t, ks, "")
	memberScenario(t, client{t: t, base: s.URL}, map[string]string{"admin": "admin", "A": "A", "B": "B", "C": "C", "D": "D"},
		map[string]string{"B": "pB", "C": "pC", "D": "pD"})
}

// memberScenario needs tokens for admin and members of projects A, B, C,
// D (projects: their ids).
func memberScenario(t *testing.T, c client, tok, projects map[string]string) {
	a, b, cc, d, admin := c.as(tok["A"]), c.as(tok["B"]), c.as(tok["C"]), c.as(tok["D"]), c.as(tok["admin"])
	net := a.network("rbac-member-net")["id"].(string)
	pol := a.share(net, "access_as_shared", projects["B"])
	if pol["project_id"] != a.do("GET", "/networks/"+net, nil).Obj("network")["project_id"] {
		t.Fatalf("policy project: %v", pol)
	}
	pid := pol["id"].(string)
	expectError(t, a.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", "*")), 403, "PolicyNotAuthorized",
		"((((rule:create_rbac_policy and rule:create_rbac_policy:object_type) and rule:create_rbac_policy:object_id) and rule:create_rbac_policy:target_tenant) and rule:create_rbac_policy:action) is disallowed by policy", false)
	a.share(net, "access_as_external", projects["C"])

	// the target sees the network (shared for B, external for C), not the policies
	for _, x := range []struct {
		c              client
		shared, extern bool
	}{{b, true, true}, {cc, false, true}} {
		n := x.c.do("GET", "/networks/"+net, nil).Expect(t, 200).Obj("network")
		if n["shared"] != x.shared || n["router:external"] != x.extern {
			t.Fatalf("network as a target: %v", n)
		}
		if l := x.c.do("GET", "/networks?id="+net, nil).Expect(t, 200).List("networks"); len(l) != 1 {
			t.Fatalf("list as a target: %v", l)
		}
		if l := x.c.do("GET", "/rbac-policies", nil).Expect(t, 200).List("rbac_policies"); len(l) != 0 {
			t.Fatalf("target lists policies: %v", l)
		}
	}
	expectError(t, d.do("GET", "/networks/"+net, nil), 404, "NetworkNotFound", "Network "+net+" could not be found.", false)
	if l := d.do("GET", "/networks?id="+net, nil).Expect(t, 200).List("networks"); len(l) != 0 {
		t.Fatalf("outsider lists the network: %v", l)
	}
	if l := b.do("GET", "/networks?id="+net+"&shared=true", nil).Expect(t, 200).List("networks"); len(l) != 1 {
		t.Fatalf("shared filter as B: %v", l)
	}
	if l := cc.do("GET", "/networks?id="+net+"&shared=true", nil).Expect(t, 200).List("networks"); len(l) != 0 {
		t.Fatalf("shared filter as C: %v", l)
	}
	// someone else's policy is not found, whatever the verb
	notFound := "RBAC policy of type unknown with ID " + pid + " not found"
	expectError(t, b.do("GET", "/rbac-policies/"+pid, nil), 404, "RbacPolicyNotFound", notFound, false)
	expectError(t, b.do("PUT", "/rbac-policies/"+pid, map[string]any{"rbac_policy": map[string]any{"target_tenant": "x"}}), 404, "RbacPolicyNotFound", notFound, false)
	expectError(t, b.do("DELETE", "/rbac-policies/"+pid, nil), 404, "RbacPolicyNotFound", notFound, false)
	// only the owner shares a network; one not seen is not found
	expectError(t, b.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", "zzz")), 400, "InvalidInput",
		"Invalid input for operation: Callback neutron.objects.network.RbacNeutronDbObjectMixin.validate_rbac_policy_change-8765727729370 failed with "+
			"\"Invalid input for operation: Only admins can manipulate policies on objects they do not own.\","+
			"Callback neutron.plugins.ml2.plugin.NeutronDbPluginV2.validate_network_rbac_policy_change-749001 failed with "+
			"\"Invalid input for operation: Only admins can manipulate policies on networks they do not own.\",", true)
	expectError(t, cc.do("POST", "/rbac-policies", policyBody("network", net, "access_as_external", "zzz")), 400, "InvalidInput",
		"Callback neutron.plugins.ml2.plugin.External_net_db_mixin._process_ext_policy_create-691369 failed with "+
			"\"Invalid input for operation: Only admins can manipulate policies on networks they do not own.\".", true)
	expectError(t, d.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", "zzz")), 400, "InvalidInput",
		"failed with \"Network "+net+" could not be found.\"", true)
	expectError(t, b.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", "zzz", "tenant_id", "other")), 400, "HTTPBadRequest",
		"Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin or advsvc privileges", false)

	// the owner may retarget, but not to everyone
	expectError(t, a.do("PUT", "/rbac-policies/"+pid, map[string]any{"rbac_policy": map[string]any{"target_tenant": "*"}}), 403, "PolicyNotAuthorized",
		"(rule:update_rbac_policy and rule:update_rbac_policy:target_tenant) is disallowed by policy", false)
	a.do("PUT", "/rbac-policies/"+pid, map[string]any{"rbac_policy": map[string]any{"target_tenant": projects["D"]}}).Expect(t, 200)
	d.do("GET", "/networks/"+net, nil).Expect(t, 200)
	expectError(t, b.do("GET", "/networks/"+net, nil), 404, "NetworkNotFound", "Network "+net+" could not be found.", false)
	// the admin sees every policy
	if l := admin.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies"); len(l) != 2 {
		t.Fatalf("admin's list: %v", l)
	}
	if l := a.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies"); len(l) != 2 {
		t.Fatalf("owner's list: %v", l)
	}
	a.do("DELETE", "/rbac-policies/"+pid, nil).Expect(t, 204)
	expectError(t, d.do("GET", "/networks/"+net, nil), 404, "NetworkNotFound", "Network "+net+" could not be found.", false)
	a.do("DELETE", "/networks/"+net, nil).Expect(t, 204)
}

// TestParallelCreates races identical creates (exactly one wins), distinct
// ones on one network (all win, each revising the network once) and the
// deletes of two entries a port depends on (one wins) on every engine.
func TestParallelCreates(t *testing.T) {
	t.Parallel()
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			c := client{t: t, base: s.URL}
			net := c.network("race", "tenant_id", "projA")["id"].(string)
			const n = 8
			race := func(target func(i int) string) map[int]int {
				var wg sync.WaitGroup
				var mu sync.Mutex
				codes := map[int]int{}
				for i := 0; i < n; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						r := c.do("POST", "/rbac-policies", policyBody("network", net, "access_as_shared", target(i), "tenant_id", "projA"))
						if r.Status == 409 && r.ErrorType() != "DuplicateRbacPolicy" {
							t.Errorf("409 %s", r.Raw)
						}
						mu.Lock()
						codes[r.Status]++
						mu.Unlock()
					}(i)
				}
				wg.Wait()
				return codes
			}
			if codes := race(func(int) string { return "projB" }); codes[201] != 1 || codes[409] != n-1 {
				t.Fatalf("identical creates: %v", codes)
			}
			if codes := race(func(i int) string { return fmt.Sprint("p", i) }); codes[201] != n {
				t.Fatalf("distinct creates: %v", codes)
			}
			if rev, _, _ := netRev(c, net); rev != 2+n {
				t.Fatalf("network revision %v, want %d", rev, 2+n)
			}
			if l := c.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies"); len(l) != n+1 {
				t.Fatalf("%d policies", len(l))
			}
			// projB's port needs one of two entries: deleting both at once
			// leaves exactly one
			if r := c.do("POST", "/ports", map[string]any{"port": map[string]any{"network_id": net, "tenant_id": "projB"}}); r.Status != 201 {
				return // no ports in this build
			}
			var ids []string
			for _, p := range c.do("GET", "/rbac-policies?object_id="+net+"&target_tenant=projB", nil).List("rbac_policies") {
				ids = append(ids, p["id"].(string))
			}
			ids = append(ids, c.share(net, "access_as_shared", "*", "tenant_id", "projA")["id"].(string))
			for round := 0; round < 3; round++ {
				var wg sync.WaitGroup
				codes := make([]int, 2)
				for i := range ids {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						codes[i] = c.do("DELETE", "/rbac-policies/"+ids[i], nil).Status
					}(i)
				}
				wg.Wait()
				if codes[0]+codes[1] != 204+409 {
					t.Fatalf("parallel deletes: %v", codes)
				}
				if codes[0] == 204 {
					ids[0] = c.share(net, "access_as_shared", "projB", "tenant_id", "projA")["id"].(string)
				} else {
					ids[1] = c.share(net, "access_as_shared", "*", "tenant_id", "projA")["id"].(string)
				}
			}
		})
	}
}

// TestNetworkAttributes: shared and router:external on create are
// wildcard entries of the network's owner.
func TestNetworkAttributes(t *testing.T) {
	t.Parallel()
	s := testutil.StartServer(t, testutil.Options{})
	c := client{t: t, base: s.URL}
	net := c.network("n", "shared", true, "router:external", true, "tenant_id", "projA")["id"].(string)
	l := c.do("GET", "/rbac-policies?object_id="+net, nil).Expect(t, 200).List("rbac_policies")
	if len(l) != 2 {
		t.Fatalf("policies: %v", l)
	}
	for _, p := range l {
		if p["object_type"] != "network" || !strings.HasPrefix(p["action"].(string), "access_as_") || p["target_tenant"] != "*" || p["project_id"] != "projA" {
			t.Fatalf("policy: %v", p)
		}
	}
}
