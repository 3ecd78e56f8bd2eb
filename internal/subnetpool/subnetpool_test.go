package subnetpool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/netaddr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

func TestScopesAndPools(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	v := s.URL + "/v2.0/"
	as := post(t, v+"address-scopes", "address_scope", map[string]any{"name": "as", "ip_version": 4}).Expect(t, 201).Obj("address_scope")
	if as["shared"] != false || as["ip_version"] != float64(4) {
		t.Fatalf("scope: %v", as)
	}
	asID := as["id"].(string)
	p := post(t, v+"subnetpools", "subnetpool", map[string]any{"name": "p", "prefixes": []any{"10.1.0.0/16", "10.0.0.0/16"},
		"address_scope_id": asID}).Expect(t, 201).Obj("subnetpool")
	if p["default_prefixlen"] != "8" || p["max_prefixlen"] != "32" || fmt.Sprint(p["prefixes"]) != "[10.0.0.0/15]" || p["revision_number"] != float64(0) {
		t.Fatalf("pool: %v", p)
	}
	pid := p["id"].(string)
	r := post(t, v+"subnetpools", "subnetpool", map[string]any{"name": "q", "prefixes": []any{"10.1.128.0/24"}, "address_scope_id": asID}).Expect(t, 409)
	if r.ErrorType() != "AddressScopePrefixConflict" {
		t.Fatalf("overlap in scope: %s", r.Raw)
	}
	testutil.Do(t, "DELETE", v+"address-scopes/"+asID, nil).Expect(t, 409)
	up := testutil.Do(t, "PUT", v+"subnetpools/"+pid, map[string]any{"subnetpool": map[string]any{"default_prefixlen": 24}}).Expect(t, 200).Obj("subnetpool")
	if up["default_prefixlen"] != float64(24) || up["revision_number"] != float64(1) {
		t.Fatalf("update: %v", up)
	}
	if _, ok := up["default_quota"]; ok {
		t.Fatalf("update answers a null default_quota: %v", up)
	}
	add := testutil.Do(t, "PUT", v+"subnetpools/"+pid+"/add_prefixes", map[string]any{"prefixes": []any{"10.2.0.0/16"}}).Expect(t, 200)
	if fmt.Sprint(add.Body["prefixes"]) != "[10.0.0.0/15 10.2.0.0/16]" {
		t.Fatalf("add_prefixes: %s", add.Raw)
	}
	rm := testutil.Do(t, "PUT", v+"subnetpools/"+pid+"/remove_prefixes", map[string]any{"prefixes": []any{"10.0.0.0/16"}}).Expect(t, 200)
	if fmt.Sprint(rm.Body["prefixes"]) != "[10.1.0.0/16 10.2.0.0/16]" {
		t.Fatalf("remove_prefixes: %s", rm.Raw)
	}
	if got := testutil.Do(t, "GET", v+"subnetpools/"+pid, nil).Expect(t, 200).Obj("subnetpool"); got["revision_number"] != float64(2) {
		t.Fatalf("revision after add and remove: %v", got)
	}
	testutil.Do(t, "GET", v+"subnetpools?sort_key=shared&sort_dir=asc", nil).Expect(t, 400)
	testutil.Do(t, "DELETE", v+"subnetpools/"+pid, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", v+"address-scopes/"+asID, nil).Expect(t, 204)
}

// TestOneDefaultPoolPerVersion races default pool creations.
func TestOneDefaultPoolPerVersion(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					r := testutil.Do(t, "POST", s.URL+"/v2.0/subnetpools", map[string]any{"subnetpool": map[string]any{
						"name": fmt.Sprint(i), "prefixes": []any{fmt.Sprintf("10.%d.0.0/16", i)}, "is_default": true}})
					mu.Lock()
					codes[r.Status]++
					mu.Unlock()
				}(i)
			}
			wg.Wait()
			if codes[201] != 1 || codes[400] != 7 {
				t.Fatalf("status codes %v, want one 201 and seven 400", codes)
			}
		})
	}
}

// TestParallelAllocation allocates prefixes from one pool in concurrent
// subnet-create transactions and checks they are disjoint, on every engine.
func TestParallelAllocation(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			v := s.URL + "/v2.0/"
			netID := post(t, v+"networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"].(string)
			poolID := post(t, v+"subnetpools", "subnetpool", map[string]any{"name": "p", "prefixes": []any{"10.0.0.0/20"},
				"default_prefixlen": 24}).Expect(t, 201).Obj("subnetpool")["id"].(string)
			sp := s.App.Env.Plugin("ml2").(*ml2.Plugin).SubnetPoolsComponent()
			ctx := reqctx.With(context.Background(), &reqctx.Context{IsAdmin: true, ProjectID: "p1"})
			const n = 24 // 16 /24s fit
			var wg sync.WaitGroup
			var mu sync.Mutex
			got := map[string]bool{}
			failed := 0
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var cidr string
					err := s.App.DB.Write(ctx, func(tx *db.Tx) error {
						sub := api.Object{"network_id": netID, "subnetpool_id": poolID, "ip_version": int64(4), "project_id": "p1"}
						if err := sp.AllocateSubnet(ctx, tx, sub); err != nil {
							return err
						}
						cidr = sub["cidr"].(string)
						_, err := tx.Exec(ctx, "INSERT INTO subnets (id, project_id, network_id, subnetpool_id, ip_version, cidr, enable_dhcp) VALUES (?, ?, ?, ?, 4, ?, ?)",
							store.NewID(), "p1", netID, poolID, cidr, true)
						return err
					})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						if e, ok := nerr.As(err); !ok || e.Type != "SubnetAllocationError" {
							t.Errorf("allocation: %v", err)
						}
						failed++
						return
					}
					if got[cidr] {
						t.Errorf("%s allocated twice", cidr)
					}
					got[cidr] = true
				}()
			}
			wg.Wait()
			if len(got) != 16 || failed != n-16 {
				t.Fatalf("%d allocations, %d failures", len(got), failed)
			}
			var all []netaddr.Net
			for c := range got {
				nn, _ := netaddr.ParseNet(c)
				all = append(all, nn)
			}
			if c := netaddr.Compact(4, all); len(c) != 1 || c[0].String() != "10.0.0.0/20" {
				t.Fatalf("allocations do not tile the pool: %v", c)
			}
			// the pool is in use now
			testutil.Do(t, "DELETE", v+"subnetpools/"+poolID, nil).Expect(t, 400)
		})
	}
}
