package agents_test

import (
	"context"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

func report(t *testing.T, k *agents.Keeper, typ, host, zone string, start bool) string {
	t.Helper()
	st := map[string]any{"agent_type": typ, "binary": "neutron-x-agent", "host": host, "topic": "N/A",
		"configurations": map[string]any{"k": "v"}, "start_flag": start, "resource_versions": map[string]any{"Port": "1.7"}}
	if zone != "" {
		st["availability_zone"] = zone
	}
	status, _, err := k.Report(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return status
}

// TestAgentsAPI: agents registered by state reports (new, alive, revived
// after agent_down_time), /v2.0/agents list/show/filters (alive computed
// from the heartbeat), update of admin_state_up and description, delete
// (404 after), availability zones from DHCP and L3 agents, on every engine.
func TestAgentsAPI(t *testing.T) {
	for _, e := range testutil.Engines(t) {
		t.Run(e.Name, func(t *testing.T) {
			srv := testutil.StartServer(t, testutil.Options{DB: e.URL(t)})
			k := agents.From(srv.App.Env)
			now := time.Now()
			k.Now = func() time.Time { return now }
			if s := report(t, k, agents.TypeDHCP, "h1", "az1", true); s != "new" {
				t.Fatalf("first report: %s", s)
			}
			if s := report(t, k, agents.TypeDHCP, "h1", "az1", false); s != "alive" {
				t.Fatalf("second report: %s", s)
			}
			report(t, k, agents.TypeOVS, "h1", "", true)
			report(t, k, agents.TypeL3, "h2", "az2", true)
			list := testutil.Do(t, "GET", srv.URL+"/v2.0/agents", nil).Expect(t, 200).List("agents")
			if len(list) != 3 {
				t.Fatalf("agents: %v", list)
			}
			a := list[0]
			for _, f := range []string{"id", "agent_type", "binary", "topic", "host", "admin_state_up", "created_at", "started_at",
				"heartbeat_timestamp", "alive", "configurations", "description", "availability_zone", "resources_synced"} {
				if _, ok := a[f]; !ok {
					t.Errorf("agent lacks %s: %v", f, a)
				}
			}
			if _, ok := a["resource_versions"]; ok {
				t.Errorf("resource_versions shown: %v", a)
			}
			if hb, _ := a["heartbeat_timestamp"].(string); len(hb) != 19 || hb[10] != ' ' {
				t.Errorf("heartbeat_timestamp %q not as Neutron prints it", hb)
			}
			if a["alive"] != true {
				t.Errorf("not alive: %v", a)
			}
			dhcp := testutil.Do(t, "GET", srv.URL+"/v2.0/agents?agent_type=DHCP+agent&fields=id&fields=host", nil).Expect(t, 200).List("agents")
			if len(dhcp) != 1 || dhcp[0]["host"] != "h1" || len(dhcp[0]) != 2 {
				t.Fatalf("filtered: %v", dhcp)
			}
			zones := testutil.Do(t, "GET", srv.URL+"/v2.0/availability_zones", nil).Expect(t, 200).List("availability_zones")
			if len(zones) != 2 || zones[0]["name"] != "az1" || zones[0]["resource"] != "network" || zones[1]["resource"] != "router" {
				t.Fatalf("zones: %v", zones)
			}
			id := dhcp[0]["id"].(string)
			up := testutil.Do(t, "PUT", srv.URL+"/v2.0/agents/"+id, map[string]any{"agent": map[string]any{"admin_state_up": false, "description": "d"}}).Expect(t, 200).Obj("agent")
			if up["admin_state_up"] != false || up["description"] != "d" {
				t.Fatalf("updated: %v", up)
			}
			testutil.Do(t, "PUT", srv.URL+"/v2.0/agents/"+id, map[string]any{"agent": map[string]any{"host": "x"}}).Expect(t, 400)
			zones = testutil.Do(t, "GET", srv.URL+"/v2.0/availability_zones?resource=network", nil).Expect(t, 200).List("availability_zones")
			if len(zones) != 1 || zones[0]["state"] != "unavailable" {
				t.Fatalf("zones after admin down: %v", zones)
			}
			// agent_down_time (75 s) later: dead, then revived by a report
			now = now.Add(80 * time.Second)
			dead := testutil.Do(t, "GET", srv.URL+"/v2.0/agents?alive=false", nil).Expect(t, 200).List("agents")
			if len(dead) != 3 {
				t.Fatalf("dead agents: %v", dead)
			}
			testutil.Do(t, "GET", srv.URL+"/v2.0/agents?alive=maybe", nil).Expect(t, 400)
			if s := report(t, k, agents.TypeDHCP, "h1", "az1", false); s != "revived" {
				t.Fatalf("report after down time: %s", s)
			}
			alive := testutil.Do(t, "GET", srv.URL+"/v2.0/agents?alive=true", nil).Expect(t, 200).List("agents")
			if len(alive) != 1 || alive[0]["id"] != id || alive[0]["admin_state_up"] != false {
				t.Fatalf("alive agents: %v", alive)
			}
			testutil.Do(t, "DELETE", srv.URL+"/v2.0/agents/"+id, nil).Expect(t, 204)
			r := testutil.Do(t, "GET", srv.URL+"/v2.0/agents/"+id, nil).Expect(t, 404)
			if got := r.ErrorType(); got != "AgentNotFound" {
				t.Fatalf("show deleted: %v", got)
			}
			if st := testutil.Do(t, "POST", srv.URL+"/v2.0/agents", map[string]any{"agent": map[string]any{}}).Status; st < 400 || st >= 500 {
				t.Fatalf("create: %d", st)
			}
		})
	}
}
