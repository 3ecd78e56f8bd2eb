package mechovn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/ovn/golden"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestQoSMinimumBandwidth: the egress minimum_bandwidth rule of a port's effective policy is its
// LSP's qos_min_rate, as ML2/OVN writes it; a policy with only that rule gives no QoS row; an
// ingress minimum rule is not enforced; the key survives port updates and goes with the policy;
// ovn-db-sync finds and repairs a missing one. The rule types with OVN are Zed's
// (minimum_packet_rate is not one), and a minimum_packet_rate rule on a policy of an OVN port is
// refused with QosRuleNotSupported (409).
func TestQoSMinimumBandwidth(t *testing.T) {
	srv, nb := qosServer(t, map[string]string{"ovn.background_tasks": "false"})
	url := srv.URL + "/v2.0/"
	post := poster(t, srv.URL)
	put := func(path string, kind string, attrs map[string]any) {
		t.Helper()
		testutil.Do(t, "PUT", url+path, body(kind, attrs)).Expect(t, 200)
	}
	var types []string
	for _, rt := range testutil.Do(t, "GET", url+"qos/rule-types", nil).Expect(t, 200).List("rule_types") {
		types = append(types, rt["type"].(string))
	}
	if want := []string{"bandwidth_limit", "dscp_marking", "minimum_bandwidth"}; !reflect.DeepEqual(types, want) {
		t.Errorf("rule types with OVN %v, want %v", types, want)
	}
	net := post("network", "networks", map[string]any{"name": "n"})
	post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})
	pol := post("policy", "qos/policies", map[string]any{"name": "p"})
	rules := "qos/policies/" + pol["id"].(string) + "/"
	minRule := post("minimum_bandwidth_rule", rules+"minimum_bandwidth_rules", map[string]any{"min_kbps": 1000})
	port := post("port", "ports", map[string]any{"network_id": net["id"], "qos_policy_id": pol["id"], "binding:host_id": "chassis1"})
	id := port["id"].(string)
	ctx := context.Background()
	// state is the port's qos_min_rate ("-" for none) and its QoS rows' rates by direction.
	state := func() string {
		lsp := &nbdb.LogicalSwitchPort{Name: id}
		if nb.Get(ctx, lsp) != nil {
			return "no LSP"
		}
		rate, ok := lsp.Options["qos_min_rate"]
		if !ok {
			rate = "-"
		}
		var qs []nbdb.QoS
		_ = nb.List(ctx, &qs)
		var rows []string
		for _, q := range qs {
			rows = append(rows, fmt.Sprintf("%s:%d", q.Direction, q.Bandwidth["rate"]))
		}
		return "min=" + rate + " rows=" + strings.Join(rows, ",")
	}
	expect := func(what, want string) {
		t.Helper()
		if err := poll(5*time.Second, func() bool { return state() == want }); err != nil {
			t.Fatalf("%s: %s, want %s", what, state(), want)
		}
	}
	expect("minimum rule only", "min=1000 rows=")
	post("bandwidth_limit_rule", rules+"bandwidth_limit_rules", map[string]any{"max_kbps": 3000})
	expect("with a limit", "min=1000 rows=from-lport:3000")
	put(rules+"minimum_bandwidth_rules/"+minRule["id"].(string), "minimum_bandwidth_rule", map[string]any{"min_kbps": 1500})
	expect("rule updated", "min=1500 rows=from-lport:3000")
	post("minimum_bandwidth_rule", rules+"minimum_bandwidth_rules", map[string]any{"min_kbps": 700, "direction": "ingress"})
	put("ports/"+id, "port", map[string]any{"name": "renamed"})
	expect("ingress rule, port renamed", "min=1500 rows=from-lport:3000")

	// ovn-db-sync: a qos_min_rate removed behind neutrino's back is found and written again.
	syncFinds(t, srv, -1, "")
	lsp := &nbdb.LogicalSwitchPort{Name: id}
	if err := nb.Get(ctx, lsp); err != nil {
		t.Fatal(err)
	}
	m := &nbdb.LogicalSwitchPort{UUID: lsp.UUID}
	if _, err := nb.Txn().Mutate(m, model.Mutation{Field: &m.Options, Mutator: "delete", Value: []string{"qos_min_rate"}}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	expect("option removed", "min=- rows=from-lport:3000")
	syncFinds(t, srv, 1, "qos_min_rate differs from the port's QoS policy")
	expect("repaired", "min=1500 rows=from-lport:3000")

	// minimum_packet_rate is not an OVN rule type: refused on a policy an OVN port uses.
	r := testutil.Do(t, "POST", url+rules+"minimum_packet_rate_rules", body("minimum_packet_rate_rule", map[string]any{"min_kpps": 10}))
	if r.Expect(t, 409).ErrorType() != "QosRuleNotSupported" {
		t.Errorf("minimum_packet_rate rule: %s", r.Raw)
	}

	testutil.Do(t, "DELETE", url+rules+"minimum_bandwidth_rules/"+minRule["id"].(string), nil).Expect(t, 204)
	expect("rule deleted", "min=- rows=from-lport:3000")
	post("minimum_bandwidth_rule", rules+"minimum_bandwidth_rules", map[string]any{"min_kbps": 800})
	expect("rule again", "min=800 rows=from-lport:3000")
	put("ports/"+id, "port", map[string]any{"qos_policy_id": nil})
	expect("policy removed", "min=- rows=")
	put("networks/"+net["id"].(string), "network", map[string]any{"qos_policy_id": pol["id"]})
	expect("network policy", "min=800 rows=from-lport:3000")
}

// TestGoldenNBMinimumBandwidth replays internal/ovn/testdata/golden-minbw and compares, step by
// step, the port's LSP options and the QoS rows with what Neutron wrote: qos_min_rate from the
// egress minimum rule when the port gets the policy (the ingress one ignored), changed with the
// rule, gone with the policy. Two steps differ on purpose (docs/compat.md): after a port update
// that does not touch QoS, Zed's LSP has lost qos_min_rate, neutrino's keeps it; a policy with only
// a minimum rule makes Zed's NB transaction fail (the NB keeps the previous rows, bug 2101063),
// neutrino writes qos_min_rate and no QoS row. The rule types and the answer to a minimum packet
// rate rule on the port's policy are Zed's.
func TestGoldenNBMinimumBandwidth(t *testing.T) {
	got, _ := goldenSteps(t, "../ovn/testdata/golden-minbw/scenario.yaml", "", nil, map[string]string{
		"DEFAULT.service_plugins": "ovn-router,segments,qos", "ml2.extension_drivers": "port_security,dns,qos"})
	files, err := filepath.Glob("../ovn/testdata/golden-minbw/nb/*.json")
	if err != nil || len(files) != 9 {
		t.Fatalf("goldens %v, %v", files, err)
	}
	differ := map[string]map[string]any{ // neutrino's options where they differ from Zed's
		"rename":   {"mcast_flood_reports": "true", "requested-chassis": "chassis1", "qos_min_rate": "1000"},
		"min-only": {"mcast_flood_reports": "true", "requested-chassis": "chassis1", "qos_min_rate": "800"},
	}
	differ["unsupported"] = differ["min-only"]
	for _, f := range files {
		step := strings.SplitN(strings.TrimSuffix(filepath.Base(f), ".json"), "-", 2)[1]
		want := goldenRows(t, "../../golden-minbw/nb/"+filepath.Base(f))
		rows := byKey(got[step].Dump)
		lsp := rows["Logical_Switch_Port"]["{{vm1}}"]
		if opts, ok := differ[step]; ok {
			if !equalJSON(lsp["options"], opts) {
				t.Errorf("%s: options %v, want %v", step, lsp["options"], opts)
			}
		} else if w := want["Logical_Switch_Port"]["{{vm1}}"]; !equalJSON(lsp["options"], w["options"]) {
			t.Errorf("%s: options %v, Neutron %v", step, lsp["options"], w["options"])
		}
		if step == "min-only" || step == "unsupported" { // Zed's NB kept the rows of unbind
			if len(rows["QoS"]) != 0 {
				t.Errorf("%s: QoS rows %v", step, rows["QoS"])
			}
			continue
		}
		for key := range want["QoS"] {
			compareRow(t, "QoS", key, rows["QoS"][key], want["QoS"][key])
		}
		if len(rows["QoS"]) != len(want["QoS"]) {
			t.Errorf("%s: %d QoS rows, Neutron %d", step, len(rows["QoS"]), len(want["QoS"]))
		}
	}
	var ref []golden.Result
	b, err := os.ReadFile("../ovn/testdata/golden-minbw/calls.json")
	if err == nil {
		err = json.Unmarshal(b, &ref)
	}
	if err != nil || len(ref) != 9 || ref[8].Step != "unsupported" {
		t.Fatalf("calls.json: %v", err)
	}
	if len(got["unsupported"].Calls) != len(ref[8].Calls) {
		t.Fatalf("unsupported: %d calls, Neutron %d", len(got["unsupported"].Calls), len(ref[8].Calls))
	}
	for i, c := range ref[8].Calls {
		if g := got["unsupported"].Calls[i]; g.Status != c.Status || !equalJSON(g.Response, c.Response) {
			t.Errorf("%s %s: %d %v, Neutron %d %v", c.Method, c.Path, g.Status, g.Response, c.Status, c.Response)
		}
	}
}
