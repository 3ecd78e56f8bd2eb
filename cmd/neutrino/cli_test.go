package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// openstack runs the openstack CLI against p with noauth.
func openstack(t *testing.T, p *proc, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", args...)
	cmd.Env = append(os.Environ(), "OS_AUTH_TYPE=none", "OS_ENDPOINT="+p.url, "PATH=/usr/bin:/bin:/usr/sbin:/sbin")
	cmd.Env = append(cmd.Env, "PYTHONPATH=", "PYTHONHOME=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if p.afterChange != nil && changes(args) {
		p.afterChange(t, args)
	}
	return string(out)
}

// changes reports whether the CLI command args changes something (its verb is one of the first
// words).
func changes(args []string) bool {
	for _, a := range args[:min(len(args), 6)] {
		switch a {
		case "create", "set", "unset", "add", "remove", "delete":
			return true
		}
	}
	return false
}

func requireOpenstackCLI(t *testing.T) {
	if _, err := exec.LookPath("openstack"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the openstack CLI (python3-openstackclient) is required under CI=true")
		}
		t.Skip("openstack CLI not installed")
	}
}

func jsonObj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return m
}

// TestOpenstackCLINetworks is the CLI smoke test: network create, list,
// show, set, unset --tag, delete.
func TestOpenstackCLINetworks(t *testing.T) {
	requireOpenstackCLI(t)
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)
	cliNetworks(t, p, 1450)
}

// cliNetworks is the network part of the smoke test; a tenant network's MTU is mtu.
func cliNetworks(t *testing.T, p *proc, mtu int) {
	n := jsonObj(t, openstack(t, p, "network", "create", "cli-net", "--description", "from the CLI", "--tag", "red", "--tag", "blue", "-f", "json"))
	id, _ := n["id"].(string)
	if id == "" || n["name"] != "cli-net" || n["description"] != "from the CLI" || n["status"] != "ACTIVE" {
		t.Fatalf("network create: %v", n)
	}
	list := openstack(t, p, "network", "list", "-f", "json")
	if !strings.Contains(list, id) {
		t.Fatalf("network list lacks %s:\n%s", id, list)
	}
	show := jsonObj(t, openstack(t, p, "network", "show", "cli-net", "-f", "json"))
	if show["id"] != id || show["mtu"] != float64(mtu) {
		t.Fatalf("network show: %v", show)
	}
	openstack(t, p, "network", "set", id, "--name", "cli-net2", "--disable", "--mtu", "1400")
	show = jsonObj(t, openstack(t, p, "network", "show", id, "-f", "json"))
	if show["name"] != "cli-net2" || show["admin_state_up"] != false || show["mtu"] != float64(1400) {
		t.Fatalf("after set: %v", show)
	}
	openstack(t, p, "network", "unset", "--tag", "red", id)
	show = jsonObj(t, openstack(t, p, "network", "show", id, "-f", "json"))
	tags, _ := show["tags"].([]any)
	if len(tags) != 1 || tags[0] != "blue" {
		t.Fatalf("tags after unset: %v", show["tags"])
	}
	openstack(t, p, "network", "delete", id)
	if list := openstack(t, p, "network", "list", "-f", "json"); strings.Contains(list, id) {
		t.Fatalf("network still listed after delete")
	}
}

// TestOpenstackCLIL2 grows the smoke test to the core L2 model: subnets
// (IPv4 and IPv6 SLAAC), a port with --fixed-ip (and its SLAAC address),
// security groups and rules, and `network show` listing the subnets.
func TestOpenstackCLIL2(t *testing.T) {
	requireOpenstackCLI(t)
	p := start(t, nil)
	p.waitUp(t, 10*time.Second)
	cliL2(t, p)
}

func cliL2(t *testing.T, p *proc) {
	network := jsonObj(t, openstack(t, p, "network", "create", "cli-l2", "-f", "json"))
	s4 := jsonObj(t, openstack(t, p, "subnet", "create", "cli-s4", "--network", "cli-l2", "--subnet-range", "10.20.0.0/24", "-f", "json"))
	if s4["cidr"] != "10.20.0.0/24" || s4["gateway_ip"] != "10.20.0.1" || s4["ip_version"] != float64(4) {
		t.Fatalf("IPv4 subnet: %v", s4)
	}
	s6 := jsonObj(t, openstack(t, p, "subnet", "create", "cli-s6", "--network", "cli-l2", "--ip-version", "6",
		"--subnet-range", "2001:db8:1::/64", "--ipv6-ra-mode", "slaac", "--ipv6-address-mode", "slaac", "-f", "json"))
	// an IPv6 gateway defaults to the subnet-router anycast address, as in Neutron
	if s6["ipv6_address_mode"] != "slaac" || s6["ipv6_ra_mode"] != "slaac" || s6["gateway_ip"] != "2001:db8:1::" {
		t.Fatalf("IPv6 subnet: %v", s6)
	}
	show := jsonObj(t, openstack(t, p, "network", "show", "cli-l2", "-f", "json"))
	subnets := fmt.Sprint(show["subnets"])
	if !strings.Contains(subnets, s4["id"].(string)) || !strings.Contains(subnets, s6["id"].(string)) {
		t.Fatalf("network show subnets %v, want %s and %s", show["subnets"], s4["id"], s6["id"])
	}

	port := jsonObj(t, openstack(t, p, "port", "create", "cli-p1", "--network", "cli-l2", "--fixed-ip", "subnet=cli-s4,ip-address=10.20.0.10", "-f", "json"))
	// the SLAAC address is the EUI-64 of the port's MAC in the /64
	hw, err := net.ParseMAC(port["mac_address"].(string))
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("2001:db8:1::").As16()
	copy(a[8:], []byte{hw[0] ^ 2, hw[1], hw[2], 0xff, 0xfe, hw[3], hw[4], hw[5]})
	want := map[string]string{"10.20.0.10": s4["id"].(string), netip.AddrFrom16(a).String(): s6["id"].(string)}
	got := map[string]string{}
	for _, f := range port["fixed_ips"].([]any) {
		m := f.(map[string]any)
		got[m["ip_address"].(string)] = m["subnet_id"].(string)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("port fixed_ips %v, want %v", got, want)
	}
	if sgs, _ := port["security_group_ids"].([]any); len(sgs) != 1 {
		t.Fatalf("port security groups %v, want the default group", port["security_group_ids"])
	}

	sg := jsonObj(t, openstack(t, p, "security", "group", "create", "cli-sg", "--description", "ssh", "-f", "json"))
	sgID := sg["id"].(string)
	rule := jsonObj(t, openstack(t, p, "security", "group", "rule", "create", sgID, "--protocol", "tcp", "--dst-port", "22", "--remote-ip", "0.0.0.0/0", "-f", "json"))
	if rule["port_range_min"] != float64(22) || rule["port_range_max"] != float64(22) || rule["protocol"] != "tcp" || rule["direction"] != "ingress" {
		t.Fatalf("rule: %v", rule)
	}
	rules := openstack(t, p, "security", "group", "rule", "list", sgID, "-f", "value", "-c", "ID")
	if n := len(strings.Fields(rules)); n != 3 { // two default egress rules and ours
		t.Fatalf("%d rules listed, want 3:\n%s", n, rules)
	}
	openstack(t, p, "security", "group", "rule", "delete", rule["id"].(string))
	if rules := openstack(t, p, "security", "group", "rule", "list", sgID, "-f", "value", "-c", "ID"); strings.Contains(rules, rule["id"].(string)) {
		t.Fatalf("rule still listed after delete:\n%s", rules)
	}
	openstack(t, p, "security", "group", "delete", sgID)
	if list := openstack(t, p, "security", "group", "list", "-f", "value", "-c", "ID"); strings.Contains(list, sgID) {
		t.Fatalf("group still listed after delete")
	}

	openstack(t, p, "port", "delete", port["id"].(string))
	openstack(t, p, "subnet", "delete", "cli-s4", "cli-s6")
	openstack(t, p, "network", "delete", network["id"].(string))
}
