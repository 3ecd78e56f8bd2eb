package mechovn_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// subportLSP is a port's LSP parent_name and tag ("", 0 without them; ok false without the LSP).
func subportLSP(nb *ovn.Client, id string) (parent string, tag int, ok bool) {
	lsp := &nbdb.LogicalSwitchPort{Name: id}
	if nb.Get(context.Background(), lsp) != nil {
		return "", 0, false
	}
	if lsp.ParentName != nil {
		parent = *lsp.ParentName
	}
	if lsp.Tag != nil {
		tag = *lsp.Tag
	}
	return parent, tag, true
}

// TestOVNTrunk: with the ovn driver, as Neutron's OVN trunk driver, a trunk may be made on a bound
// parent (and deleted while it is bound); a sub-port's LSP gets parent_name = the parent and tag =
// its VLAN, its binding:profile parent_name and tag, VIF type ovs, owner trunk:subport and the
// parent's status, the trunk turns ACTIVE; removing it or deleting the trunk clears all that;
// segmentation types other than vlan (inherit of a Geneve network) are refused; ovn-db-sync finds
// and repairs a tag changed behind neutrino's back. Before, a bound parent was ParentPortInUse and
// sub-ports were plain LSPs.
func TestOVNTrunk(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "segments,trunk"})
	post := poster(t, srv.URL)
	ctx := context.Background()
	port := func(id string) map[string]any {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Expect(t, 200).Obj("port")
	}
	getTrunk := func(id string) map[string]any {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/trunks/"+id, nil).Expect(t, 200).Obj("trunk")
	}
	net1 := post("network", "networks", map[string]any{"name": "n1"})
	net2 := post("network", "networks", map[string]any{"name": "n2"})
	for i, n := range []map[string]any{net1, net2} {
		post("subnet", "subnets", map[string]any{"network_id": n["id"], "cidr": []string{"10.61.0.0/24", "10.62.0.0/24"}[i], "ip_version": 4})
	}
	parent := post("port", "ports", map[string]any{"network_id": net1["id"], "binding:host_id": "chassis1"})
	pid := parent["id"].(string)
	if parent["binding:vif_type"] != "ovs" {
		t.Fatalf("parent binding %v", parent["binding:vif_type"])
	}
	// the parent comes up: the sub-ports take its status
	lsp := &nbdb.LogicalSwitchPort{Name: pid}
	waitFor(t, 5*time.Second, "the parent's LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	up := true
	lsp.Up = &up
	if _, err := nb.Txn().Update(lsp, &lsp.Up).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the parent ACTIVE", func() bool { return port(pid)["status"] == "ACTIVE" })

	sub1 := post("port", "ports", map[string]any{"network_id": net2["id"]})
	sub2 := post("port", "ports", map[string]any{"network_id": net2["id"]})
	s1, s2 := sub1["id"].(string), sub2["id"].(string)
	// inherit resolves to the Geneve network's type, which OVN's driver does not trunk
	r := testutil.Do(t, "POST", srv.URL+"/v2.0/trunks", body("trunk", map[string]any{"port_id": pid,
		"sub_ports": []any{map[string]any{"port_id": s1, "segmentation_type": "inherit"}}}))
	if r.Status != 400 || !strings.Contains(string(r.Raw), "Unknown segmentation_type 'geneve'") {
		t.Fatalf("inherit of a geneve network: %d %s", r.Status, r.Raw)
	}
	tr := post("trunk", "trunks", map[string]any{"port_id": pid,
		"sub_ports": []any{map[string]any{"port_id": s1, "segmentation_type": "vlan", "segmentation_id": 101}}})
	tid := tr["id"].(string)
	// the answer is the trunk as the driver left it (Tempest's test_create_update_trunk compares revisions)
	if shown := getTrunk(tid); tr["status"] != "ACTIVE" || shown["status"] != "ACTIVE" || tr["revision_number"] != shown["revision_number"] {
		t.Errorf("trunk created %v rev %v, shown %v rev %v", tr["status"], tr["revision_number"], shown["status"], shown["revision_number"])
	}
	checkSet := func(id string, tag int) {
		t.Helper()
		waitFor(t, 5*time.Second, "the sub-port's LSP with its parent", func() bool {
			p, g, _ := subportLSP(nb, id)
			return p == pid && g == tag
		})
		p := port(id)
		prof, _ := p["binding:profile"].(map[string]any)
		if prof["parent_name"] != pid || prof["tag"] != float64(tag) || p["binding:vif_type"] != "ovs" ||
			p["device_owner"] != "trunk:subport" || p["status"] != "ACTIVE" {
			t.Errorf("sub-port %s: profile %v, vif %v, owner %v, status %v", id, prof, p["binding:vif_type"], p["device_owner"], p["status"])
		}
		l := &nbdb.LogicalSwitchPort{Name: id}
		if nb.Get(ctx, l) != nil || l.ExternalIDs["neutron:revision_number"] != formatRev(p["revision_number"].(float64)) ||
			l.ExternalIDs["neutron:device_owner"] != "trunk:subport" {
			t.Errorf("sub-port LSP external_ids %v, port revision %v", l.ExternalIDs, p["revision_number"])
		}
	}
	checkSet(s1, 101)

	added := testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+tid+"/add_subports", map[string]any{"sub_ports": []any{
		map[string]any{"port_id": s2, "segmentation_type": "vlan", "segmentation_id": 102}}}).Expect(t, 200).Body
	checkSet(s2, 102)
	if shown := getTrunk(tid); added["status"] != "ACTIVE" || added["revision_number"] != shown["revision_number"] {
		t.Errorf("add_subports answered %v rev %v, shown %v rev %v", added["status"], added["revision_number"], shown["status"], shown["revision_number"])
	}

	// a tag changed behind neutrino's back: ovn-db-sync finds it and puts it back
	syncFinds(t, srv, -1, "")
	l := &nbdb.LogicalSwitchPort{Name: s2}
	_ = nb.Get(ctx, l)
	bad := 7
	l.Tag = &bad
	if _, err := nb.Txn().Update(l, &l.Tag).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the tampered tag", func() bool { _, g, _ := subportLSP(nb, s2); return g == 7 })
	syncFinds(t, srv, 1, "parent_name or tag differ from the port's binding:profile")
	if _, g, _ := subportLSP(nb, s2); g != 102 {
		t.Errorf("tag after ovn-db-sync %d", g)
	}

	checkUnset := func(id string) {
		t.Helper()
		waitFor(t, 5*time.Second, "the sub-port's LSP without a parent", func() bool {
			p, g, ok := subportLSP(nb, id)
			return ok && p == "" && g == 0
		})
		p := port(id)
		if prof, _ := p["binding:profile"].(map[string]any); len(prof) != 0 || p["binding:vif_type"] != "unbound" || p["device_owner"] != "" {
			t.Errorf("sub-port %s after removal: profile %v, vif %v, owner %q", id, prof, p["binding:vif_type"], p["device_owner"])
		}
	}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/trunks/"+tid+"/remove_subports", map[string]any{"sub_ports": []any{
		map[string]any{"port_id": s1}}}).Expect(t, 200)
	checkUnset(s1)
	if p, g, _ := subportLSP(nb, s2); p != pid || g != 102 {
		t.Errorf("the other sub-port: %q %d", p, g)
	}
	// a bound parent's trunk can go (OVN trunks bound ports): its sub-ports are unset
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/trunks/"+tid, nil).Expect(t, 204)
	checkUnset(s2)

	// a bound port the driver does not serve (binding failed: no such chassis) stays refused
	other := post("port", "ports", map[string]any{"network_id": net1["id"], "binding:host_id": "nowhere"})
	r = testutil.Do(t, "POST", srv.URL+"/v2.0/trunks", body("trunk", map[string]any{"port_id": other["id"]}))
	if r.Status != 409 || r.ErrorType() != "ParentPortInUse" {
		t.Fatalf("trunk on a port bound elsewhere: %d %s", r.Status, r.Raw)
	}
	syncFinds(t, srv, 0, "")
}

// TestOVNTrunkNBAway: a trunk made while the NB is away (here: not there yet) gets every sub-port
// set in the database (binding:profile parent_name and tag, owner trunk:subport) and turns ACTIVE;
// the maintenance task writes the sub-ports' LSPs with their parent and tag once the NB answers.
// Before, the first sub-port's skipped NB write stopped the driver: the others were never set and
// the trunk stayed DOWN.
func TestOVNTrunkNBAway(t *testing.T) {
	_, sbRemote, _, _ := memOVN(t)
	sock := filepath.Join(t.TempDir(), "late-nb.sock")
	conf := ovnConfig("unix:"+sock, sbRemote)
	conf["DEFAULT.service_plugins"] = "segments,trunk"
	conf["ovn.ovsdb_retry_max_interval"] = "1"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	parent := post("port", "ports", map[string]any{"network_id": net["id"]})
	var subs []any
	var ids []string
	for i := range 2 {
		id := post("port", "ports", map[string]any{"network_id": net["id"]})["id"].(string)
		ids = append(ids, id)
		subs = append(subs, map[string]any{"port_id": id, "segmentation_type": "vlan", "segmentation_id": 101 + i})
	}
	tr := post("trunk", "trunks", map[string]any{"port_id": parent["id"], "sub_ports": subs})
	waitFor(t, 5*time.Second, "the trunk ACTIVE", func() bool {
		return testutil.Do(t, "GET", srv.URL+"/v2.0/trunks/"+tr["id"].(string), nil).Expect(t, 200).Obj("trunk")["status"] == "ACTIVE"
	})
	for i, id := range ids {
		p := testutil.Do(t, "GET", srv.URL+"/v2.0/ports/"+id, nil).Expect(t, 200).Obj("port")
		if prof, _ := p["binding:profile"].(map[string]any); prof["parent_name"] != parent["id"] || prof["tag"] != float64(101+i) || p["device_owner"] != "trunk:subport" {
			t.Errorf("sub-port %d: profile %v, owner %v", i, p["binding:profile"], p["device_owner"])
		}
	}
	ovnmem.NB(t, sock)
	nb := nbClient(t, "unix:"+sock)
	for i, id := range ids {
		waitFor(t, 15*time.Second, "the sub-port's LSP with its parent", func() bool {
			p, g, _ := subportLSP(nb, id)
			return p == parent["id"] && g == 101+i
		})
	}
}
