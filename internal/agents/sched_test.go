package agents_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func agentID(t *testing.T, k *agents.Keeper, typ, host string) string {
	t.Helper()
	report(t, k, typ, host, "", true)
	a, err := k.ByTypeHost(context.Background(), nil, typ, host)
	if err != nil || a == nil {
		t.Fatalf("agent %s on %s: %v", typ, host, err)
	}
	return a.ID
}

func ids(objs []map[string]any) []any {
	var out []any
	for _, o := range objs {
		out = append(out, o["id"])
	}
	return out
}

// asMember serves a request to the API as a member of project p1 (no
// admin role) and returns its status.
func asMember(srv *testutil.Server, method, path, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req = req.WithContext(reqctx.With(req.Context(), &reqctx.Context{ProjectID: "p1", Roles: []string{"member", "reader"}}))
	w := httptest.NewRecorder()
	srv.App.API.ServeHTTP(w, req)
	return w.Code
}

func expectErr(t *testing.T, r *testutil.Response, status int, typ string) {
	t.Helper()
	r.Expect(t, status)
	if got := r.ErrorType(); got != typ {
		t.Fatalf("error type %q, want %q: %s", got, typ, r.Raw)
	}
}

// TestDHCPAgentSchedulerAPI: /v2.0/agents/{id}/dhcp-networks lists,
// adds (201 null; 409 when hosted, 404 for unknown agents and networks
// and for agents that are no DHCP agents, 400 without network_id) and
// removes (204; 409 when not hosted) networks; /v2.0/networks/{id}/dhcp-agents
// lists the hosting agents (404 for an unknown network, as the reference answers routers); every call is admin only; on every engine.
func TestDHCPAgentSchedulerAPI(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			k := agents.From(srv.App.Env)
			dhcp, ovs := agentID(t, k, agents.TypeDHCP, "h1"), agentID(t, k, agents.TypeOVS, "h1")
			net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", map[string]any{"network": map[string]any{"name": "n", "project_id": "p1"}}).Expect(t, 201).Obj("network")
			netID := net["id"].(string)
			u := srv.URL + "/v2.0/agents/" + dhcp + "/dhcp-networks"
			if l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("networks"); len(l) != 0 {
				t.Fatalf("networks of a new agent: %v", l)
			}
			expectErr(t, testutil.Do(t, "GET", srv.URL+"/v2.0/agents/nope/dhcp-networks", nil), 404, "AgentNotFound")
			if r := testutil.Do(t, "POST", u, map[string]any{"network_id": netID}).Expect(t, 201); string(r.Raw) != "null" {
				t.Fatalf("POST answered %q", r.Raw)
			}
			expectErr(t, testutil.Do(t, "POST", u, map[string]any{"network_id": netID}), 409, "NetworkHostedByDHCPAgent")
			expectErr(t, testutil.Do(t, "POST", srv.URL+"/v2.0/agents/"+ovs+"/dhcp-networks", map[string]any{"network_id": netID}), 404, "InvalidDHCPAgent")
			expectErr(t, testutil.Do(t, "POST", srv.URL+"/v2.0/agents/nope/dhcp-networks", map[string]any{"network_id": netID}), 404, "AgentNotFound")
			expectErr(t, testutil.Do(t, "POST", u, map[string]any{"network_id": "nope"}), 404, "NetworkNotFound")
			testutil.Do(t, "POST", u, map[string]any{}).Expect(t, 400)
			testutil.Do(t, "POST", u, "[1]").Expect(t, 400)
			l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("networks")
			if len(l) != 1 || l[0]["id"] != netID || l[0]["name"] != "n" {
				t.Fatalf("networks of the agent: %v", l)
			}
			as := testutil.Do(t, "GET", srv.URL+"/v2.0/networks/"+netID+"/dhcp-agents", nil).Expect(t, 200).List("agents")
			if len(as) != 1 || as[0]["id"] != dhcp || as[0]["host"] != "h1" || as[0]["alive"] != true {
				t.Fatalf("agents of the network: %v", as)
			}
			p := "/v2.0/agents/" + dhcp + "/dhcp-networks"
			for _, c := range [][3]string{{"GET", p, ""}, {"POST", p, `{"network_id": "` + netID + `"}`}, {"DELETE", p + "/" + netID, ""},
				{"GET", "/v2.0/networks/" + netID + "/dhcp-agents", ""}} {
				if got := asMember(srv, c[0], c[1], c[2]); got != 403 {
					t.Errorf("%s %s as a member: %d, want 403", c[0], c[1], got)
				}
			}
			testutil.Do(t, "DELETE", u+"/"+netID, nil).Expect(t, 204)
			expectErr(t, testutil.Do(t, "DELETE", u+"/"+netID, nil), 409, "NetworkNotHostedByDhcpAgent")
			expectErr(t, testutil.Do(t, "DELETE", srv.URL+"/v2.0/agents/nope/dhcp-networks/"+netID, nil), 404, "AgentNotFound")
			if as := testutil.Do(t, "GET", srv.URL+"/v2.0/networks/"+netID+"/dhcp-agents", nil).Expect(t, 200).List("agents"); len(as) != 0 {
				t.Fatalf("agents after the removal: %v", as)
			}
			expectErr(t, testutil.Do(t, "GET", srv.URL+"/v2.0/networks/00000000-0000-0000-0000-000000000000/dhcp-agents", nil), 404, "NetworkNotFound")
			testutil.Do(t, "GET", srv.URL+"/v2.0/extensions/dhcp_agent_scheduler", nil).Expect(t, 200)
		})
	}
}

// TestL3AgentSchedulerAPI: /v2.0/agents/{id}/l3-routers adds (201 null,
// again a no-op; 409 when another agent hosts the router, 404 for DHCP
// agents and unknown routers), lists and removes routers;
// /v2.0/routers/{id}/l3-agents lists the hosting agents; admin only.
func TestL3AgentSchedulerAPI(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := testutil.StartServer(t, testutil.Options{DB: e.URL(t), Set: map[string]string{"DEFAULT.service_plugins": "router"}})
			k := agents.From(srv.App.Env)
			l3a, l3b, dhcp := agentID(t, k, agents.TypeL3, "h1"), agentID(t, k, agents.TypeL3, "h2"), agentID(t, k, agents.TypeDHCP, "h1")
			r := testutil.Do(t, "POST", srv.URL+"/v2.0/routers", map[string]any{"router": map[string]any{"name": "r", "project_id": "p1"}}).Expect(t, 201).Obj("router")
			rID := r["id"].(string)
			u := srv.URL + "/v2.0/agents/" + l3a + "/l3-routers"
			body := map[string]any{"router_id": rID}
			if r := testutil.Do(t, "POST", u, body).Expect(t, 201); string(r.Raw) != "null" {
				t.Fatalf("POST answered %q", r.Raw)
			}
			testutil.Do(t, "POST", u, body).Expect(t, 201)
			expectErr(t, testutil.Do(t, "POST", srv.URL+"/v2.0/agents/"+l3b+"/l3-routers", body), 409, "RouterHostedByL3Agent")
			expectErr(t, testutil.Do(t, "POST", srv.URL+"/v2.0/agents/"+dhcp+"/l3-routers", body), 404, "InvalidL3Agent")
			expectErr(t, testutil.Do(t, "POST", u, map[string]any{"router_id": "nope"}), 404, "RouterNotFound")
			if l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("routers"); len(l) != 1 || l[0]["id"] != rID {
				t.Fatalf("routers of the agent: %v", l)
			}
			if l := testutil.Do(t, "GET", srv.URL+"/v2.0/routers/"+rID+"/l3-agents", nil).Expect(t, 200).List("agents"); len(l) != 1 || ids(l)[0] != l3a {
				t.Fatalf("agents of the router: %v", l)
			}
			for _, c := range [][3]string{{"GET", "/v2.0/agents/" + l3a + "/l3-routers", ""}, {"POST", "/v2.0/agents/" + l3a + "/l3-routers", `{"router_id": "` + rID + `"}`},
				{"DELETE", "/v2.0/agents/" + l3a + "/l3-routers/" + rID, ""}, {"GET", "/v2.0/routers/" + rID + "/l3-agents", ""}} {
				if got := asMember(srv, c[0], c[1], c[2]); got != 403 {
					t.Errorf("%s %s as a member: %d, want 403", c[0], c[1], got)
				}
			}
			testutil.Do(t, "DELETE", u+"/"+rID, nil).Expect(t, 204)
			if l := testutil.Do(t, "GET", u, nil).Expect(t, 200).List("routers"); len(l) != 0 {
				t.Fatalf("routers after the removal: %v", l)
			}
			expectErr(t, testutil.Do(t, "DELETE", u+"/nope", nil), 404, "RouterNotFound")
			testutil.Do(t, "POST", srv.URL+"/v2.0/agents/"+l3b+"/l3-routers", body).Expect(t, 201)
			expectErr(t, testutil.Do(t, "GET", srv.URL+"/v2.0/routers/00000000-0000-0000-0000-000000000000/l3-agents", nil), 404, "RouterNotFound")
			testutil.Do(t, "GET", srv.URL+"/v2.0/extensions/l3_agent_scheduler", nil).Expect(t, 200)
		})
	}
}
