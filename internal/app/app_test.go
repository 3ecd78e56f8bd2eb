package app_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestNetworksOnEveryEngine runs the network lifecycle on SQLite,
// PostgreSQL and MySQL/MariaDB.
func TestNetworksOnEveryEngine(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			u := s.URL + "/v2.0/networks"
			n := testutil.Do(t, "POST", u, map[string]any{"network": map[string]any{"name": "n1", "shared": true}}).Expect(t, 201).Obj("network")
			if n["name"] != "n1" || n["shared"] != true || n["mtu"] != float64(1450) || n["provider:network_type"] != "vxlan" {
				t.Fatalf("unexpected network: %v", n)
			}
			id := n["id"].(string)
			testutil.Do(t, "PUT", u+"/"+id, map[string]any{"network": map[string]any{"name": "n2", "shared": false}}).Expect(t, 200)
			got := testutil.Do(t, "GET", u+"/"+id, nil).Expect(t, 200).Obj("network")
			if got["name"] != "n2" || got["shared"] != false || got["revision_number"] != float64(2) {
				t.Fatalf("after update: %v", got)
			}
			testutil.Do(t, "PUT", u+"/"+id+"/tags/blue", nil).Expect(t, 201)
			if l := testutil.Do(t, "GET", u+"?tags=blue", nil).Expect(t, 200).List("networks"); len(l) != 1 {
				t.Fatalf("tag filter: %d networks", len(l))
			}
			bulk := map[string]any{"networks": []any{map[string]any{"name": "b1"}, map[string]any{"name": "b2"}}}
			if l := testutil.Do(t, "POST", u, bulk).Expect(t, 201).List("networks"); len(l) != 2 {
				t.Fatalf("bulk: %d networks", len(l))
			}
			page := testutil.Do(t, "GET", u+"?limit=2&sort_key=name&sort_dir=asc", nil).Expect(t, 200)
			if l := page.List("networks"); len(l) != 2 || l[0]["name"] != "b1" || l[1]["name"] != "b2" {
				t.Fatalf("page 1: %v", l)
			}
			testutil.Do(t, "DELETE", u+"/"+id, nil).Expect(t, 204)
			testutil.Do(t, "GET", u+"/"+id, nil).Expect(t, 404)
		})
	}
}

// TestParallelNetworkCreatesGetDistinctVNIs checks VNI allocation under
// concurrent creates on every engine.
func TestParallelNetworkCreatesGetDistinctVNIs(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t), Set: map[string]string{"ml2_type_vxlan.vni_ranges": "100:139"}})
			var wg sync.WaitGroup
			var mu sync.Mutex
			vnis := map[float64]bool{}
			codes := map[int]int{}
			for i := 0; i < 48; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					r := testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": fmt.Sprint(i)}})
					mu.Lock()
					defer mu.Unlock()
					codes[r.Status]++
					if r.Status == 201 {
						v := r.Obj("network")["provider:segmentation_id"].(float64)
						if vnis[v] {
							t.Errorf("VNI %v given twice", v)
						}
						vnis[v] = true
					}
				}(i)
			}
			wg.Wait()
			if codes[201] != 40 || codes[503] != 8 {
				t.Fatalf("status codes %v, want 40×201 and 8×503", codes)
			}
			for v := range vnis {
				if v < 100 || v > 139 {
					t.Fatalf("VNI %v outside range", v)
				}
			}
		})
	}
}
