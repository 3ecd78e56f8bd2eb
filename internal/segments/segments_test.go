package segments_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

var config = map[string]string{
	"DEFAULT.service_plugins":           "segments",
	"ml2.type_drivers":                  "flat,vlan,vxlan,geneve",
	"ml2_type_flat.flat_networks":       "*",
	"ml2_type_vlan.network_vlan_ranges": "physnet1:100:200",
}

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// TestConcurrentSegments: segments added to one network at once by two
// servers get distinct indexes and distinct tunnel ids; the same vlan id
// twice is one success and one VlanIdInUse.
func TestConcurrentSegments(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL
			b := testutil.StartServer(t, testutil.Options{DB: url, Set: config}).URL
			net := post(t, a+"/v2.0/networks", "network", map[string]any{"name": "n", "mtu": 1400}).Expect(t, 201).Obj("network")["id"]
			var wg sync.WaitGroup
			st := make([]int, 10)
			for i := 0; i < 10; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					base := []string{a, b}[i%2]
					body := map[string]any{"network_id": net, "network_type": "geneve"}
					if i >= 8 {
						body = map[string]any{"network_id": net, "network_type": "vlan", "physical_network": "physnet1", "segmentation_id": 150}
					}
					st[i] = post(t, base+"/v2.0/segments", "segment", body).Status
				}(i)
			}
			wg.Wait()
			for i := 0; i < 8; i++ {
				if st[i] != 201 {
					t.Fatalf("geneve segment %d: %d", i, st[i])
				}
			}
			if st[8]+st[9] != 201+409 {
				t.Fatalf("one vlan id twice: %d and %d", st[8], st[9])
			}
			segs := testutil.Do(t, "GET", a+"/v2.0/segments?network_id="+fmt.Sprint(net), nil).Expect(t, 200).List("segments")
			ids := map[any]bool{}
			for _, s := range segs {
				if s["network_type"] == "geneve" {
					ids[s["segmentation_id"]] = true
				}
			}
			if len(segs) != 10 || len(ids) != 8 {
				t.Fatalf("%d segments, %d distinct geneve ids", len(segs), len(ids))
			}
			n := testutil.Do(t, "GET", a+"/v2.0/networks/"+fmt.Sprint(net), nil).Expect(t, 200).Obj("network")
			if got := len(n["segments"].([]any)); got != 10 {
				t.Fatalf("network shows %d segments", got)
			}
		})
	}
}

// TestSegmentDeleteReleases: a deleted segment's vlan id can be used again,
// and a segment with a subnet cannot be deleted.
func TestSegmentDeleteReleases(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: config}).URL
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n"}).Expect(t, 201).Obj("network")["id"]
	seg := post(t, s+"/v2.0/segments", "segment", map[string]any{"network_id": net, "network_type": "vlan",
		"physical_network": "physnet1", "segmentation_id": 120}).Expect(t, 201).Obj("segment")["id"].(string)
	sub := post(t, s+"/v2.0/subnets", "subnet", map[string]any{"network_id": net, "segment_id": seg, "cidr": "10.9.0.0/24",
		"ip_version": 4}).Expect(t, 201).Obj("subnet")["id"].(string)
	if r := testutil.Do(t, "DELETE", s+"/v2.0/segments/"+seg, nil).Expect(t, 409); r.ErrorType() != "SegmentInUse" {
		t.Fatalf("delete with subnet: %s", r.Raw)
	}
	testutil.Do(t, "DELETE", s+"/v2.0/subnets/"+sub, nil).Expect(t, 204)
	testutil.Do(t, "DELETE", s+"/v2.0/segments/"+seg, nil).Expect(t, 204)
	post(t, s+"/v2.0/networks", "network", map[string]any{"name": "m", "provider:network_type": "vlan",
		"provider:physical_network": "physnet1", "provider:segmentation_id": 120}).Expect(t, 201)
}

// TestSegmentAttributeMap: the attribute map is Neutron's (checked against
// the reference): physical_network and segmentation_id may be left out
// (stored as null) but not sent as null, hosts and segment_index are not
// attributes of the API, tenant_id is filled from the caller.
func TestSegmentAttributeMap(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{Set: config}).URL
	net := post(t, s+"/v2.0/networks", "network", map[string]any{"name": "n", "mtu": 1400}).Expect(t, 201).Obj("network")["id"]
	bad := []struct {
		body     map[string]any
		typ, msg string
	}{
		{map[string]any{"physical_network": nil}, "HTTPBadRequest", "Invalid input for physical_network. Reason: 'None' is not a valid string."},
		{map[string]any{"segmentation_id": nil}, "InvalidInput", "Invalid input for operation: 'None' is not an integer."},
		{map[string]any{"hosts": []any{}}, "HTTPBadRequest", "Unrecognized attribute(s) 'hosts'"},
		{map[string]any{"segment_index": 3}, "HTTPBadRequest", "Unrecognized attribute(s) 'segment_index'"},
	}
	for _, c := range bad {
		body := map[string]any{"network_id": net, "network_type": "vlan"}
		for k, v := range c.body {
			body[k] = v
		}
		r := post(t, s+"/v2.0/segments", "segment", body).Expect(t, 400)
		if r.ErrorType() != c.typ || errMsg(r) != c.msg {
			t.Errorf("%v: %s", c.body, r.Raw)
		}
	}
	seg := post(t, s+"/v2.0/segments", "segment", map[string]any{"network_id": net, "network_type": "geneve"}).Expect(t, 201).Obj("segment")
	if seg["name"] != nil || seg["physical_network"] != nil || seg["segmentation_id"] == nil {
		t.Fatalf("geneve segment without name and physical network: %v", seg)
	}
	if _, ok := seg["tenant_id"]; ok {
		t.Fatalf("tenant_id is not visible: %v", seg)
	}
	if r := testutil.Do(t, "GET", s+"/v2.0/segments?segment_index=0", nil).Expect(t, 400); errMsg(r) != "['segment_index'] is invalid attribute for filtering" {
		t.Fatalf("segment_index filter: %s", r.Raw)
	}
}

func errMsg(r *testutil.Response) string {
	e, _ := r.Body["NeutronError"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}
