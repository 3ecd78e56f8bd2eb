package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// badCase is one hostile request and the status Neutron-style validation
// gives it on every engine.
type badCase struct {
	name   string
	method string
	path   string // {net}, {port}, {sg}, {pool} are replaced by ids
	body   string
	want   int
}

var long300 = strings.Repeat("x", 300)

var badCases = []badCase{
	// NUL bytes and invalid UTF-8 in path ids: the id exists nowhere
	{"id NUL", "GET", "/v2.0/networks/%00", "", 404},
	{"id NUL inside", "GET", "/v2.0/networks/ab%00cd", "", 404},
	{"id invalid UTF-8", "GET", "/v2.0/networks/%FF%FE", "", 404},
	{"id NUL put", "PUT", "/v2.0/networks/%00", `{"network": {"name": "x"}}`, 404},
	{"id NUL delete", "DELETE", "/v2.0/ports/%00", "", 404},
	{"id invalid UTF-8 delete", "DELETE", "/v2.0/security-groups/%C0%AF", "", 404},
	{"ext id invalid UTF-8", "GET", "/v2.0/security-group-rules/%FF", "", 404},
	{"ext id NUL", "GET", "/v2.0/subnetpools/%00", "", 404},
	{"id over-long", "GET", "/v2.0/networks/" + long300, "", 404},
	{"tags of id NUL", "GET", "/v2.0/networks/%00/tags", "", 404},
	// tags
	{"tag NUL", "PUT", "/v2.0/networks/{net}/tags/a%00b", "", 400},
	{"tag invalid UTF-8", "PUT", "/v2.0/networks/{net}/tags/%FF", "", 400},
	{"tag NUL get", "GET", "/v2.0/networks/{net}/tags/%00", "", 400},
	{"tags body NUL", "PUT", "/v2.0/networks/{net}/tags", `{"tags": ["a\u0000"]}`, 400},
	// body strings
	{"name NUL", "POST", "/v2.0/networks", `{"network": {"name": "a\u0000b"}}`, 400},
	{"description NUL", "PUT", "/v2.0/networks/{net}", `{"network": {"description": "\u0000"}}`, 400},
	{"port name NUL", "POST", "/v2.0/ports", `{"port": {"network_id": "{net}", "name": "\u0000"}}`, 400},
	{"host_id NUL", "PUT", "/v2.0/ports/{port}", `{"port": {"binding:host_id": "h\u0000"}}`, 400},
	{"sg name NUL", "POST", "/v2.0/security-groups", `{"security_group": {"name": "\u0000"}}`, 400},
	{"bulk name NUL", "POST", "/v2.0/networks", `{"networks": [{"name": "a"}, {"name": "\u0000"}]}`, 400},
	{"quota body NUL", "PUT", "/v2.0/quotas/p1", `{"quota": {"network\u0000": 5}}`, 400},
	// filters
	{"filter NUL", "GET", "/v2.0/networks?name=%00", "", 400},
	{"filter id NUL", "GET", "/v2.0/ports?id=%00&id=x", "", 400},
	{"filter tags NUL", "GET", "/v2.0/networks?tags=%00", "", 400},
	{"filter tags-any invalid UTF-8 ext", "GET", "/v2.0/security-groups?tags-any=%FF", "", 400},
	{"ext filter invalid UTF-8", "GET", "/v2.0/security-groups?name=%FF", "", 400},
	{"ext filter NUL", "GET", "/v2.0/subnetpools?name=%00", "", 400},
	{"marker NUL", "GET", "/v2.0/networks?limit=1&marker=%00", "", 400},
	{"ext marker invalid UTF-8", "GET", "/v2.0/security-groups?limit=1&marker=%FF", "", 400},
	// over-long values the reference stores unchecked (its own 500s)
	{"subnetpool name", "POST", "/v2.0/subnetpools", `{"subnetpool": {"name": "` + long300 + `", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24}}`, 400},
	{"subnetpool name update", "PUT", "/v2.0/subnetpools/{pool}", `{"subnetpool": {"name": "` + long300 + `"}}`, 400},
	{"binding:host_id", "PUT", "/v2.0/ports/{port}", `{"port": {"binding:host_id": "` + long300 + `"}}`, 400},
	{"binding:host_id create", "POST", "/v2.0/ports", `{"port": {"network_id": "{net}", "binding:host_id": "` + long300 + `"}}`, 400},
	{"quota project id", "PUT", "/v2.0/quotas/" + long300, `{"quota": {"network": 5}}`, 400},
	{"rbac target", "POST", "/v2.0/rbac-policies", `{"rbac_policy": {"object_type": "network", "object_id": "{net}", "action": "access_as_shared", "target_tenant": "` + long300 + `"}}`, 400},
}

// TestBadInputAllEngines sends NUL bytes, invalid UTF-8 and over-long
// values in path ids, tags, bodies and filters to neutrino on every
// engine: each gets a 4xx (Neutron's 400, or 404 for an id), the same on
// all engines, never a 500.
func TestBadInputAllEngines(t *testing.T) {
	results := map[string]map[string]int{}
	for _, e := range testutil.Engines(t) {
		e := e
		t.Run(e.Name, func(t *testing.T) {
			s := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			ids := map[string]string{}
			ids["{net}"] = testutil.Do(t, "POST", s.URL+"/v2.0/networks", `{"network": {"name": "n"}}`).Expect(t, 201).Obj("network")["id"].(string)
			ids["{port}"] = testutil.Do(t, "POST", s.URL+"/v2.0/ports", `{"port": {"network_id": "`+ids["{net}"]+`"}}`).Expect(t, 201).Obj("port")["id"].(string)
			ids["{pool}"] = testutil.Do(t, "POST", s.URL+"/v2.0/subnetpools", `{"subnetpool": {"name": "p", "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24}}`).Expect(t, 201).Obj("subnetpool")["id"].(string)
			got := map[string]int{}
			for _, c := range badCases {
				path, body := c.path, c.body
				for k, v := range ids {
					path, body = strings.ReplaceAll(path, k, v), strings.ReplaceAll(body, k, v)
				}
				var b any
				if body != "" {
					b = body
				}
				r := doRaw(t, c.method, s.URL+path, b)
				got[c.name] = r.Status
				if r.Status != c.want {
					t.Errorf("%s: %s %s: %d, want %d: %.300s", c.name, c.method, c.path, r.Status, c.want, r.Raw)
				}
			}
			results[e.Name] = got
			// nothing was half-written: the network is intact
			r := testutil.Do(t, "GET", s.URL+"/v2.0/networks/"+ids["{net}"], nil).Expect(t, 200)
			if n := r.Obj("network"); n["name"] != "n" || n["description"] != "" || len(n["tags"].([]any)) != 0 {
				t.Errorf("network changed: %v", n)
			}
		})
	}
	var first map[string]int
	for _, got := range results {
		if first == nil {
			first = got
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(first) {
			t.Errorf("engines differ: %v", results)
		}
	}
}

// doRaw sends a request whose path may hold raw escapes.
func doRaw(t *testing.T, method, url string, body any) *testutil.Response {
	t.Helper()
	if _, err := http.NewRequest(method, url, nil); err != nil {
		t.Fatal(err)
	}
	return testutil.Do(t, method, url, body)
}
