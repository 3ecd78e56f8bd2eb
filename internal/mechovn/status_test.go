package mechovn_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
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
