package mechovn_test

import (
	"context"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// l3Topology is an external network with a subnet, a router with its gateway there and an
// interface on a tenant subnet, and a port on it bound to chassis1.
type l3Topology struct{ ext, router, port map[string]any }

func newL3Topology(t *testing.T, url string) l3Topology {
	t.Helper()
	post := poster(t, url)
	ext := post("network", "networks", map[string]any{"name": "public", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "provider"})
	post("subnet", "subnets", map[string]any{"network_id": ext["id"], "cidr": "172.24.4.0/24", "ip_version": 4, "enable_dhcp": false})
	net := post("network", "networks", map[string]any{"name": "private"})
	sub := post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.30.0.0/24", "ip_version": 4})
	r := post("router", "routers", map[string]any{"name": "r1", "external_gateway_info": map[string]any{"network_id": ext["id"]}})
	testutil.Do(t, "PUT", url+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface", map[string]any{"subnet_id": sub["id"]}).Expect(t, 200)
	port := post("port", "ports", map[string]any{"network_id": net["id"], "binding:host_id": "chassis1"})
	return l3Topology{ext, r, port}
}

// TestDistributedFloatingIP: with [ovn] enable_distributed_floating_ip, a floating IP's NAT rule
// gets the floating IP port's MAC as external_mac once its port is up (its LSP's up, as
// ovn-controller sets it), and keeps it when the port goes down, as ML2/OVN; the rule names the
// port (logical_port) and the MAC (neutron:fip_external_mac) from the start, and the port's LSP
// carries the floating IP (neutron:port_fip) until the floating IP goes.
func TestDistributedFloatingIP(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "router,segments", "ovn.enable_distributed_floating_ip": "true"})
	top := newL3Topology(t, srv.URL)
	portID := top.port["id"].(string)
	fip := testutil.Do(t, "POST", srv.URL+"/v2.0/floatingips", body("floatingip", map[string]any{
		"floating_network_id": top.ext["id"], "port_id": portID})).Expect(t, 201).Obj("floatingip")
	var fipMAC string
	for _, p := range testutil.Do(t, "GET", srv.URL+"/v2.0/ports?device_owner=network:floatingip", nil).Expect(t, 200).List("ports") {
		fipMAC = p["mac_address"].(string)
	}
	ctx := context.Background()
	nat := func() *nbdb.NAT {
		var nats []nbdb.NAT
		_ = nb.List(ctx, &nats)
		for _, n := range nats {
			if n.Type == nbdb.NATTypeDNATAndSNAT {
				return &n
			}
		}
		return nil
	}
	waitFor(t, 5*time.Second, "the floating IP's NAT rule", func() bool { return nat() != nil })
	if n := nat(); n.ExternalIDs["neutron:fip_external_mac"] != fipMAC || n.LogicalPort == nil || *n.LogicalPort != portID ||
		n.ExternalMAC != nil {
		t.Errorf("NAT of a port that is down: external_ids %v, logical_port %v, external_mac %v (want none)", n.ExternalIDs, n.LogicalPort, n.ExternalMAC)
	}
	lsp := &nbdb.LogicalSwitchPort{Name: portID}
	waitFor(t, 5*time.Second, "neutron:port_fip on the port's LSP", func() bool {
		return nb.Get(ctx, lsp) == nil && lsp.ExternalIDs["neutron:port_fip"] == fip["floating_ip_address"]
	})
	for _, up := range []bool{true, false} {
		u := up
		lsp.Up = &u
		if _, err := nb.Txn().Update(lsp, &lsp.Up).Commit(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "external_mac", func() bool {
			n := nat()
			return n != nil && n.ExternalMAC != nil && *n.ExternalMAC == fipMAC
		})
	}
	if st := testutil.Do(t, "GET", srv.URL+"/v2.0/floatingips/"+fip["id"].(string), nil).Expect(t, 200).Obj("floatingip")["status"]; st != "ACTIVE" {
		t.Errorf("associated floating IP: status %v", st)
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/floatingips/"+fip["id"].(string), nil).Expect(t, 204)
	waitFor(t, 5*time.Second, "the rule and the mark gone", func() bool {
		return nat() == nil && nb.Get(ctx, lsp) == nil && lsp.ExternalIDs["neutron:port_fip"] == ""
	})
}
