package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestOpenstackCLIL3Extras grows the smoke test to the L3 extras of issue
// 8 and 9: network flavors and their profiles with a router of a flavor,
// floating IP port forwardings, and the auto-allocated topology, on a
// server configured as the reference.
func TestOpenstackCLIL3Extras(t *testing.T) {
	p := startReferenceLike(t)
	cliFlavors(t, p)
	cliPortForwardings(t, p)
	cliAutoAllocation(t, p)
}

func cliFlavors(t *testing.T, p *proc) {
	fl := jsonObj(t, openstack(t, p, "network", "flavor", "create", "cli-flavor", "--service-type", "L3_ROUTER_NAT", "-f", "json"))
	prof := jsonObj(t, openstack(t, p, "network", "flavor", "profile", "create", "--driver",
		"neutron.services.l3_router.service_providers.single_node.SingleNodeDriver", "-f", "json"))
	openstack(t, p, "network", "flavor", "add", "profile", "cli-flavor", prof["id"].(string))
	shown := jsonObj(t, openstack(t, p, "network", "flavor", "show", "cli-flavor", "-f", "json"))
	if !strings.Contains(fmt.Sprint(shown["service_profile_ids"]), prof["id"].(string)) || shown["id"] != fl["id"] {
		t.Fatalf("flavor after add profile: %v", shown)
	}
	if providers := openstack(t, p, "network", "service", "provider", "list", "-f", "value", "-c", "Name"); !strings.Contains(providers, "single_node") {
		t.Fatalf("service providers:\n%s", providers)
	}
	openstack(t, p, "network", "flavor", "remove", "profile", "cli-flavor", prof["id"].(string))
	openstack(t, p, "network", "flavor", "profile", "delete", prof["id"].(string))
	openstack(t, p, "network", "flavor", "delete", "cli-flavor")
}

func cliPortForwardings(t *testing.T, p *proc) {
	openstack(t, p, "network", "create", "cli-pf-ext", "--external")
	openstack(t, p, "subnet", "create", "cli-pf-ext4", "--network", "cli-pf-ext", "--subnet-range", "192.0.2.0/24")
	openstack(t, p, "network", "create", "cli-pf-int")
	openstack(t, p, "subnet", "create", "cli-pf-int4", "--network", "cli-pf-int", "--subnet-range", "10.90.0.0/24")
	openstack(t, p, "router", "create", "cli-pf-router")
	openstack(t, p, "router", "set", "cli-pf-router", "--external-gateway", "cli-pf-ext")
	openstack(t, p, "router", "add", "subnet", "cli-pf-router", "cli-pf-int4")
	openstack(t, p, "port", "create", "cli-pf-port", "--network", "cli-pf-int", "--fixed-ip", "subnet=cli-pf-int4,ip-address=10.90.0.10")
	fip := jsonObj(t, openstack(t, p, "floating", "ip", "create", "cli-pf-ext", "-f", "json"))
	fipID := fip["id"].(string)
	pf := jsonObj(t, openstack(t, p, "floating", "ip", "port", "forwarding", "create", fipID, "--port", "cli-pf-port",
		"--internal-ip-address", "10.90.0.10", "--internal-protocol-port", "22", "--external-protocol-port", "2222",
		"--protocol", "tcp", "--description", "ssh", "-f", "json"))
	if pf["external_port"] != float64(2222) || pf["description"] != "ssh" {
		t.Fatalf("port forwarding: %v", pf)
	}
	if list := openstack(t, p, "floating", "ip", "port", "forwarding", "list", fipID, "-f", "value", "-c", "ID"); !strings.Contains(list, pf["id"].(string)) {
		t.Fatalf("port forwardings:\n%s", list)
	}
	openstack(t, p, "floating", "ip", "port", "forwarding", "set", fipID, pf["id"].(string), "--external-protocol-port", "2223")
	shown := jsonObj(t, openstack(t, p, "floating", "ip", "port", "forwarding", "show", fipID, pf["id"].(string), "-f", "json"))
	if shown["external_port"] != float64(2223) {
		t.Fatalf("port forwarding after set: %v", shown)
	}
	openstack(t, p, "floating", "ip", "port", "forwarding", "delete", fipID, pf["id"].(string))
	openstack(t, p, "floating", "ip", "delete", fipID)
	openstack(t, p, "router", "remove", "subnet", "cli-pf-router", "cli-pf-int4")
	openstack(t, p, "router", "delete", "cli-pf-router")
	openstack(t, p, "port", "delete", "cli-pf-port")
	openstack(t, p, "network", "delete", "cli-pf-int", "cli-pf-ext")
}

func cliAutoAllocation(t *testing.T, p *proc) {
	openstack(t, p, "network", "create", "cli-public", "--external", "--default")
	openstack(t, p, "subnet", "create", "cli-public4", "--network", "cli-public", "--subnet-range", "198.51.100.0/24")
	openstack(t, p, "subnet", "pool", "create", "cli-pool", "--pool-prefix", "10.199.0.0/16", "--default-prefix-length", "26",
		"--default", "--share")
	openstack(t, p, "network", "auto", "allocated", "topology", "create", "--check-resources")
	topo := jsonObj(t, openstack(t, p, "network", "auto", "allocated", "topology", "create", "--project", "fake_project_id", "-f", "json"))
	if id, _ := topo["id"].(string); id == "" {
		t.Fatalf("topology: %v", topo)
	}
	openstack(t, p, "network", "auto", "allocated", "topology", "delete", "--project", "fake_project_id")
	if nets := openstack(t, p, "network", "list", "-f", "value", "-c", "Name"); strings.Contains(nets, "auto_allocated_network") {
		t.Fatalf("networks after the topology's deletion:\n%s", nets)
	}
}
