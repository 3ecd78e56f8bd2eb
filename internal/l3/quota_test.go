package l3_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// race posts n creates of key to two servers at once and counts the
// answers (a 409 must be OverQuota).
func race(t *testing.T, n int, urls [2]string, coll, key string, body func(i int) map[string]any) map[int]int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := testutil.Do(t, "POST", urls[i%2]+"/v2.0/"+coll, map[string]any{key: body(i)})
			mu.Lock()
			codes[r.Status]++
			mu.Unlock()
			if r.Status == 409 && r.ErrorType() != "OverQuota" {
				t.Errorf("409 of type %s", r.ErrorType())
			}
		}(i)
	}
	wg.Wait()
	return codes
}

// TestRouterQuotasUnderConcurrency: on every engine, two servers racing
// router and floating IP creates of one project create exactly the
// quota's number, and the refused floating IPs leave no port behind.
func TestRouterQuotasUnderConcurrency(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url, Set: routerConfig}).URL
			b := testutil.StartServer(t, testutil.Options{DB: url, Set: routerConfig}).URL
			testutil.Do(t, "PUT", a+"/v2.0/quotas/qproj", map[string]any{"quota": map[string]any{"router": 3, "floatingip": 4}}).Expect(t, 200)
			codes := race(t, 16, [2]string{a, b}, "routers", "router", func(i int) map[string]any {
				return map[string]any{"name": fmt.Sprint(i), "tenant_id": "qproj"}
			})
			if codes[201] != 3 || codes[409] != 13 {
				t.Fatalf("routers: codes %v, want 3×201 and 13×409", codes)
			}
			ext := post(t, a+"/v2.0/networks", "network", map[string]any{"name": "ext", "router:external": true}).Expect(t, 201).Obj("network")["id"]
			post(t, a+"/v2.0/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "198.51.100.0/24", "ip_version": 4}).Expect(t, 201)
			codes = race(t, 16, [2]string{a, b}, "floatingips", "floatingip", func(i int) map[string]any {
				return map[string]any{"floating_network_id": ext, "tenant_id": "qproj"}
			})
			if codes[201] != 4 || codes[409] != 12 {
				t.Fatalf("floating IPs: codes %v, want 4×201 and 12×409", codes)
			}
			ports := testutil.Do(t, "GET", a+"/v2.0/ports?device_owner=network:floatingip&fields=id", nil).Expect(t, 200).List("ports")
			if len(ports) != 4 {
				t.Fatalf("%d floating IP ports, want 4", len(ports))
			}
			d := testutil.Do(t, "GET", a+"/v2.0/quotas/qproj/details", nil).Expect(t, 200).Obj("quota")
			if r, f := d["router"].(map[string]any), d["floatingip"].(map[string]any); r["used"] != float64(3) || f["used"] != float64(4) {
				t.Fatalf("details: %v %v", r, f)
			}
		})
	}
}

// TestFloatingIPAssociationRace: on every engine, floating IPs racing to
// associate with one fixed IP from two servers: exactly one wins, the
// others get FloatingIPPortAlreadyAssociated, never a 500.
func TestFloatingIPAssociationRace(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url, Set: routerConfig}).URL
			b := testutil.StartServer(t, testutil.Options{DB: url, Set: routerConfig}).URL
			u := a + "/v2.0"
			ext := post(t, u+"/networks", "network", map[string]any{"name": "ext", "router:external": true}).Expect(t, 201).Obj("network")["id"]
			post(t, u+"/subnets", "subnet", map[string]any{"network_id": ext, "cidr": "198.51.100.0/24", "ip_version": 4}).Expect(t, 201)
			net := post(t, u+"/networks", "network", map[string]any{"name": "int"}).Expect(t, 201).Obj("network")["id"]
			sub := post(t, u+"/subnets", "subnet", map[string]any{"network_id": net, "cidr": "10.0.0.0/24", "ip_version": 4}).Expect(t, 201).Obj("subnet")["id"]
			r := post(t, u+"/routers", "router", map[string]any{"external_gateway_info": map[string]any{"network_id": ext}}).Expect(t, 201).Obj("router")["id"]
			testutil.Do(t, "PUT", u+"/routers/"+r.(string)+"/add_router_interface", map[string]any{"subnet_id": sub}).Expect(t, 200)
			port := post(t, u+"/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"]
			var fips []string
			for i := 0; i < 8; i++ {
				fips = append(fips, post(t, u+"/floatingips", "floatingip", map[string]any{"floating_network_id": ext}).Expect(t, 201).Obj("floatingip")["id"].(string))
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			codes := map[string]int{}
			for i, f := range fips {
				wg.Add(1)
				go func(i int, f string) {
					defer wg.Done()
					base := []string{a, b}[i%2]
					resp := testutil.Do(t, "PUT", base+"/v2.0/floatingips/"+f, map[string]any{"floatingip": map[string]any{"port_id": port}})
					mu.Lock()
					codes[fmt.Sprint(resp.Status, resp.ErrorType())]++
					mu.Unlock()
				}(i, f)
			}
			wg.Wait()
			if codes["200"] != 1 || codes["409FloatingIPPortAlreadyAssociated"] != 7 {
				t.Fatalf("codes %v, want one 200 and seven 409 FloatingIPPortAlreadyAssociated", codes)
			}
		})
	}
}
