package secgroup_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

func post(t *testing.T, url, key string, obj map[string]any) *testutil.Response {
	t.Helper()
	return testutil.Do(t, "POST", url, map[string]any{key: obj})
}

// TestDefaultGroupOnce sends 32 concurrent first requests of one project to
// two neutrino instances sharing the database: exactly one default group,
// with Neutron's four rules, must result, on every engine.
func TestDefaultGroupOnce(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			url := e.URL(t)
			s1 := testutil.StartServer(t, testutil.Options{DB: url})
			s2 := testutil.StartServer(t, testutil.Options{DB: url})
			var wg sync.WaitGroup
			for i := 0; i < 32; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					base := s1.URL
					if i%2 == 1 {
						base = s2.URL
					}
					var r *testutil.Response
					switch i % 4 {
					case 0, 1:
						r = testutil.Do(t, "GET", base+"/v2.0/security-groups?tenant_id=proj-race", nil)
					case 2:
						r = post(t, base+"/v2.0/security-groups", "security_group", map[string]any{"name": fmt.Sprint("sg", i), "tenant_id": "proj-race"})
					default:
						r = post(t, base+"/v2.0/networks", "network", map[string]any{"name": fmt.Sprint("n", i), "tenant_id": "proj-race"})
					}
					if r.Status >= 300 {
						t.Errorf("request %d: %d %s", i, r.Status, r.Raw)
					}
				}(i)
			}
			wg.Wait()
			l := testutil.Do(t, "GET", s1.URL+"/v2.0/security-groups?tenant_id=proj-race&name=default", nil).Expect(t, 200).List("security_groups")
			if len(l) != 1 {
				t.Fatalf("%d default groups", len(l))
			}
			rules := l[0]["security_group_rules"].([]any)
			var kinds []string
			for _, r := range rules {
				m := r.(map[string]any)
				remote := m["remote_group_id"] != nil
				kinds = append(kinds, fmt.Sprint(m["direction"], "/", m["ethertype"], "/", remote))
			}
			got := strings.Join(sortStrings(kinds), " ")
			if want := "egress/IPv4/false egress/IPv6/false ingress/IPv4/true ingress/IPv6/true"; got != want {
				t.Fatalf("default rules %s, want %s", got, want)
			}
			n := testutil.Do(t, "GET", s1.URL+"/v2.0/security-group-rules?tenant_id=proj-race", nil).Expect(t, 200).List("security_group_rules")
			if len(n) != 4+2*8 {
				t.Fatalf("%d rules, want 4 default + 2 per group", len(n))
			}
		})
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func TestGroupsAndRules(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	v := s.URL + "/v2.0/"
	sg := post(t, v+"security-groups", "security_group", map[string]any{"name": "web"}).Expect(t, 201).Obj("security_group")
	if sg["revision_number"] != float64(1) || sg["stateful"] != true || len(sg["security_group_rules"].([]any)) != 2 {
		t.Fatalf("group: %v", sg)
	}
	id := sg["id"].(string)
	rule := map[string]any{"security_group_id": id, "direction": "ingress", "protocol": "TCP", "port_range_min": 22,
		"port_range_max": "22", "remote_ip_prefix": "10.1.2.3/8"}
	r := post(t, v+"security-group-rules", "security_group_rule", rule).Expect(t, 201).Obj("security_group_rule")
	if r["protocol"] != "tcp" || r["remote_ip_prefix"] != "10.1.2.3/8" || r["normalized_cidr"] != "10.0.0.0/8" || r["port_range_max"] != float64(22) {
		t.Fatalf("rule: %v", r)
	}
	rule["protocol"] = "6"
	dup := post(t, v+"security-group-rules", "security_group_rule", rule).Expect(t, 409)
	if dup.ErrorType() != "SecurityGroupRuleExists" || !strings.Contains(string(dup.Raw), r["id"].(string)) {
		t.Fatalf("duplicate: %s", dup.Raw)
	}
	got := testutil.Do(t, "GET", v+"security-groups/"+id, nil).Expect(t, 200).Obj("security_group")
	if got["revision_number"] != float64(2) || len(got["security_group_rules"].([]any)) != 3 {
		t.Fatalf("after a rule: %v", got)
	}
	testutil.Do(t, "DELETE", v+"security-group-rules/"+r["id"].(string), nil).Expect(t, 204)
	got = testutil.Do(t, "GET", v+"security-groups/"+id, nil).Expect(t, 200).Obj("security_group")
	if got["revision_number"] != float64(3) {
		t.Fatalf("after deleting a rule: %v", got)
	}
	if e := post(t, v+"security-groups", "security_group", map[string]any{"name": "DEFAULT"}).Expect(t, 409); e.ErrorType() != "SecurityGroupDefaultAlreadyExists" {
		t.Fatalf("name default: %s", e.Raw)
	}
	def := testutil.Do(t, "GET", v+"security-groups?name=default", nil).Expect(t, 200).List("security_groups")
	if len(def) != 1 {
		t.Fatalf("default groups: %v", def)
	}
	defID := def[0]["id"].(string)
	if e := testutil.Do(t, "PUT", v+"security-groups/"+defID, map[string]any{"security_group": map[string]any{"name": "x"}}).Expect(t, 409); e.ErrorType() != "SecurityGroupCannotUpdateDefault" {
		t.Fatalf("rename default: %s", e.Raw)
	}
	// a rule of another group naming this one as remote goes with it
	post(t, v+"security-group-rules", "security_group_rule", map[string]any{"security_group_id": defID, "direction": "ingress", "remote_group_id": id}).Expect(t, 201)
	testutil.Do(t, "DELETE", v+"security-groups/"+id, nil).Expect(t, 204)
	if n := len(testutil.Do(t, "GET", v+"security-groups/"+defID, nil).Expect(t, 200).Obj("security_group")["security_group_rules"].([]any)); n != 4 {
		t.Fatalf("default group has %d rules", n)
	}
	// admins may delete a default group; the next request makes a new one
	testutil.Do(t, "DELETE", v+"security-groups/"+defID, nil).Expect(t, 204)
	again := testutil.Do(t, "GET", v+"security-groups?name=default", nil).Expect(t, 200).List("security_groups")
	if len(again) != 1 || again[0]["id"] == defID {
		t.Fatalf("default group not recreated: %v", again)
	}
}

// TestMalformedInput: bad input is a Neutron 4xx, never a 500.
func TestMalformedInput(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	v := s.URL + "/v2.0/"
	sg := post(t, v+"security-groups", "security_group", map[string]any{"name": "m"}).Expect(t, 201).Obj("security_group")["id"].(string)
	pool := post(t, v+"subnetpools", "subnetpool", map[string]any{"name": "p", "prefixes": []any{"10.0.0.0/8"}}).Expect(t, 201).Obj("subnetpool")["id"].(string)
	values := []any{nil, true, false, 0, -1, 1.5, 70000, "", " ", "x", "default", "0.0.0.0/0", "::/0", "1.2.3.4/33",
		[]any{}, []any{1}, []any{"a", "a"}, map[string]any{}, map[string]any{"a": 1}, strings.Repeat("z", 300)}
	try := func(method, url, key string, base map[string]any, attr string) {
		for _, val := range values {
			body := map[string]any{}
			for k, x := range base {
				body[k] = x
			}
			body[attr] = val
			var r *testutil.Response
			if key == "" {
				r = testutil.Do(t, method, url, body)
			} else {
				r = testutil.Do(t, method, url, map[string]any{key: body})
			}
			if r.Status >= 500 {
				t.Errorf("%s %s %s=%v: %d %s", method, url, attr, val, r.Status, r.Raw)
			}
		}
	}
	rule := map[string]any{"security_group_id": sg, "direction": "egress", "protocol": "tcp", "port_range_min": 1000, "port_range_max": 2000}
	for _, a := range []string{"security_group_id", "direction", "protocol", "port_range_min", "port_range_max", "ethertype",
		"remote_ip_prefix", "remote_group_id", "remote_address_group_id", "description", "tenant_id"} {
		try("POST", v+"security-group-rules", "security_group_rule", rule, a)
	}
	for _, a := range []string{"name", "description", "stateful", "tenant_id"} {
		try("POST", v+"security-groups", "security_group", map[string]any{"name": "g"}, a)
		try("PUT", v+"security-groups/"+sg, "security_group", map[string]any{}, a)
	}
	for _, a := range []string{"name", "ip_version", "shared"} {
		try("POST", v+"address-scopes", "address_scope", map[string]any{"name": "s", "ip_version": 4}, a)
	}
	for _, a := range []string{"name", "prefixes", "default_prefixlen", "min_prefixlen", "max_prefixlen", "default_quota",
		"is_default", "shared", "address_scope_id"} {
		try("POST", v+"subnetpools", "subnetpool", map[string]any{"name": "q", "prefixes": []any{"11.0.0.0/8"}}, a)
		try("PUT", v+"subnetpools/"+pool, "subnetpool", map[string]any{}, a)
	}
	try("PUT", v+"subnetpools/"+pool+"/add_prefixes", "", map[string]any{}, "prefixes")
	try("PUT", v+"subnetpools/"+pool+"/remove_prefixes", "", map[string]any{}, "prefixes")
	for _, q := range []string{"security-groups?shared=x", "security-group-rules?port_range_min=x", "security-group-rules?protocol=x",
		"security-group-rules?ethertype=x", "security-group-rules?remote_ip_prefix=x", "subnetpools?default_prefixlen=x",
		"address-scopes?ip_version=x", "security-groups?sort_key=shared&sort_dir=asc", "security-group-rules?sort_key=normalized_cidr&sort_dir=asc"} {
		if r := testutil.Do(t, "GET", v+q, nil); r.Status != 400 {
			t.Errorf("GET %s: %d %s", q, r.Status, r.Raw)
		}
	}
}

// TestPorts covers the ports' security_groups once ports are served.
func TestPorts(t *testing.T) {
	s := testutil.StartServer(t, testutil.Options{})
	v := s.URL + "/v2.0/"
	if r := testutil.Do(t, "GET", v+"ports", nil); r.Status == 404 {
		t.Skip("no ports resource yet")
	}
	net := post(t, v+"networks", "network", map[string]any{"name": "n", "tenant_id": "pp"}).Expect(t, 201).Obj("network")["id"].(string)
	def := testutil.Do(t, "GET", v+"security-groups?tenant_id=pp&name=default", nil).Expect(t, 200).List("security_groups")
	if len(def) != 1 {
		t.Fatalf("network create made no default group: %v", def)
	}
	defID := def[0]["id"].(string)
	p := post(t, v+"ports", "port", map[string]any{"network_id": net, "tenant_id": "pp"}).Expect(t, 201).Obj("port")
	if fmt.Sprint(p["security_groups"]) != "["+defID+"]" {
		t.Fatalf("port groups: %v", p["security_groups"])
	}
	sg := post(t, v+"security-groups", "security_group", map[string]any{"name": "x", "tenant_id": "pp"}).Expect(t, 201).Obj("security_group")["id"].(string)
	testutil.Do(t, "DELETE", v+"security-groups/"+defID, nil).Expect(t, 409)
	up := testutil.Do(t, "PUT", v+"ports/"+p["id"].(string), map[string]any{"port": map[string]any{"security_groups": []any{sg}}}).Expect(t, 200).Obj("port")
	if fmt.Sprint(up["security_groups"]) != "["+sg+"]" {
		t.Fatalf("updated port groups: %v", up["security_groups"])
	}
	if l := testutil.Do(t, "GET", v+"ports?security_groups="+sg, nil).Expect(t, 200).List("ports"); len(l) != 1 {
		t.Fatalf("filter by group: %d ports", len(l))
	}
	if e := post(t, v+"ports", "port", map[string]any{"network_id": net, "tenant_id": "pp", "port_security_enabled": false,
		"security_groups": []any{sg}}).Expect(t, 400); e.ErrorType() != "PortSecurityAndIPRequiredForSecurityGroups" {
		t.Fatalf("port security off: %s", e.Raw)
	}
	dhcp := post(t, v+"ports", "port", map[string]any{"network_id": net, "tenant_id": "pp", "device_owner": "network:dhcp"}).Expect(t, 201).Obj("port")
	if fmt.Sprint(dhcp["security_groups"]) != "[]" {
		t.Fatalf("dhcp port groups: %v", dhcp["security_groups"])
	}
	if e := post(t, v+"ports", "port", map[string]any{"network_id": net, "tenant_id": "pp", "security_groups": []any{"11111111-2222-3333-4444-555555555555"}}).Expect(t, 404); e.ErrorType() != "SecurityGroupNotFound" {
		t.Fatalf("unknown group: %s", e.Raw)
	}
	if e := testutil.Do(t, "DELETE", v+"security-groups/"+sg, nil).Expect(t, 409); e.ErrorType() != "SecurityGroupInUse" {
		t.Fatalf("group in use: %s", e.Raw)
	}
	testutil.Do(t, "DELETE", v+"ports/"+p["id"].(string), nil).Expect(t, 204)
	testutil.Do(t, "DELETE", v+"security-groups/"+sg, nil).Expect(t, 204)
}
