package golden

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/ovnmem"
	"github.com/ovn-kubernetes/libovsdb/model"
)

const (
	netID  = "0b5f8a4e-3d1c-4e7a-9a61-2f3c4d5e6f70"
	sgID   = "7d3e2a1b-9c8f-4e6d-8b5a-1f2e3d4c5b6a"
	portID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
)

func testSymbols() *Symbols {
	s := NewSymbols()
	s.addID(netID, "net1")
	s.addID(sgID, "sg1")
	s.addID(portID, "vm1")
	s.addMAC("fa:16:3e:11:22:33", "vm1")
	s.addIP("10.0.0.1", "rif", "sub1")
	s.addIP("fd00::f816:3eff:fe11:2233", "vm1", "sub1v6")
	return s
}

func TestNormalizeStrings(t *testing.T) {
	s := testSymbols()
	cases := map[string]string{
		"neutron-" + netID:                            "neutron-{{net1}}",
		"pg_" + strings.ReplaceAll(sgID, "-", "_"):    "pg_{{sg1|_}}",
		"inport == @pg_x && ip4.src == 10.0.0.1":      "inport == @pg_x && ip4.src == {{rif@sub1}}",
		"10.0.0.10 10.0.0.1/24 110.0.0.1":             "10.0.0.10 {{rif@sub1}}/24 110.0.0.1",
		"fa:16:3e:11:22:33 fd00::f816:3eff:fe11:2233": "{{vm1.mac}} {{vm1@sub1v6}}",
		"10.0.0.1:8080":                               "{{rif@sub1}}:8080",
		"fa:16:3e:ab:cd:ef":                           "<random MAC>",
		"a5a5a5a5-0000-4000-8000-000000000000":        "a5a5a5a5-0000-4000-8000-000000000000",
		"dead beef 12:30":                             "dead beef 12:30",
		"host-fd00--f816-3eff-fe11-2233.example.org.": "{{vm1@sub1v6|host}}.example.org.",
		"3.3.2.2.1.1.e.f.f.f.e.3.6.1.8.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa": "{{vm1@sub1v6|ptr}}",
		"1.0.0.10.in-addr.arpa x 11.0.0.10.in-addr.arpa":                           "{{rif@sub1|ptr}} x 11.0.0.10.in-addr.arpa",
	}
	for in, want := range cases {
		if got := s.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	s2 := NewSymbols()
	s2.Keep(map[string]bool{"10.0.0.10": true})
	s2.addIP("10.0.0.10", "vm1", "sub1")
	if got := s2.Normalize("10.0.0.10"); got != "10.0.0.10" {
		t.Errorf("an address written in the scenario was replaced: %q", got)
	}
	if v, ok := s2.Value("vm1@sub1"); !ok || v != "10.0.0.10" {
		t.Errorf("template value of a kept address: %q %v", v, ok)
	}
}

func TestExpand(t *testing.T) {
	s := testSymbols()
	got, err := Expand("/v2.0/networks/{{net1}}/x/{{ sg1|_ }}/{{vm1.mac}}", s)
	if err != nil || got != "/v2.0/networks/"+netID+"/x/"+strings.ReplaceAll(sgID, "-", "_")+"/fa:16:3e:11:22:33" {
		t.Fatalf("Expand: %q %v", got, err)
	}
	if _, err := Expand("{{nope}}", s); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("unknown template: %v", err)
	}
	v, err := expandAny(map[string]any{"a": []any{"{{net1}}", 3}}, s)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"a":["`+netID+`",3]}` {
		t.Fatalf("expandAny: %s", b)
	}
}

// TestDumpNB writes rows as ML2/OVN would into the in-memory server and checks their normalised dump.
func TestDumpNB(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "nb.sock")
	ovnmem.NB(t, sock)
	cfg := ovn.DefaultConfig()
	cfg.NB.Connection = "unix:" + sock
	cfg.Timeout = 5 * time.Second
	c, err := ovn.NewNB(cfg, []model.Model{&nbdb.NBGlobal{}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	defer c.Close()
	up := false
	acl := &nbdb.ACL{UUID: "uacl", Direction: "to-lport", Priority: 1002, Action: "allow-related",
		Match:       "outport == @pg_" + strings.ReplaceAll(sgID, "-", "_") + " && ip4",
		ExternalIDs: map[string]string{"neutron:security_group_rule_id": portID}}
	pg := &nbdb.PortGroup{UUID: "upg", Name: "pg_" + strings.ReplaceAll(sgID, "-", "_"), ACLs: []string{"uacl"},
		Ports: []string{"ulsp"}}
	lsp := &nbdb.LogicalSwitchPort{UUID: "ulsp", Name: portID, Up: &up,
		Addresses:   []string{"fa:16:3e:11:22:33 fd00::f816:3eff:fe11:2233"},
		ExternalIDs: map[string]string{"neutron:security_group_ids": sgID + " " + netID}}
	ls := &nbdb.LogicalSwitch{UUID: "uls", Name: "neutron-" + netID, Ports: []string{"ulsp"}}
	glob := &nbdb.NBGlobal{NbCfg: 7, ExternalIDs: map[string]string{"neutron:liveness_check_at": "2026-01-01"},
		Options: map[string]string{"mac_prefix": "aa:bb:cc", "name": "x"}}
	if _, err := c.Txn().Create(acl, pg, lsp, ls, glob).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := DumpNB(context.Background(), c, testSymbols())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ACL":                 `[{"_key":"{{vm1}}","action":"allow-related","direction":"to-lport","external_ids":{"neutron:security_group_rule_id":"{{vm1}}"},"log":false,"match":"outport == @pg_{{sg1|_}} \u0026\u0026 ip4","priority":1002}]`,
		"Logical_Switch":      `[{"_key":"neutron-{{net1}}","name":"neutron-{{net1}}","ports":["@Logical_Switch_Port:{{vm1}}"]}]`,
		"Logical_Switch_Port": `[{"_key":"{{vm1}}","addresses":["{{vm1.mac}} {{vm1@sub1v6}}"],"external_ids":{"neutron:security_group_ids":"{{net1}} {{sg1}}"},"name":"{{vm1}}","up":false}]`,
		"NB_Global":           `[{"_key":".","external_ids":{"neutron:liveness_check_at":"\u003ctime\u003e"},"ipsec":false,"options":{"name":"x"}}]`,
		"Port_Group":          `[{"_key":"pg_{{sg1|_}}","acls":["@ACL:{{vm1}}"],"name":"pg_{{sg1|_}}","ports":["@Logical_Switch_Port:{{vm1}}"]}]`,
	}
	if got := d.Tables(); strings.Join(got, ",") != "ACL,Logical_Switch,Logical_Switch_Port,NB_Global,Port_Group" {
		t.Fatalf("tables %v", got)
	}
	for table, w := range want {
		b, _ := json.Marshal(d[table])
		if string(b) != w {
			t.Errorf("%s:\n got %s\nwant %s", table, b, w)
		}
	}
	d2, _ := DumpNB(context.Background(), c, testSymbols())
	if !d.Equal(d2) || Diff(d, d2) != "" {
		t.Fatal("two dumps of the same database differ")
	}
	delete(d2, "ACL")
	if diff := Diff(d, d2); !strings.HasPrefix(diff, "- ACL {{vm1}}") {
		t.Fatalf("diff of a missing row: %q", diff)
	}
}

// TestGoldens checks that the recorded goldens belong to the scenario: one NB dump per dumped step,
// in order, each a valid dump, the calls file naming every step, and the teardown leaving only what
// the project keeps.
func TestGoldens(t *testing.T) {
	sc, err := Load("../testdata/golden/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../testdata/golden/nb/*.json")
	sort.Strings(files)
	var dumped []string
	for _, st := range sc.Steps {
		if !st.NoDump {
			dumped = append(dumped, st.Name)
		}
	}
	if len(files) != len(dumped) {
		t.Fatalf("%d NB goldens for %d dumped steps", len(files), len(dumped))
	}
	var last Dump
	for i, f := range files {
		if want := dumped[i]; !strings.HasSuffix(f, "-"+want+".json") {
			t.Fatalf("golden %s, want step %s", f, want)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		last = Dump{}
		if err := json.Unmarshal(b, &last); err != nil || len(last["NB_Global"]) != 1 {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if got := strings.Join(last.Tables(), ","); got != "ACL,NB_Global,Port_Group" {
		t.Errorf("after the teardown the NB holds %s", got)
	}
	var calls []Result
	b, err := os.ReadFile("../testdata/golden/calls.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &calls); err != nil || len(calls) != len(sc.Steps) {
		t.Fatalf("calls.json: %d steps, %v", len(calls), err)
	}
}
