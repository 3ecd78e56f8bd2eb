package autoallocate_test

import (
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func create(t *testing.T, url, key string, obj map[string]any) map[string]any {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj}).Expect(t, 201).Obj(key)
}

// TestConcurrentAllocation: one project's topology asked for at once
// through two servers on every engine: every answer names the same
// network, and the project keeps one network, one subnet and one router
// (the losers' topologies are removed); DELETE removes it all.
func TestConcurrentAllocation(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			set := testutil.ReferenceConfig()
			srv := [2]string{testutil.StartServer(t, testutil.Options{DB: url, Set: set}).URL + "/v2.0",
				testutil.StartServer(t, testutil.Options{DB: url, Set: set}).URL + "/v2.0"}
			ext := create(t, srv[0]+"/networks", "network", map[string]any{"name": "public", "router:external": true, "is_default": true})["id"]
			create(t, srv[0]+"/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "198.51.100.0/24", "ip_version": 4})
			create(t, srv[0]+"/subnetpools", "subnetpool", map[string]any{"name": "pool", "prefixes": []any{"10.199.0.0/16"},
				"default_prefixlen": 26, "is_default": true, "shared": true})
			nets := make([]string, 6)
			var wg sync.WaitGroup
			for i := range nets {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					r := testutil.Do(t, "GET", srv[i%2]+"/auto-allocated-topology/p1", nil)
					if r.Status != 200 {
						t.Errorf("status %d: %s", r.Status, r.Raw)
						return
					}
					nets[i], _ = r.Obj("auto_allocated_topology")["id"].(string)
				}(i)
			}
			wg.Wait()
			for _, n := range nets {
				if n != nets[0] || n == "" {
					t.Fatalf("networks answered: %v", nets)
				}
			}
			count := func(coll string) int {
				return len(testutil.Do(t, "GET", srv[1]+"/"+coll+"?project_id=p1", nil).Expect(t, 200).List(coll))
			}
			if n, s, r := count("networks"), count("subnets"), count("routers"); n != 1 || s != 1 || r != 1 {
				t.Fatalf("project p1 has %d networks, %d subnets, %d routers", n, s, r)
			}
			testutil.Do(t, "DELETE", srv[0]+"/auto-allocated-topology/p1", nil).Expect(t, 204)
			if n, r := count("networks"), count("routers"); n != 0 || r != 0 {
				t.Fatalf("after DELETE: %d networks, %d routers", n, r)
			}
		})
	}
}
