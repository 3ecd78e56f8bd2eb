package addressgroup_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// TestAddressGroupRaces: on every engine, concurrent add_addresses of one
// address on two servers add it once (the others: AddressesAlreadyExist,
// and one revision per address added), and a group being deleted while
// rules naming it are created is either deleted with no rule left naming
// it, or in use.
func TestAddressGroupRaces(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			srv := [2]string{testutil.StartServer(t, testutil.Options{DB: url}).URL, testutil.StartServer(t, testutil.Options{DB: url}).URL}
			ag := post(t, srv[0]+"/v2.0/address-groups", "address_group", map[string]any{"name": "g"}).Expect(t, 201).Obj("address_group")["id"].(string)
			st := make([]int, 8)
			var wg sync.WaitGroup
			for i := range st {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					st[i] = testutil.Do(t, "PUT", srv[i%2]+"/v2.0/address-groups/"+ag+"/add_addresses",
						map[string]any{"addresses": []any{"10.0.0.1/24"}}).Status
				}(i)
			}
			wg.Wait()
			ok := 0
			for _, s := range st {
				switch s {
				case 200:
					ok++
				case 400:
				default:
					t.Fatalf("status %d", s)
				}
			}
			r := testutil.Do(t, "GET", srv[0]+"/v2.0/address-groups/"+ag, nil).Expect(t, 200).Obj("address_group")
			if ok != 1 || fmt.Sprint(r["addresses"]) != "[10.0.0.0/24]" {
				t.Fatalf("%d successes, addresses %v", ok, r["addresses"])
			}
			sg := post(t, srv[0]+"/v2.0/security-groups", "security_group", map[string]any{"name": "s"}).Expect(t, 201).Obj("security_group")["id"]
			var del int
			for i := range st {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					if i == 3 {
						del = testutil.Do(t, "DELETE", srv[1]+"/v2.0/address-groups/"+ag, nil).Status
						return
					}
					post(t, srv[i%2]+"/v2.0/security-group-rules", "security_group_rule", map[string]any{
						"security_group_id": sg, "direction": "ingress", "protocol": "tcp", "port_range_min": 100 + i,
						"port_range_max": 100 + i, "remote_address_group_id": ag})
				}(i)
			}
			wg.Wait()
			rules := testutil.Do(t, "GET", srv[0]+"/v2.0/security-group-rules?remote_address_group_id="+ag, nil).Expect(t, 200).List("security_group_rules")
			if del == 204 && len(rules) > 0 {
				t.Fatalf("group deleted with %d rules naming it", len(rules))
			}
			if del != 204 && del != 409 {
				t.Fatalf("delete answered %d", del)
			}
		})
	}
}
