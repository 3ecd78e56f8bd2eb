package trunk_test

import (
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

var trunkConfig = map[string]string{"DEFAULT.service_plugins": "trunk"}

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

func race(n int, base [2]string, f func(i int, base string) *testutil.Response) map[int]int {
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
	st := map[int]int{}
	for _, r := range out {
		st[r.Status]++
	}
	return st
}

// TestTrunkRaces: on every engine, two servers race (a) trunks on one
// parent port, (b) two trunks adding one sub-port, (c) one trunk adding
// one segmentation for different ports: each time exactly one wins and
// the losers get Neutron's 409s, never a 500.
func TestTrunkRaces(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url, Set: trunkConfig}).URL
			b := testutil.StartServer(t, testutil.Options{DB: url, Set: trunkConfig}).URL
			net := post(t, a+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
			port := func() string {
				return post(t, a+"/v2.0/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"].(string)
			}
			parent := port()
			st := race(8, [2]string{a, b}, func(i int, base string) *testutil.Response {
				return post(t, base+"/v2.0/trunks", "trunk", map[string]any{"port_id": parent})
			})
			if st[201] != 1 || st[409] != 7 {
				t.Fatalf("trunks on one parent: %v", st)
			}
			t1 := post(t, a+"/v2.0/trunks", "trunk", map[string]any{"port_id": port()}).Expect(t, 201).Obj("trunk")["id"].(string)
			t2 := post(t, a+"/v2.0/trunks", "trunk", map[string]any{"port_id": port()}).Expect(t, 201).Obj("trunk")["id"].(string)
			sub := port()
			st = race(8, [2]string{a, b}, func(i int, base string) *testutil.Response {
				tr := []string{t1, t2}[i%2]
				return testutil.Do(t, "PUT", base+"/v2.0/trunks/"+tr+"/add_subports", map[string]any{
					"sub_ports": []any{map[string]any{"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 100 + i}}})
			})
			if st[200] != 1 || st[409] != 7 {
				t.Fatalf("one sub-port on two trunks: %v", st)
			}
			subs := []string{port(), port(), port(), port()}
			st = race(4, [2]string{a, b}, func(i int, base string) *testutil.Response {
				return testutil.Do(t, "PUT", base+"/v2.0/trunks/"+t1+"/add_subports", map[string]any{
					"sub_ports": []any{map[string]any{"port_id": subs[i], "segmentation_type": "vlan", "segmentation_id": 7}}})
			})
			if st[200] != 1 || st[409] != 3 {
				t.Fatalf("one segmentation for four ports: %v", st)
			}
			got := testutil.Do(t, "GET", a+"/v2.0/trunks/"+t1+"/get_subports", nil).Expect(t, 200).List("sub_ports")
			got = append(got, testutil.Do(t, "GET", b+"/v2.0/trunks/"+t2+"/get_subports", nil).Expect(t, 200).List("sub_ports")...)
			if len(got) != 2 {
				t.Fatalf("sub-ports of the trunks: %v, want the raced one and segmentation 7", got)
			}
		})
	}
}

// TestPortDeletionRules: a parent and a sub-port refuse deletion until the
// trunk is gone.
func TestPortDeletionRules(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: trunkConfig}).URL
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
	parent := post(t, s+"/v2.0/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"].(string)
	sub := post(t, s+"/v2.0/ports", "port", map[string]any{"network_id": net}).Expect(t, 201).Obj("port")["id"].(string)
	tr := post(t, s+"/v2.0/trunks", "trunk", map[string]any{"port_id": parent, "sub_ports": []any{
		map[string]any{"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 9}}}).Expect(t, 201).Obj("trunk")["id"].(string)
	if r := testutil.Do(t, "DELETE", s+"/v2.0/ports/"+sub, nil).Expect(t, 409); r.ErrorType() != "PortInUseAsSubPort" {
		t.Fatalf("sub-port delete: %s", r.Raw)
	}
	if r := testutil.Do(t, "DELETE", s+"/v2.0/ports/"+parent, nil).Expect(t, 409); r.ErrorType() != "PortInUseAsTrunkParent" {
		t.Fatalf("parent delete: %s", r.Raw)
	}
	if r := testutil.Do(t, "DELETE", s+"/v2.0/networks/"+net.(string), nil); r.Status != 409 {
		t.Fatalf("network delete with trunk ports: %d %s", r.Status, r.Raw)
	}
	testutil.Do(t, "PUT", s+"/v2.0/trunks/"+tr+"/add_subports", map[string]any{"bogus": 1}).Expect(t, 400)
	testutil.Do(t, "DELETE", s+"/v2.0/trunks/"+tr, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", s+"/v2.0/ports/"+sub, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", s+"/v2.0/ports/"+parent, nil).Expect(t, 204)
}
