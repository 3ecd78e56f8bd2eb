package api_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// Fuzz targets (go test -fuzz=FuzzX ./internal/api/; scripts/fuzz-short.sh
// runs each briefly). Seeds: testdata/fuzz/<target>/ plus the f.Add below.
// What must hold: bad input is a 4xx Neutron error, never a panic or a 5xx.

func checkAPIError(t *testing.T, err error, what string) {
	t.Helper()
	if err == nil {
		return
	}
	if e, ok := nerr.As(err); !ok || e.Status < 400 || e.Status >= 500 {
		t.Fatalf("%s: %v is not a 4xx Neutron error", what, err)
	}
}

func fuzzResources(f *testing.F) []*api.Resource {
	s := testutil.StartServer(f, testutil.Options{})
	var out []*api.Resource
	for _, r := range s.App.API.Resources {
		if r.Backend != nil {
			out = append(out, r)
		}
	}
	return out
}

// FuzzPrepareBody: any JSON body, for any resource, create or update, as
// an admin or not: PrepareBody answers items or a 4xx error.
func FuzzPrepareBody(f *testing.F) {
	res := fuzzResources(f)
	for _, s := range []string{
		`{"network": {"name": "n", "admin_state_up": true, "mtu": 1450}}`,
		`{"networks": [{"name": "a"}, {"network": {"name": "b"}}, "x"]}`,
		`{"port": {"network_id": "n", "fixed_ips": [{"ip_address": "10.0.0.1"}], "allowed_address_pairs": [{"ip_address": "10.0.0.0/24"}]}}`,
		`{"subnet": {"network_id": "n", "cidr": "10.0.0.0/24", "ip_version": 4, "allocation_pools": [{"start": "10.0.0.2", "end": "10.0.0.9"}], "host_routes": [{"destination": "0.0.0.0/0", "nexthop": "10.0.0.1"}]}}`,
		`{"security_group_rule": {"security_group_id": "s", "direction": "ingress", "port_range_min": 80, "port_range_max": 70, "protocol": "tcp"}}`,
		`{"subnetpool": {"name": "p", "prefixes": ["10.0.0.0/8", "fe80::/64"], "min_prefixlen": "24"}}`,
		`{"network": {"name": "a\u0000", "tenant_id": "x", "project_id": "y"}}`,
		`{"port": {"extra_dhcp_opts": [{"opt_name": "a", "opt_value": null, "ip_version": "6"}], "binding:profile": {"a": [1, {"b": 2.5e300}]}}}`,
		`[]`, `null`, `"x"`, `{"network": null}`, `{"network": []}`, `{"networks": {}}`,
	} {
		for i := range res {
			f.Add(uint8(i), []byte(s), true)
		}
		f.Add(uint8(0), []byte(s), false)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte, create bool) {
		r := res[int(which)%len(res)]
		v, err := api.DecodeJSON(body)
		if err != nil {
			return
		}
		rc := &reqctx.Context{IsAdmin: which&0x80 != 0, ProjectID: "p1", RequestID: "req-fuzz"}
		items, _, err := r.PrepareBody(rc, v, create)
		checkAPIError(t, err, r.Name)
		if err == nil && len(items) == 0 {
			t.Fatalf("%s: no items and no error", r.Name)
		}
	})
}

// FuzzParseQuery: any query string, for any resource: ParseQuery answers
// a query or a 4xx error, and pagination links can be built from it.
func FuzzParseQuery(f *testing.F) {
	res := fuzzResources(f)
	for _, s := range []string{
		"name=a&name=b&fields=id&fields=name&sort_key=name&sort_dir=desc&limit=2&marker=x&page_reverse=True",
		"tags=a,b&tags-any=c&not-tags=d&not-tags-any=e",
		"admin_state_up=true&shared=0&mtu=1500&router:external=False",
		"fixed_ips=ip_address%3D10.0.0.1&fixed_ips=subnet_id%3Dx&mac_address=FA:16:3E:00:00:01",
		"limit=-1", "limit=x", "sort_key=id&sort_dir=sideways", "fields=", "id=%00", "name=%ff%fe", "=&&=&a", "%zz=%",
		"sort_key=name&sort_key=id&sort_dir=asc", "ip_version=4&ip_version=x", "description=&project_id=&tenant_id=p",
	} {
		for i := range res {
			f.Add(uint8(i), s, int16(-1))
		}
		f.Add(uint8(0), s, int16(2))
	}
	f.Fuzz(func(t *testing.T, which uint8, raw string, maxLimit int16) {
		r := res[int(which)%len(res)]
		ps := api.ParseParams(raw)
		q, err := r.ParseQuery(ps, int(maxLimit))
		checkAPIError(t, err, r.Name)
		if err == nil {
			api.Links("http://h/v2.0/"+r.Path, ps, []api.Object{{"id": "x", "name": "n"}}, q, r.PrimaryKey())
		}
	})
}

// FuzzRequest: any method, path, query and body through the whole
// in-process server on SQLite (routing, policy, bodies, the store): never
// a 5xx.
//
// NEUTRINO_FUZZ_ENGINE=postgresql (or mysql) runs it on that engine.
func FuzzRequest(f *testing.F) {
	var o testutil.Options
	if name := os.Getenv("NEUTRINO_FUZZ_ENGINE"); name != "" {
		for _, e := range testutil.Engines(f) {
			if e.Name == name {
				o.DB = e.URL(f)
			}
		}
		if o.DB == "" {
			f.Fatalf("engine %q not available", name)
		}
	}
	s := testutil.StartServer(f, o)
	h := s.App.Server.Handler()
	for _, c := range [][3]string{
		{"POST", "/v2.0/networks", `{"network": {"name": "n"}}`},
		{"POST", "/v2.0/ports", `{"port": {"network_id": "x"}}`},
		{"PUT", "/v2.0/networks/x", `{"network": {"name": "n"}}`},
		{"GET", "/v2.0/networks?name=a&limit=1&marker=x", ""},
		{"PUT", "/v2.0/networks/x/tags/y", ""},
		{"PUT", "/v2.0/quotas/p1", `{"quota": {"network": 5}}`},
		{"DELETE", "/v2.0/security-groups/x", ""},
		{"POST", "/v2.0/subnets", `{"subnet": {"network_id": "x", "cidr": "10.0.0.0/24", "ip_version": 4}}`},
		{"GET", "/v2.0/ports?fixed_ips=ip_address%3D10.0.0.1&fields=id", ""},
		{"POST", "/v2.0/rbac-policies", `{"rbac_policy": {"object_type": "network", "object_id": "x", "action": "access_as_shared", "target_tenant": "*"}}`},
	} {
		f.Add(c[0], c[1], []byte(c[2]))
	}
	f.Fuzz(func(t *testing.T, method, target string, body []byte) {
		switch method {
		case "GET", "POST", "PUT", "DELETE", "HEAD":
		default:
			method = "GET"
		}
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://neutrino"+target, strings.NewReader(string(body)))
		if err != nil {
			return
		}
		req.RequestURI = req.URL.RequestURI()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		// 503 is an answer of Neutron's own (NoNetworkAvailable once
		// the tenant network ranges are used up)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, target, body, w.Code, w.Body)
		}
	})
}
