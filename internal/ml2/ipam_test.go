package ml2_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func mkNet(t *testing.T, base string) string {
	t.Helper()
	return testutil.Do(t, "POST", base+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n"}}).Expect(t, 201).Obj("network")["id"].(string)
}

func mkSubnet(t *testing.T, base string, body map[string]any) map[string]any {
	t.Helper()
	return testutil.Do(t, "POST", base+"/v2.0/subnets", map[string]any{"subnet": body}).Expect(t, 201).Obj("subnet")
}

// createPorts creates n ports on net in parallel, spread over the given
// servers, and returns the status codes and the addresses given.
func createPorts(t *testing.T, bases []string, net string, n int) (map[int]int, []string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	var ips []string
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := testutil.Do(t, "POST", bases[i%len(bases)]+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "name": fmt.Sprint(i)}})
			mu.Lock()
			defer mu.Unlock()
			codes[r.Status]++
			switch r.Status {
			case 201:
				for _, f := range r.Obj("port")["fixed_ips"].([]any) {
					ips = append(ips, f.(map[string]any)["ip_address"].(string))
				}
			case 409:
				if r.ErrorType() != "IpAddressGenerationFailure" || r.Body["NeutronError"].(map[string]any)["message"] != "No more IP addresses available on network "+net+"." {
					t.Errorf("409: %s", r.Raw)
				}
			default:
				t.Errorf("status %d: %s", r.Status, r.Raw)
			}
		}(i)
	}
	wg.Wait()
	return codes, ips
}

func checkIPs(t *testing.T, ips []string, first, last string) {
	t.Helper()
	lo, hi := netip.MustParseAddr(first), netip.MustParseAddr(last)
	seen := map[string]bool{}
	for _, ip := range ips {
		if seen[ip] {
			t.Errorf("address %s given twice", ip)
		}
		seen[ip] = true
		a := netip.MustParseAddr(ip)
		if a.Less(lo) || hi.Less(a) {
			t.Errorf("address %s outside the pool %s-%s", ip, first, last)
		}
	}
}

// TestParallelPortCreatesShareOnePool: 64 concurrent creates on a subnet
// with 50 addresses give 50 distinct addresses from the pool and 14
// IpAddressGenerationFailure; a freed address is given again.
func TestParallelPortCreatesShareOnePool(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			net := mkNet(t, s.URL)
			mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "10.0.0.0/26", "ip_version": 4,
				"allocation_pools": []any{map[string]any{"start": "10.0.0.2", "end": "10.0.0.51"}}})
			codes, ips := createPorts(t, []string{s.URL}, net, 64)
			if codes[201] != 50 || codes[409] != 14 {
				t.Fatalf("status codes %v, want 50×201 and 14×409", codes)
			}
			checkIPs(t, ips, "10.0.0.2", "10.0.0.51")
			// free one and take it again
			ports := testutil.Do(t, "GET", s.URL+"/v2.0/ports?fixed_ips=ip_address%3D10.0.0.17", nil).Expect(t, 200).List("ports")
			if len(ports) != 1 {
				t.Fatalf("port with 10.0.0.17: %d", len(ports))
			}
			testutil.Do(t, "DELETE", s.URL+"/v2.0/ports/"+ports[0]["id"].(string), nil).Expect(t, 204)
			p := testutil.Do(t, "POST", s.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net}}).Expect(t, 201).Obj("port")
			if ip := p["fixed_ips"].([]any)[0].(map[string]any)["ip_address"]; ip != "10.0.0.17" {
				t.Fatalf("freed address not reused: got %v", ip)
			}
			av := testutil.Do(t, "GET", s.URL+"/v2.0/network-ip-availabilities/"+net, nil).Expect(t, 200).Obj("network_ip_availability")
			if av["used_ips"] != float64(50) || av["total_ips"] != float64(50) {
				t.Fatalf("availability: %v", av)
			}
		})
	}
}

// TestTwoServersOneDatabase: two neutrino servers on one PostgreSQL (and
// MySQL) database allocate from one pool without giving an address twice.
func TestTwoServersOneDatabase(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		if e.Name == "sqlite" {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			a := testutil.StartServer(t, testutil.Options{DB: url})
			b := testutil.StartServer(t, testutil.Options{DB: url})
			net := mkNet(t, a.URL)
			mkSubnet(t, b.URL, map[string]any{"network_id": net, "cidr": "10.1.0.0/26", "ip_version": 4,
				"allocation_pools": []any{map[string]any{"start": "10.1.0.10", "end": "10.1.0.49"}}})
			codes, ips := createPorts(t, []string{a.URL, b.URL}, net, 64)
			if codes[201] != 40 || codes[409] != 24 {
				t.Fatalf("status codes %v, want 40×201 and 24×409", codes)
			}
			checkIPs(t, ips, "10.1.0.10", "10.1.0.49")
		})
	}
}

// TestLargeSubnetAllocation: allocation on a /16 does not scan, addresses
// stay unique, and an IPv6 /64 works the same.
func TestLargeSubnetAllocation(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	net := mkNet(t, s.URL)
	mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "10.2.0.0/16", "ip_version": 4})
	mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "2001:db8::/64", "ip_version": 6})
	codes, ips := createPorts(t, []string{s.URL}, net, 200)
	if codes[201] != 200 {
		t.Fatalf("codes %v", codes)
	}
	var v4, v6 []string
	for _, ip := range ips {
		if netip.MustParseAddr(ip).Is4() {
			v4 = append(v4, ip)
		} else {
			v6 = append(v6, ip)
		}
	}
	if len(v4) != 200 || len(v6) != 200 {
		t.Fatalf("%d IPv4, %d IPv6 addresses", len(v4), len(v6))
	}
	checkIPs(t, v4, "10.2.0.2", "10.2.255.254")
	checkIPs(t, v6, "2001:db8::1", "2001:db8::ffff:ffff:ffff:ffff")
	av := testutil.Do(t, "GET", s.URL+"/v2.0/network-ip-availabilities/"+net, nil).Expect(t, 200)
	if want := `"total_ips":18446744073709617148`; !contains(string(av.Raw), want) {
		t.Fatalf("availability: %s", av.Raw)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestOverlappingCIDRs: overlapping CIDRs are refused on one network, and
// across networks only when allow_overlapping_ips is false.
func TestOverlappingCIDRs(t *testing.T) {
	for _, allow := range []string{"true", "false"} {
		s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"DEFAULT.allow_overlapping_ips": allow}})
		n1, n2 := mkNet(t, s.URL), mkNet(t, s.URL)
		mkSubnet(t, s.URL, map[string]any{"network_id": n1, "cidr": "10.7.0.0/16", "ip_version": 4})
		r := testutil.Do(t, "POST", s.URL+"/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": n1, "cidr": "10.7.1.0/24", "ip_version": 4}})
		if r.Status != 400 || r.ErrorType() != "InvalidInput" {
			t.Fatalf("same network: %d %s", r.Status, r.Raw)
		}
		r = testutil.Do(t, "POST", s.URL+"/v2.0/subnets", map[string]any{"subnet": map[string]any{"network_id": n2, "cidr": "10.7.1.0/24", "ip_version": 4}})
		if want := map[string]int{"true": 201, "false": 400}[allow]; r.Status != want {
			t.Fatalf("allow_overlapping_ips=%s, other network: %d %s", allow, r.Status, r.Raw)
		}
	}
}
