package ml2_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// weird are values of every JSON type and a few hostile strings.
var weird = []any{nil, true, false, 0, -1, 1.5, 1e300, "", " ", "x", "10.0.0.0/33", "::/0", "ff:ff:ff:ff:ff:ff",
	"2001:db8::1%eth0", "00000000-0000-0000-0000-000000000000", []any{}, []any{nil}, []any{1}, []any{"x"},
	[]any{map[string]any{}}, []any{map[string]any{"start": 1, "end": nil}}, []any{map[string]any{"ip_address": []any{}}},
	[]any{map[string]any{"subnet_id": 5, "ip_address": true}}, []any{map[string]any{"destination": nil, "nexthop": 1}},
	[]any{map[string]any{"opt_name": 1, "opt_value": []any{}}}, map[string]any{}, map[string]any{"a": []any{}}}

// TestMalformedInputIsNever500 sends values of the wrong type for every
// subnet and port attribute, on create and update: Neutron-style 4xx (or a
// success), never a server error.
func TestMalformedInputIsNever500(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	net := mkNet(t, s.URL)
	sub := mkSubnet(t, s.URL, map[string]any{"network_id": net, "cidr": "10.9.0.0/24", "ip_version": 4})
	port := testutil.Do(t, "POST", s.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net}}).Expect(t, 201).Obj("port")
	check := func(method, path string, body any) {
		t.Helper()
		r := testutil.Do(t, method, s.URL+path, body)
		if r.Status >= 500 {
			b, _ := json.Marshal(body)
			t.Errorf("%s %s %s: %d %s", method, path, b, r.Status, r.Raw)
		}
		if r.Status == 201 {
			for _, k := range []string{"subnet", "port"} {
				if o := r.Obj(k); o != nil {
					testutil.Do(t, "DELETE", fmt.Sprintf("%s/v2.0/%ss/%s", s.URL, k, o["id"]), nil)
				}
			}
		}
	}
	subnetAttrs := []string{"cidr", "ip_version", "gateway_ip", "allocation_pools", "dns_nameservers", "host_routes",
		"enable_dhcp", "ipv6_ra_mode", "ipv6_address_mode", "service_types", "segment_id", "subnetpool_id", "prefixlen",
		"use_default_subnetpool", "name", "description", "network_id"}
	for _, a := range subnetAttrs {
		for _, v := range weird {
			body := map[string]any{"network_id": net, "cidr": "10.8.0.0/24", "ip_version": 4}
			body[a] = v
			check("POST", "/v2.0/subnets", map[string]any{"subnet": body})
			check("PUT", "/v2.0/subnets/"+sub["id"].(string), map[string]any{"subnet": map[string]any{a: v}})
		}
	}
	portAttrs := []string{"mac_address", "fixed_ips", "allowed_address_pairs", "extra_dhcp_opts", "binding:host_id",
		"binding:profile", "binding:vnic_type", "port_security_enabled", "dns_name", "device_id", "device_owner",
		"admin_state_up", "numa_affinity_policy", "device_profile", "tags", "name", "network_id"}
	for _, a := range portAttrs {
		for _, v := range weird {
			body := map[string]any{"network_id": net}
			body[a] = v
			check("POST", "/v2.0/ports", map[string]any{"port": body})
			check("PUT", "/v2.0/ports/"+port["id"].(string), map[string]any{"port": map[string]any{a: v}})
		}
	}
	for _, q := range []string{"fixed_ips=x", "fixed_ips=ip_address%3D", "fixed_ips=ip_address_substr%3D%25", "mac_address=zz",
		"cidr=x", "gateway_ip=1", "ip_version=x", "enable_dhcp=maybe", "segment_id=x"} {
		for _, coll := range []string{"ports", "subnets"} {
			r := testutil.Do(t, "GET", s.URL+"/v2.0/"+coll+"?"+q, nil)
			if r.Status >= 500 {
				t.Errorf("GET %s?%s: %d %s", coll, q, r.Status, r.Raw)
			}
		}
	}
	for _, q := range []string{"ip_version=x", "network_id=x", "sort_key=network_id&sort_dir=asc&limit=1&marker=x"} {
		if r := testutil.Do(t, "GET", s.URL+"/v2.0/network-ip-availabilities?"+q, nil); r.Status >= 500 {
			t.Errorf("GET availability?%s: %d %s", q, r.Status, r.Raw)
		}
	}
}

// TestOversizedInputIsNever500: a request line of 8 KiB or more is refused
// with 414 as the reference's eventlet server does, and lists in bodies far
// longer than any database's bound on query parameters (40,000 security
// groups) get Neutron's answer, not a server error.
func TestOversizedInputIsNever500(t *testing.T) {
	// Neutron's pipeline has no body size limit (neutrino's default is
	// oslo.middleware's 112 KiB: such a body would get 413)
	s := testutil.StartServer(t, testutil.Options{Set: map[string]string{"oslo_middleware.max_request_body_size": "0"}})
	net := mkNet(t, s.URL)
	ids := func(n int) string {
		q := make([]byte, 0, n*5)
		for i := 0; i < n; i++ {
			if i > 0 {
				q = append(q, '&')
			}
			q = append(q, "id=x"...)
		}
		return string(q)
	}
	// the reference: 1,600 filters (8,015 characters) 200, 1,700 414
	testutil.Do(t, "GET", s.URL+"/v2.0/networks?"+ids(1600), nil).Expect(t, 200)
	testutil.Do(t, "GET", s.URL+"/v2.0/networks?"+ids(1700), nil).Expect(t, 414)
	testutil.Do(t, "GET", s.URL+"/v2.0/networks?"+ids(40000), nil).Expect(t, 414)

	sgs := make([]any, 40000)
	for i := range sgs {
		sgs[i] = fmt.Sprintf("d1a2b3c4-0000-4000-8000-%012d", i)
	}
	r := testutil.Do(t, "POST", s.URL+"/v2.0/ports", map[string]any{"port": map[string]any{"network_id": net, "security_groups": sgs}}).Expect(t, 404)
	if e := r.ErrorType(); e != "SecurityGroupNotFound" {
		t.Fatalf("40,000 unknown security groups: %s", e)
	}
	if l := testutil.Do(t, "GET", s.URL+"/v2.0/ports?network_id="+net, nil).Expect(t, 200).List("ports"); len(l) != 0 {
		t.Fatalf("%d ports after a refused create", len(l))
	}
}

// TestBodyNotUTF8: a body that is not UTF-8 is refused as the reference
// refuses it (HTTPBadRequest from the core controller, MalformedRequestBody
// from an extension's), and nothing is written.
func TestBodyNotUTF8(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	for path, want := range map[string]string{
		"/v2.0/networks":        `{"network": {"name": "\xff\xfe", "tenant_id": "u8"}}`,
		"/v2.0/security-groups": `{"security_group": {"name": "\xff\xfe", "tenant_id": "u8"}}`,
	} {
		r := testutil.Do(t, "POST", s.URL+path, []byte(want)).Expect(t, 400)
		typ := "HTTPBadRequest"
		if path == "/v2.0/security-groups" {
			typ = "MalformedRequestBody"
		}
		if r.ErrorType() != typ {
			t.Errorf("%s: %s, want %s", path, r.ErrorType(), typ)
		}
	}
	if l := testutil.Do(t, "GET", s.URL+"/v2.0/networks?tenant_id=u8", nil).Expect(t, 200).List("networks"); len(l) != 0 {
		t.Fatalf("%d networks written", len(l))
	}
}
