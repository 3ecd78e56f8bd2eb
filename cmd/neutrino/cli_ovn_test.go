package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/ovnlab"
)

// TestOpenstackCLIOVN runs the core of the CLI smoke test (networks,
// subnets, ports, security groups, routers with gateway and interfaces,
// floating IPs, port forwardings) against neutrino with [ml2]
// mechanism_drivers = ovn on a real OVN central (NB and SB ovsdb-servers,
// ovn-northd): after every CLI command that changes something the
// Northbound database holds exactly the rows of what the API lists
// (switches, ports, routers, router ports, port groups, ACLs, DHCP options,
// floating IP NATs), and at the end none of them is left.
func TestOpenstackCLIOVN(t *testing.T) {
	requireOpenstackCLI(t)
	lab := ovnlab.StartCentral(t, filepath.Join(t.TempDir(), "ovn"))
	if _, err := lab.Run("fake-chassis", lab.Chassis); err != nil {
		t.Fatal(err)
	}
	p := startReferenceWith(t, map[string]string{
		"ml2.type_drivers": "geneve,flat,vlan", "ml2.tenant_network_types": "geneve", "ml2.mechanism_drivers": "ovn",
		"ml2_type_geneve.max_header_size": "38", "ovn.ovn_nb_connection": lab.NBTCP(), "ovn.ovn_sb_connection": lab.SBTCP(),
	})
	m := &nbMirror{lab: lab, p: p, seen: map[string]int{}}
	p.afterChange = m.check
	cliNetworks(t, p, 1442) // geneve: 1500 - 58
	cliL2(t, p)
	cliRouters(t, p)
	cliPortForwardings(t, p)
	for _, k := range nbKinds {
		if m.seen[k.name] == 0 {
			t.Errorf("no %s was ever in the NB", k.name)
		}
		if k.name != "port group" && k.name != "ACL" { // the default security group stays
			if rows := m.nb(t, k); len(rows) != 0 {
				t.Errorf("%s rows left in the NB: %v", k.name, rows)
			}
		}
	}
	t.Logf("NB rows seen (max at once): %v", m.seen)
}

// nbKind maps API objects of one kind to the NB rows the ovn driver keeps
// for them.
type nbKind struct {
	name  string
	path  string                          // API collection
	want  func(o map[string]any) []string // the NB keys of an API object
	table string                          // NB table
	key   string                          // column ("name") or external_ids key of the NB key
	skip  string                          // NB rows whose key has this prefix are not the API's
	not   string                          // nor are rows with this external_ids key
}

func ids(o map[string]any, prefix string) []string { return []string{prefix + fmt.Sprint(o["id"])} }

var nbKinds = []nbKind{
	{name: "switch", path: "networks", table: "Logical_Switch", key: "name",
		want: func(o map[string]any) []string { return ids(o, "neutron-") }},
	// floating IP ports have no Logical_Switch_Port, as in Neutron; a
	// provider network's localnet port is its segment's
	{name: "switch port", path: "ports", table: "Logical_Switch_Port", key: "name", skip: "provnet-",
		want: func(o map[string]any) []string {
			if o["device_owner"] == "network:floatingip" {
				return nil
			}
			return ids(o, "")
		}},
	{name: "router", path: "routers", table: "Logical_Router", key: "name",
		want: func(o map[string]any) []string { return ids(o, "neutron-") }},
	{name: "router port", path: "ports", table: "Logical_Router_Port", key: "name",
		want: func(o map[string]any) []string {
			if o["device_owner"] == "network:router_interface" || o["device_owner"] == "network:router_gateway" {
				return ids(o, "lrp-")
			}
			return nil
		}},
	{name: "port group", path: "security-groups", table: "Port_Group", key: "name", skip: "neutron_pg_drop",
		want: func(o map[string]any) []string {
			return []string{"pg_" + strings.ReplaceAll(fmt.Sprint(o["id"]), "-", "_")}
		}},
	{name: "ACL", path: "security-group-rules", table: "ACL", key: "neutron:security_group_rule_id",
		want: func(o map[string]any) []string { return ids(o, "") }},
	// SLAAC subnets have none, as in Neutron (is_dhcp_options_ignored)
	{name: "DHCP options", path: "subnets", table: "DHCP_Options", key: "subnet_id", not: "port_id", // a port's extra options
		want: func(o map[string]any) []string {
			if o["enable_dhcp"] != true || o["ipv6_address_mode"] == "slaac" {
				return nil
			}
			return ids(o, "")
		}},
	{name: "floating IP NAT", path: "floatingips", table: "NAT", key: "neutron:fip_id",
		want: func(o map[string]any) []string {
			if o["port_id"] == nil {
				return nil
			}
			return ids(o, "")
		}},
}

// nbMirror compares the NB with the API.
type nbMirror struct {
	lab  *ovnlab.Lab
	p    *proc
	seen map[string]int // kind: most NB rows at once
}

// check waits (NB writes follow the API's commit) until every kind's NB
// rows are those of the API's objects.
func (m *nbMirror) check(t *testing.T, args []string) {
	t.Helper()
	for _, k := range nbKinds {
		var want, got []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			want, got = m.api(t, k), m.nb(t, k)
			if slices.Equal(want, got) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !slices.Equal(want, got) {
			t.Fatalf("after openstack %s: NB %s rows %v, want %v (the API's)", strings.Join(args, " "), k.name, got, want)
		}
		m.seen[k.name] = max(m.seen[k.name], len(got))
	}
}

// api lists the NB keys the API's objects of kind k want, sorted.
func (m *nbMirror) api(t *testing.T, k nbKind) []string {
	t.Helper()
	resp, err := http.Get(m.p.url + "/v2.0/" + k.path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string][]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", k.path, resp.StatusCode, err)
	}
	out := []string{}
	for _, objs := range body {
		for _, o := range objs {
			out = append(out, k.want(o)...)
		}
	}
	slices.Sort(out)
	return out
}

// nb lists the keys of the NB rows of kind k, sorted.
func (m *nbMirror) nb(t *testing.T, k nbKind) []string {
	t.Helper()
	col := k.key
	if col != "name" {
		col = "external_ids"
	}
	out, err := m.lab.NBCtl("--format=csv", "--data=bare", "--no-headings", "--columns="+col, "list", k.table)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		key := line
		if col != "name" {
			key = ""
			for _, f := range strings.Fields(line) {
				if v, ok := strings.CutPrefix(f, k.key+"="); ok {
					key = v
				}
				if k.not != "" && strings.HasPrefix(f, k.not+"=") {
					key = ""
					break
				}
			}
		}
		if key != "" && (k.skip == "" || !strings.HasPrefix(key, k.skip)) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}
