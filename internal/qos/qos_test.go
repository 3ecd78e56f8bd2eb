package qos_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// qosConfig is the reference's configuration: the qos service plugin and
// ML2 extension driver with the openvswitch QoS driver.
var qosConfig = map[string]string{
	"DEFAULT.service_plugins": "qos",
	"ml2.extension_drivers":   "port_security,dns,qos",
	"ml2.mechanism_drivers":   "openvswitch",
}

func servers(t *testing.T, url string) (string, string) {
	s1 := testutil.StartServer(t, testutil.Options{DB: url, Set: qosConfig})
	s2 := testutil.StartServer(t, testutil.Options{DB: url, Set: qosConfig})
	return s1.URL, s2.URL
}

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// race runs n requests at once, alternating between two servers.
func race(n int, base [2]string, f func(i int, base string) *testutil.Response) []*testutil.Response {
	out := make([]*testutil.Response, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out[i] = f(i, base[i%2])
		}(i)
	}
	wg.Wait()
	return out
}

func statuses(rs []*testutil.Response) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		m[r.Status]++
	}
	return m
}

// TestOneDefaultPolicyPerProject: concurrent creates of a project's
// default policy on two servers: one wins, the others are
// QoSPolicyDefaultAlreadyExists, and no half-created policy remains.
func TestOneDefaultPolicyPerProject(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			a, b := servers(t, e.URL(t))
			rs := race(12, [2]string{a, b}, func(i int, base string) *testutil.Response {
				return post(t, base+"/v2.0/qos/policies", "policy",
					map[string]any{"name": fmt.Sprint("d", i), "is_default": true, "project_id": "p-def"})
			})
			st := statuses(rs)
			if st[201] != 1 || st[409] != 11 {
				t.Fatalf("statuses %v, want one 201 and eleven 409", st)
			}
			for _, r := range rs {
				if r.Status == 409 && r.ErrorType() != "QoSPolicyDefaultAlreadyExists" {
					t.Fatalf("409 of type %s", r.ErrorType())
				}
			}
			l := testutil.Do(t, "GET", a+"/v2.0/qos/policies?project_id=p-def", nil).Expect(t, 200).List("policies")
			if len(l) != 1 || l[0]["is_default"] != true {
				t.Fatalf("policies of the project: %v", l)
			}
		})
	}
}

// TestOneRulePerDirection: concurrent bandwidth-limit rules of one
// direction on one policy: one is created, the others conflict.
func TestOneRulePerDirection(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			a, b := servers(t, e.URL(t))
			pol := post(t, a+"/v2.0/qos/policies", "policy", map[string]any{"name": "p"}).Expect(t, 201).Obj("policy")["id"].(string)
			rs := race(10, [2]string{a, b}, func(i int, base string) *testutil.Response {
				return post(t, base+"/v2.0/qos/policies/"+pol+"/bandwidth_limit_rules", "bandwidth_limit_rule",
					map[string]any{"max_kbps": 1000 + i, "direction": "ingress"})
			})
			st := statuses(rs)
			if st[201] != 1 || st[409] != 9 {
				t.Fatalf("statuses %v, want one 201 and nine 409", st)
			}
			got := testutil.Do(t, "GET", a+"/v2.0/qos/policies/"+pol, nil).Expect(t, 200).Obj("policy")
			if rules := got["rules"].([]any); len(rules) != 1 {
				t.Fatalf("rules %v", rules)
			}
			if got["revision_number"] != float64(1) {
				t.Fatalf("revision %v, want 1 (one successful rule change)", got["revision_number"])
			}
		})
	}
}

// TestDeleteRacesBinding: deleting a policy while ports are created with
// it leaves either the policy with its bound ports, or no policy and no
// port bound to a missing one.
func TestDeleteRacesBinding(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			a, b := servers(t, e.URL(t))
			net := post(t, a+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"].(string)
			pol := post(t, a+"/v2.0/qos/policies", "policy", map[string]any{"name": "p"}).Expect(t, 201).Obj("policy")["id"].(string)
			rs := race(10, [2]string{a, b}, func(i int, base string) *testutil.Response {
				if i == 5 {
					return testutil.Do(t, "DELETE", base+"/v2.0/qos/policies/"+pol, nil)
				}
				return post(t, base+"/v2.0/ports", "port", map[string]any{"network_id": net, "qos_policy_id": pol})
			})
			deleted := rs[5].Status == 204
			ports := testutil.Do(t, "GET", a+"/v2.0/ports?network_id="+net+"&fields=qos_policy_id", nil).Expect(t, 200).List("ports")
			for _, p := range ports {
				if deleted && p["qos_policy_id"] != nil {
					t.Fatalf("port bound to the deleted policy %s", pol)
				}
			}
			if !deleted && rs[5].ErrorType() != "QosPolicyInUse" {
				t.Fatalf("delete answered %d %s", rs[5].Status, rs[5].Raw)
			}
			if deleted && len(ports) != 0 {
				// ports created before the delete would have made it fail
				t.Fatalf("policy deleted with %d ports created", len(ports))
			}
		})
	}
}

// TestPolicyEdgeCases: answers that are no 500 where Neutron's are.
func TestPolicyEdgeCases(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: qosConfig})
	pol := post(t, s.URL+"/v2.0/qos/policies", "policy", map[string]any{"name": "p"}).Expect(t, 201).Obj("policy")["id"].(string)
	testutil.Do(t, "GET", s.URL+"/v2.0/qos/alias_bandwidth_limit_rules", nil).Expect(t, 404)
	testutil.Do(t, "GET", s.URL+"/v2.0/qos/rule-types/bogus", nil).Expect(t, 404)
	r := testutil.Do(t, "PUT", s.URL+"/v2.0/qos/policies/"+pol, map[string]any{"policy": map[string]any{"is_default": true}}).Expect(t, 200)
	if r.Obj("policy")["revision_number"] != float64(1) || r.Obj("policy")["is_default"] != true {
		t.Fatalf("default policy %v", r.Obj("policy"))
	}
	// a network of the project gets it; a port does not
	n := post(t, s.URL+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")
	if n["qos_policy_id"] != pol {
		t.Fatalf("network policy %v, want the default %s", n["qos_policy_id"], pol)
	}
	p := post(t, s.URL+"/v2.0/ports", "port", map[string]any{"network_id": n["id"]}).Expect(t, 201).Obj("port")
	if p["qos_policy_id"] != nil || p["qos_network_policy_id"] != pol {
		t.Fatalf("port %v", p)
	}
	if r := testutil.Do(t, "DELETE", s.URL+"/v2.0/qos/policies/"+pol, nil).Expect(t, 409); r.ErrorType() != "QosPolicyInUse" {
		t.Fatalf("delete: %s", r.Raw)
	}
}
