package quota_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestPortQuotaExactUnderConcurrency: with a quota of 10 ports, 64
// parallel port creates spread over two neutrino servers sharing one
// database leave exactly 10 ports; the others get 409 OverQuota.
func TestPortQuotaExactUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url})
			b := testutil.StartServer(t, testutil.Options{DB: url})
			net := testutil.Do(t, "POST", a.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"tenant_id": "pq"}}).Expect(t, 201).Obj("network")
			testutil.Do(t, "POST", a.URL+"/v2.0/subnets", map[string]any{"subnet": map[string]any{
				"network_id": net["id"], "cidr": "10.5.0.0/24", "ip_version": 4, "tenant_id": "pq"}}).Expect(t, 201)
			testutil.Do(t, "PUT", a.URL+"/v2.0/quotas/pq", map[string]any{"quota": map[string]any{"port": 10}}).Expect(t, 200)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					srv := a
					if i%2 == 1 {
						srv = b
					}
					r := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net["id"], "tenant_id": "pq"}})
					mu.Lock()
					codes[r.Status]++
					mu.Unlock()
					if r.Status == 409 && r.ErrorType() != "OverQuota" {
						t.Errorf("409 of type %s", r.ErrorType())
					}
				}(i)
			}
			wg.Wait()
			if codes[201] != 10 || codes[409] != 54 {
				t.Fatalf("codes %v, want 10×201 and 54×409", codes)
			}
			if n := testutil.Do(t, "GET", a.URL+"/v2.0/ports?tenant_id=pq&fields=id", nil).Expect(t, 200).List("ports"); len(n) != 10 {
				t.Fatalf("%d ports exist, want 10", len(n))
			}
		})
	}
}

// TestQuotaExactUnderConcurrency: with a quota of 10 networks, 64 parallel
// creates spread over two neutrino servers sharing one database leave
// exactly 10 networks; the others get 409 OverQuota.
func TestQuotaExactUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url})
			b := testutil.StartServer(t, testutil.Options{DB: url})
			testutil.Do(t, "PUT", a.URL+"/v2.0/quotas/qproj", map[string]any{"quota": map[string]any{"network": 10}}).Expect(t, 200)
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[int]int{}
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					srv := a
					if i%2 == 1 {
						srv = b
					}
					r := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": fmt.Sprint(i), "tenant_id": "qproj"}})
					mu.Lock()
					codes[r.Status]++
					mu.Unlock()
					if r.Status == 409 && r.ErrorType() != "OverQuota" {
						t.Errorf("409 of type %s", r.ErrorType())
					}
				}(i)
			}
			wg.Wait()
			if codes[201] != 10 || codes[409] != 54 {
				t.Fatalf("codes %v, want 10×201 and 54×409", codes)
			}
			n := testutil.Do(t, "GET", a.URL+"/v2.0/networks?tenant_id=qproj&fields=id", nil).Expect(t, 200).List("networks")
			if len(n) != 10 {
				t.Fatalf("%d networks exist, want 10", len(n))
			}
			d := testutil.Do(t, "GET", a.URL+"/v2.0/quotas/qproj/details", nil).Expect(t, 200).Obj("quota")
			if nd := d["network"].(map[string]any); nd["used"] != float64(10) || nd["limit"] != float64(10) {
				t.Fatalf("details: %v", nd)
			}
		})
	}
}

// TestQuotaAPI: show/update/delete/default and their errors.
func TestQuotaAPI(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	u := s.URL + "/v2.0/quotas"
	q := testutil.Do(t, "GET", u+"/p1", nil).Expect(t, 200).Obj("quota")
	if q["network"] != float64(100) {
		t.Fatalf("defaults: %v", q)
	}
	if l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("quotas"); len(l) != 0 {
		t.Fatalf("quotas list not empty: %v", l)
	}
	q = testutil.Do(t, "PUT", u+"/p1", map[string]any{"quota": map[string]any{"network": -1}}).Expect(t, 200).Obj("quota")
	if q["network"] != float64(-1) {
		t.Fatalf("after update: %v", q)
	}
	l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("quotas")
	if len(l) != 1 || l[0]["project_id"] != "p1" || l[0]["tenant_id"] != "p1" {
		t.Fatalf("quotas list: %v", l)
	}
	for body, want := range map[string]string{
		`{"quota": {"network": "x"}}`: "Invalid input for operation: 'x' is not an integer.",
		`{"quota": {"foo": 1}}`:       "Unrecognized attribute(s) 'foo'",
		`{"quota": {"network": -5}}`:  "Invalid input for network. Reason: '-5' is too small - must be at least '-1'.",
		`{"nope": {}}`:                "Unable to find 'quota' in request body",
		`[1`:                          "Malformed request body: Cannot understand JSON.", // as the reference answers
	} {
		r := testutil.Do(t, "PUT", u+"/p1", body).Expect(t, 400)
		if m := r.Body["NeutronError"].(map[string]any)["message"]; m != want {
			t.Errorf("%s: message %q, want %q", body, m, want)
		}
	}
	testutil.Do(t, "POST", s.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"tenant_id": "p1"}}).Expect(t, 201)
	r := testutil.Do(t, "PUT", u+"/p1", map[string]any{"quota": map[string]any{"network": 0, "check_limit": true}}).Expect(t, 400)
	if m := r.Body["NeutronError"].(map[string]any)["message"]; m != "Quota limit 0 for network must be greater than or equal to already used 1" {
		t.Fatalf("check_limit: %v", m)
	}
	testutil.Do(t, "DELETE", u+"/p1", nil).Expect(t, 204)
	if q := testutil.Do(t, "GET", u+"/p1", nil).Expect(t, 200).Obj("quota"); q["network"] != float64(100) {
		t.Fatalf("after delete: %v", q)
	}
	if d := testutil.Do(t, "GET", u+"/p1/default", nil).Expect(t, 200).Obj("quota"); d["network"] != float64(100) {
		t.Fatalf("default: %v", d)
	}
	testutil.Do(t, "POST", u, map[string]any{}).Expect(t, 501)
}
