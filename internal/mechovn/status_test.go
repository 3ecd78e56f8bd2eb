package mechovn_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/client"
	"github.com/ovn-kubernetes/libovsdb/model"
	"github.com/ovn-kubernetes/libovsdb/ovsdb"

	"github.com/neutrino-os/neutrino/internal/mechovn"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func body(kind string, attrs map[string]any) map[string]any { return map[string]any{kind: attrs} }

// TestPortStatusFollowsUp: a port turns ACTIVE when its Logical_Switch_Port's up turns true (as
// ovn-controller sets it) and DOWN when it turns false, each time with a revision bump and the LSP
// rewritten with the new revision.
func TestPortStatusFollowsUp(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201)
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"], "binding:host_id": "chassis1"})).Expect(t, 201).Obj("port")
	id := port["id"].(string)
	if port["binding:vif_type"] != "ovs" || port["status"] != "DOWN" {
		t.Fatalf("bound port: %v %v", port["binding:vif_type"], port["status"])
	}
	ctx := context.Background()
	lsp := &nbdb.LogicalSwitchPort{Name: id}
	waitFor(t, 5*time.Second, "the LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	get := func() map[string]any {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Expect(t, 200).Obj("port")
	}
	rev0 := get()["revision_number"].(float64)
	for _, up := range []bool{true, false} {
		u := up
		lsp.Up = &u
		if _, err := nb.Txn().Update(lsp, &lsp.Up).Commit(ctx); err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{true: "ACTIVE", false: "DOWN"}[up]
		waitFor(t, 5*time.Second, "status "+want, func() bool { return get()["status"] == want })
		rev := get()["revision_number"].(float64)
		if rev <= rev0 {
			t.Errorf("status %s without a revision bump (%v after %v)", want, rev, rev0)
		}
		waitFor(t, 5*time.Second, "the LSP at the new revision", func() bool {
			_ = nb.Get(ctx, lsp)
			return lsp.ExternalIDs["neutron:revision_number"] == formatRev(rev)
		})
		rev0 = rev
	}
}

func formatRev(f float64) string { return strconv.FormatInt(int64(f), 10) }

// TestRepairAfterNBOutage: changes made while the NB is away (here: not there yet) reach it once it
// answers, without restarting neutrino (the maintenance task repairs what the API path skipped).
func TestRepairAfterNBOutage(t *testing.T) {
	_, sbRemote, _, _ := memOVN(t)
	sock := filepath.Join(t.TempDir(), "late-nb.sock")
	conf := ovnConfig("unix:"+sock, sbRemote)
	conf["ovn.ovsdb_retry_max_interval"] = "1"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201)
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"], "name": "p1"})).Expect(t, 201).Obj("port")
	gone := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "gone"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/networks/"+gone["id"].(string), nil).Expect(t, 204)
	testutil.Do(t, "PUT", srv.URL+"/v2.0/networks/"+net["id"].(string), body("network", map[string]any{"name": "renamed"})).Expect(t, 200)

	ovnmem.NB(t, sock)
	nb := nbClient(t, "unix:"+sock)
	ctx := context.Background()
	waitFor(t, 15*time.Second, "the NB to converge", func() bool {
		var ls []nbdb.LogicalSwitch
		var dhcp []nbdb.DHCPOptions
		lsp := &nbdb.LogicalSwitchPort{Name: port["id"].(string)}
		_ = nb.List(ctx, &ls)
		_ = nb.List(ctx, &dhcp)
		return len(ls) == 1 && ls[0].ExternalIDs["neutron:network_name"] == "renamed" && len(dhcp) == 1 &&
			nb.Get(ctx, lsp) == nil && len(ls[0].Ports) == 1
	})
}

// TestDBSync: ovn-db-sync finds an LSP deleted behind neutrino's back, a stale switch and a switch
// of no network, repairs them, and then finds nothing.
func TestDBSync(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.background_tasks": "false"})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201)
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"]})).Expect(t, 201).Obj("port")
	ctx := context.Background()
	lsp := &nbdb.LogicalSwitchPort{Name: port["id"].(string)}
	ls := &nbdb.LogicalSwitch{}
	waitFor(t, 5*time.Second, "the LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	var all []nbdb.LogicalSwitch
	_ = nb.List(ctx, &all)
	*ls = all[0]
	ls.ExternalIDs["neutron:revision_number"] = "0"
	stray := &nbdb.LogicalSwitch{UUID: "ustray", Name: "neutron-00000000-0000-4000-8000-000000000000"}
	if _, err := nb.Txn().Update(ls, &ls.ExternalIDs).Delete(lsp).Create(stray).Step(func(api client.API) ([]ovsdb.Operation, error) {
		return api.Where(ls).Mutate(ls, model.Mutation{Field: &ls.Ports, Mutator: "delete", Value: []string{lsp.UUID}})
	}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := driverOf(t, srv)
	var out strings.Builder
	if n, err := d.DBSync(ctx, false, &out); err != nil || n != 3 {
		t.Fatalf("log mode: %d differences, %v:\n%s", n, err, out.String())
	}
	t.Logf("log:\n%s", out.String())
	if n, err := d.DBSync(ctx, true, &out); err != nil || n != 3 {
		t.Fatalf("repair mode: %d differences, %v", n, err)
	}
	out.Reset()
	waitFor(t, 5*time.Second, "a clean NB", func() bool {
		out.Reset()
		n, _ := d.DBSync(ctx, false, &out)
		return n == 0
	})
}

func driverOf(t *testing.T, srv *testutil.Server) *mechovn.Driver {
	p, _ := srv.App.Env.Plugin("ml2").(*ml2.Plugin)
	d, _ := p.MechanismDriver("ovn").(*mechovn.Driver)
	if d == nil {
		t.Fatal("no ovn driver")
	}
	return d
}

// TestOneWriterAmongProcesses: two servers share a database and an NB; when a port's LSP goes up,
// its status is written once (one revision bump), by the server holding the maintenance lease.
func TestOneWriterAmongProcesses(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	conf := ovnConfig(nbRemote, sbRemote)
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "shared.db")
	a := testutil.StartServer(t, testutil.Options{DB: dbURL, Set: conf})
	b := testutil.StartServer(t, testutil.Options{DB: dbURL, Set: conf})
	waitFor(t, 5*time.Second, "one leader", func() bool { return driverOf(t, a).Leader() != driverOf(t, b).Leader() })
	net := testutil.Do(t, "POST", a.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", b.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201)
	port := testutil.Do(t, "POST", b.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"], "binding:host_id": "chassis1"})).Expect(t, 201).Obj("port")
	id := port["id"].(string)
	ctx := context.Background()
	lsp := &nbdb.LogicalSwitchPort{Name: id}
	waitFor(t, 5*time.Second, "the LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	get := func() map[string]any {
		return testutil.Do(t, "GET", a.URL+"/v2.0/ports/"+id, nil).Expect(t, 200).Obj("port")
	}
	rev := get()["revision_number"].(float64)
	up := true
	lsp.Up = &up
	if _, err := nb.Txn().Update(lsp, &lsp.Up).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "ACTIVE", func() bool { return get()["status"] == "ACTIVE" })
	time.Sleep(time.Second) // a second writer would have written by now
	if got := get()["revision_number"].(float64); got != rev+1 {
		t.Errorf("revision %v after one status change from %v: written more than once", got, rev)
	}
	if driverOf(t, a).Leader() == driverOf(t, b).Leader() {
		t.Error("both servers or neither hold the maintenance lease")
	}
}

// TestAgents: /v2.0/agents lists the SB chassis as ML2/OVN's agents (a gateway chassis as the
// "OVN Controller Gateway agent", the metadata agent from Chassis_Private), alive while it follows
// nb_cfg, which listing bumps.
func TestAgents(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	priv := &sbdb.ChassisPrivate{UUID: "upriv", Name: "chassis1", ExternalIDs: map[string]string{
		"neutron:ovn-metadata-id": "9b0f1c3e-0000-4000-8000-000000000001", "neutron:ovn-metadata-sb-cfg": "0"}}
	if _, err := sb.Txn().Create(priv).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := nb.Txn().Create(&nbdb.NBGlobal{UUID: "ug"}).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	var got map[string]map[string]any
	waitFor(t, 5*time.Second, "two agents", func() bool {
		got = map[string]map[string]any{}
		for _, a := range testutil.Do(t, "GET", srv.URL+"/v2.0/agents", nil).Expect(t, 200).List("agents") {
			got[a["agent_type"].(string)] = a
		}
		// the NB connection may come after the SB one: until then no chassis can be judged alive
		return len(got) == 2 && got["OVN Controller Gateway agent"]["alive"] == true
	})
	gw, md := got["OVN Controller Gateway agent"], got["OVN Metadata agent"]
	if gw == nil || gw["id"] != "chassis1" || gw["host"] != "chassis1" || gw["alive"] != true || gw["binary"] != "ovn-controller" {
		t.Errorf("controller agent %v", gw)
	}
	if md == nil || md["id"] != priv.ExternalIDs["neutron:ovn-metadata-id"] || md["binary"] != "neutron-ovn-metadata-agent" {
		t.Errorf("metadata agent %v", md)
	}
	var g []nbdb.NBGlobal
	if err := nb.List(context.Background(), &g); err != nil || len(g) != 1 || g[0].NbCfg != 1 {
		t.Errorf("nb_cfg after a listing: %v %v", g, err)
	}
	one := testutil.Do(t, "GET", srv.URL+"/v2.0/agents/chassis1", nil).Expect(t, 200).Obj("agent")
	if one["agent_type"] != "OVN Controller Gateway agent" {
		t.Errorf("show: %v", one)
	}
}
