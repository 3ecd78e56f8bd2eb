package main

import (
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/testutil"
)

// TestOpenstackCLIServices grows the smoke test to the service plugins of
// issues 8 and 9: routers and floating IPs, QoS policies and rules (and
// the rule types), trunks and sub-ports, segments, address groups, on a
// server configured as the reference (router, qos, trunk, segments; ML2
// qos extension driver).
func TestOpenstackCLIServices(t *testing.T) {
	p := startReferenceLike(t)
	cliRouters(t, p)
	cliQoS(t, p)
	cliTrunks(t, p)
	cliSegments(t, p)
	cliAddressGroups(t, p)
}

func cliQoS(t *testing.T, p *proc) {
	pol := jsonObj(t, openstack(t, p, "network", "qos", "policy", "create", "cli-qos", "--description", "10M", "-f", "json"))
	rule := jsonObj(t, openstack(t, p, "network", "qos", "rule", "create", "cli-qos", "--type", "bandwidth-limit",
		"--max-kbps", "10000", "--max-burst-kbits", "1000", "--egress", "-f", "json"))
	if rule["max_kbps"] != float64(10000) || rule["direction"] != "egress" {
		t.Fatalf("bandwidth limit rule: %v", rule)
	}
	openstack(t, p, "network", "qos", "rule", "create", "cli-qos", "--type", "dscp-marking", "--dscp-mark", "26")
	rules := openstack(t, p, "network", "qos", "rule", "list", "cli-qos", "-f", "value", "-c", "ID")
	if n := len(strings.Fields(rules)); n != 2 {
		t.Fatalf("%d rules listed, want 2:\n%s", n, rules)
	}
	openstack(t, p, "network", "qos", "rule", "set", "cli-qos", rule["id"].(string), "--max-kbps", "20000")
	shown := jsonObj(t, openstack(t, p, "network", "qos", "rule", "show", "cli-qos", rule["id"].(string), "-f", "json"))
	if shown["max_kbps"] != float64(20000) {
		t.Fatalf("rule after set: %v", shown)
	}
	if types := openstack(t, p, "network", "qos", "rule", "type", "list", "-f", "value"); !strings.Contains(types, "minimum_bandwidth") {
		t.Fatalf("rule types:\n%s", types)
	}
	if list := openstack(t, p, "network", "qos", "policy", "list", "-f", "value", "-c", "Name"); !strings.Contains(list, "cli-qos") {
		t.Fatalf("policies:\n%s", list)
	}
	if bw := jsonObj(t, openstack(t, p, "network", "qos", "rule", "type", "show", "bandwidth_limit", "-f", "json")); bw["rule_type_name"] != "bandwidth_limit" || bw["drivers"] == nil {
		t.Fatalf("rule type details: %v", bw)
	}
	openstack(t, p, "network", "qos", "policy", "set", "cli-qos", "--share", "--default")
	pol = jsonObj(t, openstack(t, p, "network", "qos", "policy", "show", pol["id"].(string), "-f", "json"))
	if pol["shared"] != true || pol["is_default"] != true {
		t.Fatalf("policy after set: %v", pol)
	}
	net := jsonObj(t, openstack(t, p, "network", "create", "cli-qos-net", "-f", "json"))
	if net["qos_policy_id"] != pol["id"] {
		t.Fatalf("a network of the project gets the default policy: %v", net["qos_policy_id"])
	}
	openstack(t, p, "network", "set", "cli-qos-net", "--no-qos-policy")
	openstack(t, p, "network", "delete", "cli-qos-net")
	openstack(t, p, "network", "qos", "rule", "delete", "cli-qos", rule["id"].(string))
	openstack(t, p, "network", "qos", "policy", "delete", "cli-qos")
}

func cliTrunks(t *testing.T, p *proc) {
	openstack(t, p, "network", "create", "cli-trunk-net")
	parent := jsonObj(t, openstack(t, p, "port", "create", "cli-parent", "--network", "cli-trunk-net", "-f", "json"))
	sub := jsonObj(t, openstack(t, p, "port", "create", "cli-sub", "--network", "cli-trunk-net", "-f", "json"))
	tr := jsonObj(t, openstack(t, p, "network", "trunk", "create", "cli-trunk", "--parent-port", "cli-parent", "-f", "json"))
	if tr["status"] != "DOWN" {
		t.Fatalf("trunk: %v", tr)
	}
	openstack(t, p, "network", "trunk", "set", "cli-trunk", "--subport",
		"port=cli-sub,segmentation-type=vlan,segmentation-id=100")
	subs := openstack(t, p, "network", "subport", "list", "--trunk", "cli-trunk", "-f", "value", "-c", "Port")
	if !strings.Contains(subs, sub["id"].(string)) {
		t.Fatalf("sub-ports:\n%s", subs)
	}
	show := jsonObj(t, openstack(t, p, "port", "show", parent["id"].(string), "-f", "json"))
	if !strings.Contains(fmt.Sprint(show["trunk_details"]), sub["id"].(string)) {
		t.Fatalf("trunk_details of the parent: %v", show["trunk_details"])
	}
	if list := openstack(t, p, "network", "trunk", "list", "-f", "value", "-c", "Name"); !strings.Contains(list, "cli-trunk") {
		t.Fatalf("trunks:\n%s", list)
	}
	if got := jsonObj(t, openstack(t, p, "network", "trunk", "show", "cli-trunk", "-f", "json")); got["port_id"] != parent["id"] {
		t.Fatalf("trunk show: %v", got)
	}
	openstack(t, p, "network", "trunk", "unset", "cli-trunk", "--subport", "cli-sub")
	openstack(t, p, "network", "trunk", "delete", "cli-trunk")
	openstack(t, p, "port", "delete", "cli-parent", "cli-sub")
	openstack(t, p, "network", "delete", "cli-trunk-net")
}

func cliSegments(t *testing.T, p *proc) {
	openstack(t, p, "network", "create", "cli-seg-net", "--provider-network-type", "vlan",
		"--provider-physical-network", "physnet1", "--provider-segment", "120")
	seg := jsonObj(t, openstack(t, p, "network", "segment", "create", "cli-seg", "--network", "cli-seg-net",
		"--network-type", "flat", "--physical-network", "cli-phys", "-f", "json"))
	if seg["network_type"] != "flat" {
		t.Fatalf("segment: %v", seg)
	}
	if list := openstack(t, p, "network", "segment", "list", "--network", "cli-seg-net", "-f", "value", "-c", "ID"); len(strings.Fields(list)) != 2 {
		t.Fatalf("segments:\n%s", list)
	}
	openstack(t, p, "network", "segment", "set", "cli-seg", "--description", "second")
	if got := jsonObj(t, openstack(t, p, "network", "segment", "show", seg["id"].(string), "-f", "json")); got["description"] != "second" {
		t.Fatalf("segment after set: %v", got)
	}
	openstack(t, p, "network", "segment", "delete", seg["id"].(string))
	openstack(t, p, "network", "delete", "cli-seg-net")
}

func cliAddressGroups(t *testing.T, p *proc) {
	ag := jsonObj(t, openstack(t, p, "address", "group", "create", "cli-ag", "--address", "10.0.0.1/24", "-f", "json"))
	openstack(t, p, "address", "group", "set", "cli-ag", "--address", "192.0.2.0/24")
	show := jsonObj(t, openstack(t, p, "address", "group", "show", ag["id"].(string), "-f", "json"))
	if fmt.Sprint(show["addresses"]) != "[10.0.0.0/24 192.0.2.0/24]" {
		t.Fatalf("addresses: %v", show["addresses"])
	}
	if list := openstack(t, p, "address", "group", "list", "-f", "value", "-c", "Name"); !strings.Contains(list, "cli-ag") {
		t.Fatalf("address groups:\n%s", list)
	}
	openstack(t, p, "address", "group", "unset", "cli-ag", "--address", "10.0.0.0/24")
	openstack(t, p, "address", "group", "delete", "cli-ag")
}

// startReferenceLike starts neutrino configured as the reference
// (testutil.ReferenceConfig: service plugins
// router,segments,trunk,qos,port_forwarding, ML2 qos extension driver) for
// the CLI smoke tests, without authentication.
func startReferenceLike(t *testing.T) *proc { return startReferenceWith(t, nil) }

// startReferenceWith is startReferenceLike with the options of overrides
// ("group.name": value) changed.
func startReferenceWith(t *testing.T, overrides map[string]string) *proc {
	requireOpenstackCLI(t)
	dir := t.TempDir()
	port := freePort(t)
	set := testutil.ReferenceConfig()
	set["DEFAULT.auth_strategy"] = "noauth"
	set["DEFAULT.bind_host"] = "127.0.0.1"
	set["DEFAULT.bind_port"] = fmt.Sprint(port)
	set["database.connection"] = "sqlite:///" + filepath.Join(dir, "n.db")
	maps.Copy(set, overrides)
	conf := writeFile(t, dir, "n.conf", testutil.INI(set))
	p := start(t, nil, "--config-file", conf)
	p.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	p.waitUp(t, 10*time.Second)
	return p
}
