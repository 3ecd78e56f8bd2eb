package mechovn_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// haGroup is a group's chassis as "name:priority" by priority, highest first, and its external_ids
// (never nil for a group that exists).
func haGroup(nb *ovn.Client, name string) (string, map[string]string) {
	ctx := context.Background()
	var gs []nbdb.HAChassisGroup
	_ = nb.List(ctx, &gs)
	for _, g := range gs {
		if g.Name != name {
			continue
		}
		var hcs []nbdb.HAChassis
		for _, u := range g.HaChassis {
			hc := nbdb.HAChassis{UUID: u}
			if nb.Get(ctx, &hc) == nil {
				hcs = append(hcs, hc)
			}
		}
		sort.Slice(hcs, func(i, j int) bool { return hcs[i].Priority > hcs[j].Priority })
		var out []string
		for _, hc := range hcs {
			out = append(out, fmt.Sprintf("%s:%d", hc.ChassisName, hc.Priority))
		}
		if g.ExternalIDs == nil {
			g.ExternalIDs = map[string]string{}
		}
		return strings.Join(out, " "), g.ExternalIDs
	}
	return "", nil
}

// TestExternalPorts: as ML2/OVN, a direct (SR-IOV) port without the switchdev capability is a
// Logical_Switch_Port of type external, without requested-chassis, in its network's HA chassis
// group neutron-<network>, which holds the gateway chassis in no availability zone (32767 for the
// first, one less for each next); with switchdev, or turned normal, it is an ordinary LSP again.
// New gateway chassis join the group below the lowest, chassis that go leave it, and the group goes
// with the network. Before, every port was an ordinary LSP bound to its requested chassis and no
// group was written.
func TestExternalPorts(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	ctx := context.Background()
	// chassis1 (memOVN): gateway in no zone
	addChassis(t, sb, "gw2", "provider:br-ex", "enable-chassis-as-gw")
	addChassis(t, sb, "comp", "provider:br-ex", "")
	addChassis(t, sb, "gwaz1", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az1")
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "sriov"})
	post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.5.0.0/24", "ip_version": 4})
	group := "neutron-" + net["id"].(string)
	vf := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct"})
	lsp := &nbdb.LogicalSwitchPort{Name: vf["id"].(string)}
	waitFor(t, 5*time.Second, "the VF's LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	if lsp.Type != "external" || lsp.Options["requested-chassis"] != "" || lsp.HaChassisGroup == nil {
		t.Fatalf("direct port: LSP type %q, options %v, ha_chassis_group %v", lsp.Type, lsp.Options, lsp.HaChassisGroup)
	}
	members, ext := haGroup(nb, group)
	if len(ext) != 1 || ext["neutron:availability_zone_hints"] != "" {
		t.Errorf("group external_ids %v", ext)
	}
	if members != "chassis1:32767 gw2:32766" && members != "gw2:32767 chassis1:32766" {
		t.Errorf("group %s holds %q, want chassis1 and gw2", group, members)
	}
	g := &nbdb.HAChassisGroup{UUID: *lsp.HaChassisGroup}
	if err := nb.Get(ctx, g); err != nil || g.Name != group {
		t.Fatalf("LSP's group %q (%v), want %s", g.Name, err, group)
	}
	for _, vnic := range []string{"direct-physical", "macvtap", "baremetal"} {
		p := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": vnic})
		l := &nbdb.LogicalSwitchPort{Name: p["id"].(string)}
		waitFor(t, 5*time.Second, vnic+" port's LSP", func() bool { return nb.Get(ctx, l) == nil })
		if l.Type != "external" || l.HaChassisGroup == nil || *l.HaChassisGroup != g.UUID {
			t.Errorf("%s port: LSP type %q, group %v", vnic, l.Type, l.HaChassisGroup)
		}
	}
	swdev := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct",
		"binding:host_id": "chassis1", "binding:profile": map[string]any{"capabilities": []string{"switchdev"}}})
	sl := &nbdb.LogicalSwitchPort{Name: swdev["id"].(string)}
	waitFor(t, 5*time.Second, "the switchdev port's LSP", func() bool { return nb.Get(ctx, sl) == nil })
	if sl.Type != "" || sl.Options["requested-chassis"] != "chassis1" || sl.HaChassisGroup != nil {
		t.Errorf("switchdev port: LSP type %q, options %v, group %v", sl.Type, sl.Options, sl.HaChassisGroup)
	}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+vf["id"].(string), body("port", map[string]any{"binding:vnic_type": "normal"})).Expect(t, 200)
	waitFor(t, 5*time.Second, "the VF turned normal: an ordinary LSP", func() bool {
		return nb.Get(ctx, lsp) == nil && lsp.Type == "" && lsp.HaChassisGroup == nil
	})

	expect := func(what, want string) {
		t.Helper()
		if err := poll(10*time.Second, func() bool { m, _ := haGroup(nb, group); return m == want }); err != nil {
			m, _ := haGroup(nb, group)
			t.Fatalf("%s: group holds %q, want %q", what, m, want)
		}
	}
	members, _ = haGroup(nb, group) // each external port written made the group again
	top := strings.SplitN(members, ":", 2)[0]
	second := map[string]string{"chassis1": "gw2", "gw2": "chassis1"}[top]
	addChassis(t, sb, "gw3", "provider:br-ex", "enable-chassis-as-gw")
	addChassis(t, sb, "gwaz2", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az2")
	expect("a new gateway chassis", top+":32767 "+second+":32766 gw3:32765")
	gone := &sbdb.Chassis{Name: top}
	if err := sb.Get(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Txn().Delete(gone).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	expect("the primary gone", second+":32766 gw3:32765")

	for _, p := range testutil.Do(t, "GET", srv.URL+"/v2.0/ports?network_id="+net["id"].(string), nil).Expect(t, 200).List("ports") {
		if p["device_owner"] != "network:distributed" {
			testutil.Do(t, "DELETE", srv.URL+"/v2.0/ports/"+p["id"].(string), nil).Expect(t, 204)
		}
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/networks/"+net["id"].(string), nil).Expect(t, 204)
	waitFor(t, 5*time.Second, "no HA chassis group", func() bool {
		var gs []nbdb.HAChassisGroup
		var hcs []nbdb.HAChassis
		_ = nb.List(ctx, &gs)
		_ = nb.List(ctx, &hcs)
		return len(gs) == 0 && len(hcs) == 0
	})
}

// TestExternalPortZones: a network with availability zone hints gets the gateway chassis of those
// zones in its group, with the hints in the group's external_ids.
func TestExternalPortZones(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	addChassis(t, sb, "gwaz1", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az1")
	addChassis(t, sb, "gwaz12", "provider:br-ex", "enable-chassis-as-gw,availability-zones=az1:az2")
	addChassis(t, sb, "compaz1", "provider:br-ex", "availability-zones=az1")
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	post := poster(t, srv.URL)
	// ML2/OVN's zones are the gateway chassis' zones
	testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"availability_zone_hints": []string{"az1", "nowhere"}})).Expect(t, 404)
	net := post("network", "networks", map[string]any{"availability_zone_hints": []string{"az1"}})
	post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "macvtap"})
	var members string
	var ext map[string]string
	waitFor(t, 5*time.Second, "the group", func() bool { members, ext = haGroup(nb, "neutron-"+net["id"].(string)); return members != "" })
	if ext["neutron:availability_zone_hints"] != "az1" {
		t.Errorf("group external_ids %v", ext)
	}
	if members != "gwaz1:32767 gwaz12:32766" && members != "gwaz12:32767 gwaz1:32766" {
		t.Errorf("group holds %q, want gwaz1 and gwaz12", members)
	}
}

// TestBindingVNICTypes: the driver binds what ML2/OVN binds: normal, vdpa and switchdev
// ports (vif_type ovs), remote-managed ports on their DPU's chassis (whose LSP gets the
// representor's vif-plug options), ports on a DPDK chassis as vhostuser, not external ports (direct without switchdev) nor VNIC types
// OVN does not support (their binding fails). Before, only normal ports were bound.
func TestBindingVNICTypes(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	addChassis(t, sb, "dpu1", "provider:br-ex", "card-serial-number=SN42")
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	switchdev := map[string]any{"capabilities": []string{"switchdev"}, "pci_vendor_info": "15b3:101e",
		"pci_slot": "0000:08:00.2", "physical_network": nil}
	for _, c := range []struct {
		vnic    string
		profile map[string]any
		vifType string
	}{
		{"normal", nil, "ovs"},
		{"vdpa", nil, "ovs"},
		{"direct", switchdev, "ovs"},
		{"direct", nil, "binding_failed"},
		{"direct-physical", nil, "binding_failed"},
		{"macvtap", nil, "binding_failed"},
		{"virtio-forwarder", nil, "binding_failed"},
		{"smart-nic", nil, "binding_failed"},
	} {
		attrs := map[string]any{"network_id": net["id"], "binding:vnic_type": c.vnic, "binding:host_id": "chassis1"}
		if c.profile != nil {
			attrs["binding:profile"] = c.profile
		}
		p := post("port", "ports", attrs)
		if p["binding:vif_type"] != c.vifType {
			t.Errorf("%s port (profile %v): vif_type %v, want %s", c.vnic, c.profile, p["binding:vif_type"], c.vifType)
			continue
		}
		if det, _ := p["binding:vif_details"].(map[string]any); c.vifType == "ovs" && (det["port_filter"] != true || det["connectivity"] != "l2") {
			t.Errorf("%s port: vif_details %v", c.vnic, det)
		}
	}
	// a SmartNIC DPU's VF: bound for the hypervisor's host on the DPU's chassis, which plugs its
	// representor port
	p := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "remote-managed", "binding:host_id": "hypervisor1",
		"binding:profile": map[string]any{"pci_vendor_info": "15b3:101e", "pci_slot": "0000:08:00.2", "physical_network": nil,
			"card_serial_number": "SN42", "pf_mac_address": "00:53:00:00:00:42", "vf_num": 4}})
	if p["binding:vif_type"] != "ovs" || p["binding:host_id"] != "hypervisor1" {
		t.Errorf("remote-managed port: vif_type %v, host %v", p["binding:vif_type"], p["binding:host_id"])
	}
	// a DPDK chassis: vhost-user
	dpdk := &sbdb.Chassis{UUID: "udpdk", Name: "dpdk1", Hostname: "dpdk1", OtherConfig: map[string]string{
		"datapath-type": "netdev", "iface-types": "dpdk,dpdkr,dpdkvhostuser,dpdkvhostuserclient,geneve,internal"}}
	if _, err := sb.Txn().Create(dpdk).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	v := post("port", "ports", map[string]any{"network_id": net["id"], "binding:host_id": "dpdk1"})
	wantDet := map[string]any{"port_filter": false, "vhostuser_mode": "server", "vhostuser_ovs_plug": true, "connectivity": "l2",
		"vhostuser_socket": "/var/run/openvswitch/vhu" + v["id"].(string)[:11]}
	if v["binding:vif_type"] != "vhostuser" || !equalJSON(v["binding:vif_details"], wantDet) {
		t.Errorf("port on a DPDK chassis: vif_type %v, vif_details %v, want vhostuser, %v", v["binding:vif_type"], v["binding:vif_details"], wantDet)
	}
	lsp := &nbdb.LogicalSwitchPort{Name: p["id"].(string)}
	waitFor(t, 5*time.Second, "the remote-managed port's LSP", func() bool { return nb.Get(context.Background(), lsp) == nil })
	want := map[string]string{"requested-chassis": "dpu1", "mcast_flood_reports": "true", "vif-plug-type": "representor",
		"vif-plug-mtu-request": "1442", "vif-plug:representor:pf-mac": "00:53:00:00:00:42", "vif-plug:representor:vf-num": "4"}
	if !equalJSON(lsp.Options, want) {
		t.Errorf("remote-managed port's LSP options %v, want %v", lsp.Options, want)
	}
}

// TestExternalPortDBSync: ovn-db-sync finds an external port whose group was lost and a group of
// no network, and repairs both.
func TestExternalPortDBSync(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.background_tasks": "false"})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	vf := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct-physical"})
	ctx := context.Background()
	lsp := &nbdb.LogicalSwitchPort{Name: vf["id"].(string)}
	waitFor(t, 5*time.Second, "the external LSP", func() bool { return nb.Get(ctx, lsp) == nil && lsp.HaChassisGroup != nil })
	lost := &nbdb.HAChassisGroup{UUID: *lsp.HaChassisGroup}
	lsp.HaChassisGroup = nil
	stray := &nbdb.HAChassisGroup{UUID: "ustray", Name: "neutron-00000000-0000-4000-8000-000000000000"}
	if _, err := nb.Txn().Update(lsp, &lsp.HaChassisGroup).Delete(lost).Create(stray).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := driverOf(t, srv)
	var out strings.Builder
	if n, err := d.DBSync(ctx, true, &out); err != nil || n != 2 || !strings.Contains(out.String(), "HA_Chassis_Group neutron-00000000") ||
		!strings.Contains(out.String(), "without its network's HA_Chassis_Group") {
		t.Fatalf("repair: %d differences, %v:\n%s", n, err, out.String())
	}
	waitFor(t, 5*time.Second, "the port's group back, the stray one gone", func() bool {
		members, _ := haGroup(nb, "neutron-"+net["id"].(string))
		_, strayExt := haGroup(nb, stray.Name)
		return nb.Get(ctx, lsp) == nil && lsp.HaChassisGroup != nil && members == "chassis1:32767" && strayExt == nil
	})
	out.Reset()
	if n, _ := d.DBSync(ctx, false, &out); n != 0 {
		t.Errorf("after the repair: %d differences:\n%s", n, out.String())
	}
}

// TestBindingProfile: binding:profile is checked as ML2/OVN's validate_and_get_data_from_binding_profile
// does on create and update (400 InvalidInput, 404 for a parent port that does not exist), and a
// container port's parent_name and tag reach its LSP. Before, any profile was accepted and ignored.
func TestBindingProfile(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	vm := post("port", "ports", map[string]any{"network_id": net["id"]})
	for _, c := range []struct {
		vnic    string
		profile map[string]any
		status  int
		msg     string
	}{
		{"normal", map[string]any{"capabilities": "switchdev"}, 400, "Invalid binding:profile. capabilities must be of type list."},
		{"normal", map[string]any{"parent_name": vm["id"]}, 400, "Invalid binding:profile. dict_keys(['parent_name', 'tag']) are all required."},
		{"normal", map[string]any{"parent_name": vm["id"], "tag": "7"}, 400, "Invalid binding:profile. tag 7 value invalid type"},
		{"normal", map[string]any{"parent_name": vm["id"], "tag": 4096}, 400, `Invalid binding:profile. tag "4096" must be an integer between 0 and 4095, inclusive`},
		{"normal", map[string]any{"parent_name": "00000000-0000-4000-8000-000000000000", "tag": 7}, 404, "Port 00000000-0000-4000-8000-000000000000 could not be found."},
		{"direct", map[string]any{"capabilities": []string{"switchdev"}, "pci_slot": "0000:08:00.2"}, 400,
			"Invalid binding:profile. dict_keys(['pci_vendor_info', 'pci_slot', 'physical_network']) are all required."},
		{"direct", map[string]any{"capabilities": []string{"switchdev"}, "pci_slot": "0000:08:00.2", "pci_vendor_info": 5, "physical_network": nil}, 400,
			"Invalid binding:profile. pci_vendor_info 5 value invalid type"},
		// without capabilities the switchdev set applies too (Zed checks the capability only when some are given)
		{"direct", map[string]any{"pci_slot": "0000:08:00.2"}, 400, "dict_keys(['pci_vendor_info', 'pci_slot', 'physical_network']) are all required.."},
		{"direct", map[string]any{"pci_slot": "0000:08:00.2", "pci_vendor_info": "8086:154d", "physical_network": "provider"}, 201, ""},
		{"remote-managed", map[string]any{"card_serial_number": "SN1"}, 400,
			"Invalid binding:profile. dict_keys(['pci_vendor_info', 'pci_slot', 'physical_network', 'card_serial_number', 'pf_mac_address', 'vf_num']) are all required."},
	} {
		r := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"], "binding:vnic_type": c.vnic, "binding:profile": c.profile}))
		if r.Status != c.status || c.msg != "" && !strings.Contains(string(r.Raw), strings.ReplaceAll(c.msg, `"`, `\"`)) {
			t.Errorf("profile %v: %d %s, want %d %q", c.profile, r.Status, r.Raw, c.status, c.msg)
		}
	}
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+vm["id"].(string), body("port", map[string]any{"binding:profile": map[string]any{"tag": 5}})).Expect(t, 400)
	child := post("port", "ports", map[string]any{"network_id": net["id"], "binding:profile": map[string]any{"parent_name": vm["id"], "tag": 7}})
	lsp := &nbdb.LogicalSwitchPort{Name: child["id"].(string)}
	waitFor(t, 5*time.Second, "the container port's LSP", func() bool { return nb.Get(context.Background(), lsp) == nil })
	if lsp.ParentName == nil || *lsp.ParentName != vm["id"] || lsp.Tag == nil || *lsp.Tag != 7 {
		t.Errorf("container port's LSP: parent_name %v, tag %v", lsp.ParentName, lsp.Tag)
	}
}

// TestExternalPortCheck: the lease holder's one-shot check (check_for_ha_chassis_group) points an
// external LSP that lost its group at its network's group again and deletes older releases'
// default_ha_chassis_group.
func TestExternalPortCheck(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	ctx := context.Background()
	old := &nbdb.HAChassisGroup{UUID: "uold", Name: "default_ha_chassis_group"}
	if _, err := nb.Txn().Create(old).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	conf := ovnConfig(nbRemote, sbRemote)
	conf["ovn.background_tasks"] = "false"
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "shared.db")
	srv := testutil.StartServer(t, testutil.Options{DB: dbURL, Set: conf})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	vf := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "macvtap"})
	lsp := &nbdb.LogicalSwitchPort{Name: vf["id"].(string)}
	waitFor(t, 5*time.Second, "the external LSP", func() bool { return nb.Get(ctx, lsp) == nil && lsp.HaChassisGroup != nil })
	group := *lsp.HaChassisGroup
	lsp.HaChassisGroup = nil
	if _, err := nb.Txn().Update(lsp, &lsp.HaChassisGroup).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	// a second process, whose maintenance runs the check
	conf["ovn.background_tasks"] = "true"
	testutil.StartServer(t, testutil.Options{DB: dbURL, Set: conf})
	waitFor(t, 10*time.Second, "the LSP's group back and the default group gone", func() bool {
		_, ext := haGroup(nb, "default_ha_chassis_group")
		return nb.Get(ctx, lsp) == nil && lsp.HaChassisGroup != nil && *lsp.HaChassisGroup == group && ext == nil
	})
}

// TestExternalPortPrimaryGone: when the chassis at 32767 has gone (here without the chassis loop,
// which would only drop it) the next external port written gives the group's remaining chassis
// 32767 and 32766 (Zed 21.0.0 draws them anew; TestHAPriorities checks the order).
func TestExternalPortPrimaryGone(t *testing.T) {
	nbRemote, sbRemote, nb, sb := memOVN(t)
	ctx := context.Background()
	addChassis(t, sb, "gw2", "provider:br-ex", "enable-chassis-as-gw")
	addChassis(t, sb, "gw3", "provider:br-ex", "enable-chassis-as-gw")
	conf := ovnConfig(nbRemote, sbRemote)
	conf["ovn.background_tasks"] = "false"
	srv := testutil.StartServer(t, testutil.Options{Set: conf})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n"})
	group := "neutron-" + net["id"].(string)
	vf := post("port", "ports", map[string]any{"network_id": net["id"], "binding:vnic_type": "direct"})
	var members string
	waitFor(t, 5*time.Second, "the group of three", func() bool { members, _ = haGroup(nb, group); return strings.Count(members, ":") == 3 })
	top := strings.SplitN(members, ":", 2)[0]
	gone := &sbdb.Chassis{Name: top}
	if err := sb.Get(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if _, err := sb.Txn().Delete(gone).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	waitFor(t, 5*time.Second, "the group without "+top, func() bool {
		n++
		testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+vf["id"].(string), body("port", map[string]any{"name": fmt.Sprint("vf", n)})).Expect(t, 200)
		members, _ = haGroup(nb, group)
		return !strings.Contains(members, top+":")
	})
	got := strings.Fields(members)
	if len(got) != 2 || !strings.HasSuffix(got[0], ":32767") || !strings.HasSuffix(got[1], ":32766") {
		t.Errorf("group holds %q, want the two chassis left at 32767 and 32766", members)
	}
}
