package main

import (
	"strings"
	"testing"
)

// cliRouters: router create, set --external-gateway, add subnet, set
// --route, floating ip create, set --port, unset --port, delete, and the
// way back (unset --route, remove subnet, unset --external-gateway,
// delete), checking what each step changed.
func cliRouters(t *testing.T, p *proc) {
	openstack(t, p, "network", "create", "cli-ext", "--external")
	openstack(t, p, "subnet", "create", "cli-ext4", "--network", "cli-ext", "--subnet-range", "203.0.113.0/24")
	openstack(t, p, "network", "create", "cli-int")
	sub := jsonObj(t, openstack(t, p, "subnet", "create", "cli-int4", "--network", "cli-int", "--subnet-range", "10.9.0.0/24", "-f", "json"))
	r := jsonObj(t, openstack(t, p, "router", "create", "cli-r", "-f", "json"))
	openstack(t, p, "router", "set", "cli-r", "--external-gateway", "cli-ext")
	openstack(t, p, "router", "add", "subnet", "cli-r", "cli-int4")
	openstack(t, p, "router", "set", "cli-r", "--route", "destination=192.168.9.0/24,gateway=10.9.0.5")
	shown := jsonObj(t, openstack(t, p, "router", "show", "cli-r", "-f", "json"))
	gw, _ := shown["external_gateway_info"].(map[string]any)
	routes, _ := shown["routes"].([]any)
	if gw == nil || gw["enable_snat"] != true || len(routes) != 1 {
		t.Fatalf("router after set and add: %v", shown)
	}
	ifs := openstack(t, p, "port", "list", "--device-owner", "network:router_interface", "--router", "cli-r", "-f", "value", "-c", "Fixed IP Addresses")
	if !strings.Contains(ifs, "10.9.0.1") || !strings.Contains(ifs, sub["id"].(string)) {
		t.Fatalf("interface port:\n%s", ifs)
	}
	port := jsonObj(t, openstack(t, p, "port", "create", "cli-vm", "--network", "cli-int", "-f", "json"))
	fip := jsonObj(t, openstack(t, p, "floating", "ip", "create", "cli-ext", "-f", "json"))
	id := fip["id"].(string)
	openstack(t, p, "floating", "ip", "set", "--port", "cli-vm", id)
	fip = jsonObj(t, openstack(t, p, "floating", "ip", "show", id, "-f", "json"))
	if fip["port_id"] != port["id"] || fip["router_id"] != r["id"] || fip["fixed_ip_address"] == nil {
		t.Fatalf("floating IP after set --port: %v", fip)
	}
	openstack(t, p, "floating", "ip", "unset", "--port", id)
	fip = jsonObj(t, openstack(t, p, "floating", "ip", "show", id, "-f", "json"))
	if fip["port_id"] != nil || fip["router_id"] != nil {
		t.Fatalf("floating IP after unset --port: %v", fip)
	}
	openstack(t, p, "floating", "ip", "delete", id)
	openstack(t, p, "router", "unset", "cli-r", "--route", "destination=192.168.9.0/24,gateway=10.9.0.5")
	openstack(t, p, "router", "remove", "subnet", "cli-r", "cli-int4")
	openstack(t, p, "router", "unset", "cli-r", "--external-gateway")
	shown = jsonObj(t, openstack(t, p, "router", "show", "cli-r", "-f", "json"))
	if shown["external_gateway_info"] != nil || len(shown["routes"].([]any)) != 0 {
		t.Fatalf("router after unset and remove: %v", shown)
	}
	openstack(t, p, "router", "delete", "cli-r")
	openstack(t, p, "port", "delete", "cli-vm")
	openstack(t, p, "network", "delete", "cli-int", "cli-ext")
}
