package rbac_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// client sends requests to one server, optionally with a token.
type client struct {
	t     *testing.T
	base  string
	token string
}

func (c client) do(method, path string, body any) *testutil.Response {
	c.t.Helper()
	var h []string
	if c.token != "" {
		h = []string{"X-Auth-Token", c.token}
	}
	return testutil.Do(c.t, method, c.base+"/v2.0"+path, body, h...)
}

func (c client) as(token string) client { c.token = token; return c }

func policyBody(typ, obj, action, target string, extra ...string) map[string]any {
	p := map[string]any{"object_type": typ, "object_id": obj, "action": action, "target_tenant": target}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i]] = extra[i+1]
	}
	return map[string]any{"rbac_policy": p}
}

func (c client) network(name string, extra ...any) map[string]any {
	c.t.Helper()
	n := map[string]any{"name": name}
	for i := 0; i+1 < len(extra); i += 2 {
		n[extra[i].(string)] = extra[i+1]
	}
	return c.do("POST", "/networks", map[string]any{"network": n}).Expect(c.t, 201).Obj("network")
}

func (c client) share(netID, action, target string, extra ...string) map[string]any {
	c.t.Helper()
	return c.do("POST", "/rbac-policies", policyBody("network", netID, action, target, extra...)).Expect(c.t, 201).Obj("rbac_policy")
}

// expectError checks an error answer's status, type and message (a
// substring when contains is true).
func expectError(t *testing.T, r *testutil.Response, status int, typ, msg string, contains bool) {
	t.Helper()
	e, _ := r.Body["NeutronError"].(map[string]any)
	got, _ := e["message"].(string)
	if r.Status != status || r.ErrorType() != typ || (!contains && got != msg) || (contains && !strings.Contains(got, msg)) {
		t.Fatalf("got %d %s %q\nwant %d %s %q", r.Status, r.ErrorType(), got, status, typ, msg)
	}
}

// ---- a fake Keystone: tokens name their project and roles ----

type identity struct {
	project string
	roles   []string
}

func fakeKeystone(t *testing.T, tokens map[string]identity) string {
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v3/auth/tokens" {
			http.NotFound(w, r)
			return
		}
		exp := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
		w.Header().Set("Content-Type", "application/json")
		switch r.Method {
		case http.MethodPost: // the service user's login
			w.Header().Set("X-Subject-Token", "service-token")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"token": {"expires_at": %q, "issued_at": "2020-01-01T00:00:00.000000Z", "user": {"id": "svc", "name": "neutron", "domain": {"id": "default"}}, "roles": [{"id": "r0", "name": "admin"}]}}`, exp)
		case http.MethodGet:
			mu.Lock()
			id, ok := tokens[r.Header.Get("X-Subject-Token")]
			mu.Unlock()
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprint(w, `{"error": {"code": 404, "title": "Not Found", "message": "token not found"}}`)
				return
			}
			var roles []string
			for i, r := range id.roles {
				roles = append(roles, fmt.Sprintf(`{"id": "r%d", "name": %q}`, i+1, r))
			}
			fmt.Fprintf(w, `{"token": {"methods": ["password"], "expires_at": %q, "issued_at": "2020-01-01T00:00:00.000000Z",
				"user": {"id": "u-%s", "name": "user-%s", "domain": {"id": "default", "name": "Default"}},
				"project": {"id": %q, "name": %q, "domain": {"id": "default", "name": "Default"}},
				"roles": [%s]}}`, exp, id.project, id.project, id.project, id.project, strings.Join(roles, ", "))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// keystoneServer starts neutrino with auth_strategy = keystone against the
// Keystone at ksURL.
func keystoneServer(t *testing.T, ksURL, dbURL string) *testutil.Server {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "neutron.conf")
	body := fmt.Sprintf(`[DEFAULT]
auth_strategy = keystone
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
extension_drivers = port_security,dns
[ml2_type_vxlan]
vni_ranges = 1:1000
[keystone_authtoken]
www_authenticate_uri = %[1]s
auth_url = %[1]s
auth_type = password
username = neutron
password = neutron
project_name = service
user_domain_name = Default
project_domain_name = Default
`, ksURL)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return testutil.StartServer(t, testutil.Options{DB: dbURL, Files: []string{conf}})
}
