package mechovn_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/golden"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// ovnConfig is the reference's configuration for the goldens (internal/ovn/testdata/golden/neutron.conf)
// with the NB and SB at nb and sb.
func ovnConfig(nb, sb string) map[string]string {
	return map[string]string{
		"DEFAULT.allow_overlapping_ips":     "true",
		"DEFAULT.service_plugins":           "segments",
		"DEFAULT.dns_domain":                "example.org.",
		"ml2.type_drivers":                  "geneve,flat,vlan",
		"ml2.tenant_network_types":          "geneve",
		"ml2.mechanism_drivers":             "ovn",
		"ml2.extension_drivers":             "port_security,dns",
		"ml2_type_flat.flat_networks":       "*",
		"ml2_type_vlan.network_vlan_ranges": "provider:100:200",
		"ml2_type_geneve.vni_ranges":        "1:10000",
		"ovn.ovn_nb_connection":             nb,
		"ovn.ovn_sb_connection":             sb,
		"ovn.dns_servers":                   "192.0.2.53",
		"ovn.maintenance_interval":          "1",
		"ovn.maintenance_min_age":           "0",
		"ovn.ovsdb_connection_timeout":      "10",
	}
}

// memServer starts neutrino with the reference's OVN configuration and the options extra on an
// in-memory OVN, and returns it with an NB client.
func memServer(t *testing.T, extra map[string]string) (*testutil.Server, *ovn.Client) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	conf := ovnConfig(nbRemote, sbRemote)
	maps.Copy(conf, extra)
	return testutil.StartServer(t, testutil.Options{Set: conf}), nb
}

// memOVN serves an NB and an SB (with chassis1, mapping the physical network provider) from memory
// and returns a client of each.
func memOVN(t *testing.T) (nbRemote, sbRemote string, nb, sb *ovn.Client) {
	dir := t.TempDir()
	nbSock, sbSock := filepath.Join(dir, "nb.sock"), filepath.Join(dir, "sb.sock")
	ovnmem.NB(t, nbSock)
	ovnmem.SB(t, sbSock)
	cfg := ovn.DefaultConfig()
	cfg.NB.Connection, cfg.SB.Connection, cfg.Timeout = "unix:"+nbSock, "unix:"+sbSock, 10*time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var err error
	if nb, err = ovn.NewNB(cfg, nil, log); err != nil {
		t.Fatal(err)
	}
	if sb, err = ovn.NewSB(cfg, nil, log); err != nil {
		t.Fatal(err)
	}
	nb.Start()
	sb.Start()
	t.Cleanup(nb.Close)
	t.Cleanup(sb.Close)
	enc := &sbdb.Encap{UUID: "uenc", ChassisName: "chassis1", IP: "127.0.0.1", Type: "geneve", Options: map[string]string{"csum": "true"}}
	ch := &sbdb.Chassis{UUID: "uch", Name: "chassis1", Hostname: "chassis1", Encaps: []string{"uenc"},
		OtherConfig: map[string]string{"ovn-bridge-mappings": "provider:br-ex", "ovn-cms-options": "enable-chassis-as-gw"}}
	if _, err := sb.Txn().Create(enc, ch).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	return cfg.NB.Connection, cfg.SB.Connection, nb, sb
}

// goldenRows are the rows of a golden NB file by table and key.
func goldenRows(t *testing.T, file string) map[string]map[string]map[string]any {
	b, err := os.ReadFile(filepath.Join("../ovn/testdata/golden/nb", file))
	if err != nil {
		t.Fatal(err)
	}
	var d golden.Dump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return byKey(d)
}

func byKey(d golden.Dump) map[string]map[string]map[string]any {
	out := map[string]map[string]map[string]any{}
	for table, rows := range d {
		out[table] = map[string]map[string]any{}
		for _, r := range rows {
			out[table][r["_key"].(string)] = r
		}
	}
	return out
}

// drop removes fields (a.b for a map's key) from a row copy.
func drop(row map[string]any, fields ...string) map[string]any {
	b, _ := json.Marshal(row)
	var c map[string]any
	_ = json.Unmarshal(b, &c)
	for _, f := range fields {
		k, sub, ok := strings.Cut(f, ".")
		if !ok {
			delete(c, k)
		} else if m, _ := c[k].(map[string]any); m != nil {
			delete(m, sub)
		}
	}
	return c
}

// TestGoldenNB replays the golden scenario's network, subnet, security group and port steps
// against neutrino with the ovn driver and compares the NB rows with what Neutron wrote
// (nb/13-vm4-create.json): switches, localnet, metadata and VM ports (SLAAC addresses included),
// subnet and per-port DHCP options, DNS records, port groups and ACLs (the QoS step is skipped).
func TestGoldenNB(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.ovn_metadata_enabled": "true"})
	sc, err := golden.Load("../ovn/testdata/golden/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{"startup": true, "net1-create": true, "sub1-create": true, "sub1v6-create": true, "net2-create": true,
		"net1-update": true, "vlan-net-create": true, "sg1-create": true, "vm1-create": true, "vm2-create": true, "sub1-update": true, "vm3-create": true, "vm4-create": true}
	var steps []golden.Step
	for _, st := range sc.Steps {
		if keep[st.Name] {
			steps = append(steps, st)
		}
	}
	sc.Steps = steps
	var last golden.Dump
	err = golden.Run(context.Background(), sc, golden.Env{API: &golden.API{Base: srv.URL}, NB: nb, Logf: t.Logf,
		Settle: 300 * time.Millisecond}, func(r golden.Result) error {
		last = r.Dump
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, want := byKey(last), goldenRows(t, "13-vm4-create.json")
	same := func(table, key string, fields ...string) {
		t.Helper()
		g, w := got[table][key], want[table][key]
		if g == nil || w == nil {
			t.Errorf("%s %s: neutrino %v, Neutron %v", table, key, g != nil, w != nil)
			return
		}
		if g, w := drop(g, fields...), drop(w, fields...); !reflect.DeepEqual(g, w) {
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			t.Errorf("%s %s:\nneutrino %s\nNeutron  %s", table, key, gb, wb)
		}
	}
	for key := range want["ACL"] {
		same("ACL", key, "label") // the in-memory server leaves out defaults the real one fills in
	}
	if len(got["ACL"]) != len(want["ACL"]) {
		t.Errorf("%d ACLs, Neutron %d", len(got["ACL"]), len(want["ACL"]))
	}
	same("Port_Group", "pg_{{sg1|_}}")
	same("Port_Group", "pg_{{default|_}}", "ports")
	same("Port_Group", "neutron_pg_drop", "ports")
	for _, ls := range []string{"neutron-{{net1}}", "neutron-{{net2}}", "neutron-{{vlannet}}"} {
		same("Logical_Switch", ls, "ports", "external_ids.neutron:revision_number")
	}
	// Neutron writes a bound port's LSP before the binding's revision bump (and its maintenance task
	// rewrites it later), neutrino after it: the revision numbers differ by one.
	for _, p := range []string{"{{vm3}}", "{{vm4}}", "provnet-{{vlannet.segment}}"} {
		same("Logical_Switch_Port", p, "up", "external_ids.neutron:revision_number")
	}
	for _, p := range []string{"{{vm1}}", "{{vm2}}"} {
		same("Logical_Switch_Port", p, "up", "external_ids.neutron:revision_number")
	}
	same("DNS", "ls=neutron-{{net1}}")
	// the metadata ports
	for _, p := range []string{"{{meta-net2}}", "{{meta-vlannet}}"} {
		same("Logical_Switch_Port", p, "up", "external_ids.neutron:revision_number")
	}
	same("Logical_Switch_Port", "{{meta-net1}}", "up", "external_ids.neutron:revision_number")
	same("DHCP_Options", "10.0.0.0/24 subnet={{sub1}} port={{vm2}}")
	same("DHCP_Options", "10.0.1.0/24 subnet={{sub2}}")
	same("DHCP_Options", "10.0.0.0/24 subnet={{sub1}}")
}

// nbClient is a client of the NB at remote.
func nbClient(t *testing.T, remote string) *ovn.Client {
	cfg := ovn.DefaultConfig()
	cfg.NB.Connection, cfg.Timeout = remote, 10*time.Second
	c, err := ovn.NewNB(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c
}
