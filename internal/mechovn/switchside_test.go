package mechovn_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// dhcpRowsOf are the NB's DHCP_Options rows keyed "subnet" or "subnet port".
func dhcpRowsOf(nb *ovn.Client) map[string]nbdb.DHCPOptions {
	var rows []nbdb.DHCPOptions
	_ = nb.List(context.Background(), &rows)
	out := map[string]nbdb.DHCPOptions{}
	for _, r := range rows {
		out[strings.TrimSpace(r.ExternalIDs["subnet_id"]+" "+r.ExternalIDs["port_id"])] = r
	}
	return out
}

// TestExtraDHCPOpts: a port's extra_dhcp_opts give it a DHCP_Options row of its own (the subnet's
// options with the port's on top, OVN's names, strings quoted, unknown names left out) that its LSP
// points at; the row follows option and subnet changes, dhcp_disabled takes DHCP away, and the row
// goes with the options and with the port.
func TestExtraDHCPOpts(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	ctx := context.Background()
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	sub := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"],
		"cidr": "10.0.0.0/24", "ip_version": 4, "dns_nameservers": []any{"10.0.0.53"}})).Expect(t, 201).Obj("subnet")
	sid := sub["id"].(string)
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"],
		"extra_dhcp_opts": []any{
			map[string]any{"opt_name": "mtu", "opt_value": "1400"},
			map[string]any{"opt_name": "ntp-server", "opt_value": "10.0.0.123"},
			map[string]any{"opt_name": "domain-search", "opt_value": "example.org"},
			map[string]any{"opt_name": "no-such-option", "opt_value": "1"},
		}})).Expect(t, 201).Obj("port")
	pid := port["id"].(string)
	lspDHCP := func() string {
		lsp := &nbdb.LogicalSwitchPort{Name: pid}
		if nb.Get(ctx, lsp) != nil || lsp.Dhcpv4Options == nil {
			return ""
		}
		return *lsp.Dhcpv4Options
	}
	wantOwn := func(what string, extra map[string]string) {
		t.Helper()
		waitFor(t, 5*time.Second, what, func() bool {
			rows := dhcpRowsOf(nb)
			s, own := rows[sid], rows[sid+" "+pid]
			want := maps.Clone(s.Options)
			maps.Copy(want, extra)
			return s.UUID != "" && own.UUID != "" && lspDHCP() == own.UUID && maps.Equal(own.Options, want) &&
				own.Cidr == "10.0.0.0/24"
		})
	}
	wantOwn("the port's own DHCP row", map[string]string{"mtu": "1400", "ntp_server": "10.0.0.123", "domain_search_list": `"example.org"`})
	// its external_ids are the subnet's row's when written (a subnet update leaves them, as Neutron)
	if o := dhcpRowsOf(nb)[sid+" "+pid]; o.Options["dns_server"] != "{10.0.0.53}" || o.Options["no-such-option"] != "" ||
		!maps.Equal(o.ExternalIDs, map[string]string{"subnet_id": sid, "port_id": pid, "neutron:revision_number": "0"}) {
		t.Fatalf("port row %v %v", o.Options, o.ExternalIDs)
	}

	// the port's row deleted behind neutrino's back: ovn-db-sync finds and restores it
	syncFinds(t, srv, -1, "")
	if _, err := nb.Txn().Delete(&nbdb.DHCPOptions{UUID: dhcpRowsOf(nb)[sid+" "+pid].UUID}).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	syncFinds(t, srv, 1, "DHCPv4 options differ from the port's")
	wantOwn("the port's row restored", map[string]string{"mtu": "1400", "ntp_server": "10.0.0.123", "domain_search_list": `"example.org"`})
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "ntp-server", "opt_value": nil}}})).Expect(t, 200)
	wantOwn("ntp-server removed", map[string]string{"mtu": "1400", "domain_search_list": `"example.org"`})

	testutil.Do(t, "PUT", srv.URL+"/v2.0/subnets/"+sid, body("subnet", map[string]any{"dns_nameservers": []any{"10.0.0.54"}})).Expect(t, 200)
	wantOwn("the subnet's new DNS server", map[string]string{"mtu": "1400", "domain_search_list": `"example.org"`})
	if o := dhcpRowsOf(nb)[sid+" "+pid].Options; o["dns_server"] != "{10.0.0.54}" {
		t.Fatalf("port row options after the subnet update %v", o)
	}

	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "dhcp_disabled", "opt_value": "true"}}})).Expect(t, 200)
	waitFor(t, 5*time.Second, "DHCP disabled on the port", func() bool {
		_, own := dhcpRowsOf(nb)[sid+" "+pid]
		lsp := &nbdb.LogicalSwitchPort{Name: pid}
		return !own && nb.Get(ctx, lsp) == nil && lsp.Dhcpv4Options == nil && lsp.ExternalIDs["neutron:revision_number"] != "0"
	})

	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "dhcp_disabled", "opt_value": nil},
		map[string]any{"opt_name": "mtu", "opt_value": nil},
		map[string]any{"opt_name": "domain-search", "opt_value": nil}}})).Expect(t, 200)
	waitFor(t, 5*time.Second, "the subnet's row again", func() bool {
		rows := dhcpRowsOf(nb)
		_, own := rows[sid+" "+pid]
		return !own && lspDHCP() == rows[sid].UUID
	})

	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "router", "opt_value": "10.0.0.2"}}})).Expect(t, 200)
	wantOwn("a router option", map[string]string{"router": "10.0.0.2"})
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/ports/"+pid, nil).Expect(t, 204)
	waitFor(t, 5*time.Second, "the port's row gone with it", func() bool {
		_, own := dhcpRowsOf(nb)[sid+" "+pid]
		return !own
	})
}

// metadataPortOf is the network's metadata port as the API lists it (nil when none).
func metadataPortOf(t *testing.T, url string, netID any) map[string]any {
	t.Helper()
	ports := testutil.Do(t, "GET", url+"/v2.0/ports?device_owner=network:distributed&network_id="+netID.(string), nil).Expect(t, 200).List("ports")
	if len(ports) > 1 {
		t.Fatalf("%d metadata ports", len(ports))
	}
	if len(ports) == 0 {
		return nil
	}
	return ports[0]
}

// TestMetadataPort ([ovn] ovn_metadata_enabled): a network gets a network:distributed port
// (device_id ovnmeta-<network>) whose LSP is a localport; it gets an address on each IPv4 DHCP
// subnet, which DHCP's classless static route gives as the way to 169.254.169.254 (and as the
// server of a subnet without a gateway); turning DHCP off takes the address away; the port goes
// with the network.
func TestMetadataPort(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.ovn_metadata_enabled": "true"})
	ctx := context.Background()
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	meta := metadataPortOf(t, srv.URL, net["id"])
	if meta == nil || meta["device_id"] != "ovnmeta-"+net["id"].(string) || len(meta["fixed_ips"].([]any)) != 0 {
		t.Fatalf("metadata port %v", meta)
	}
	mid := meta["id"].(string)
	waitFor(t, 5*time.Second, "the metadata port's localport", func() bool {
		lsp := &nbdb.LogicalSwitchPort{Name: mid}
		return nb.Get(ctx, lsp) == nil && lsp.Type == "localport" && len(lsp.PortSecurity) == 0
	})
	sub := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"],
		"cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201).Obj("subnet")
	noGW := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"],
		"cidr": "10.0.1.0/24", "ip_version": 4, "gateway_ip": nil})).Expect(t, 201).Obj("subnet")
	ipOn := func(subID any) string {
		for _, f := range metadataPortOf(t, srv.URL, net["id"])["fixed_ips"].([]any) {
			if f.(map[string]any)["subnet_id"] == subID {
				return f.(map[string]any)["ip_address"].(string)
			}
		}
		return ""
	}
	ip, ip2 := ipOn(sub["id"]), ipOn(noGW["id"])
	if ip == "" || ip2 == "" {
		t.Fatalf("metadata port addresses %q %q", ip, ip2)
	}
	waitFor(t, 5*time.Second, "the metadata routes", func() bool {
		rows := dhcpRowsOf(nb)
		a, b := rows[sub["id"].(string)].Options, rows[noGW["id"].(string)].Options
		return a["classless_static_route"] == "{169.254.169.254/32,"+ip+", 0.0.0.0/0,10.0.0.1}" && a["server_id"] == "10.0.0.1" &&
			b["classless_static_route"] == "{169.254.169.254/32,"+ip2+"}" && b["server_id"] == ip2 && b["router"] == ""
	})
	lsp := &nbdb.LogicalSwitchPort{Name: mid}
	if err := nb.Get(ctx, lsp); err != nil || !strings.Contains(lsp.Addresses[0], ip) || lsp.Dhcpv4Options != nil {
		t.Fatalf("metadata LSP %v %v", lsp.Addresses, err)
	}
	// a SLAAC subnet gives it an address, which the network's repair (the subnet made the network
	// stale) keeps
	slaac := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"],
		"cidr": "fd00:1::/64", "ip_version": 6, "ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})).Expect(t, 201).Obj("subnet")
	syncFinds(t, srv, -1, "")
	if ipOn(slaac["id"]) == "" || ipOn(sub["id"]) != ip {
		t.Fatalf("metadata port after the repair: %v", metadataPortOf(t, srv.URL, net["id"])["fixed_ips"])
	}

	testutil.Do(t, "PUT", srv.URL+"/v2.0/subnets/"+noGW["id"].(string), body("subnet", map[string]any{"enable_dhcp": false})).Expect(t, 200)
	if ipOn(noGW["id"]) != "" {
		t.Fatal("the metadata port kept its address on a subnet without DHCP")
	}
	waitFor(t, 5*time.Second, "DHCP options of the subnet gone", func() bool {
		_, ok := dhcpRowsOf(nb)[noGW["id"].(string)]
		return !ok
	})

	// ovn-db-sync gives a network that lost its metadata port a new one
	var out strings.Builder
	if _, err := driverOf(t, srv).DBSync(ctx, true, &out); err != nil {
		t.Fatal(err)
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/ports/"+mid, nil).Expect(t, 204)
	out.Reset()
	if n, err := driverOf(t, srv).DBSync(ctx, true, &out); err != nil || n != 1 || !strings.Contains(out.String(), "no metadata port (repaired)") {
		t.Fatalf("ovn-db-sync: %d, %v:\n%s", n, err, out.String())
	}
	if m := metadataPortOf(t, srv.URL, net["id"]); m == nil || ipOn(sub["id"]) == "" {
		t.Fatalf("after ovn-db-sync: metadata port %v", m)
	}

	testutil.Do(t, "DELETE", srv.URL+"/v2.0/networks/"+net["id"].(string), nil).Expect(t, 204)
	waitFor(t, 5*time.Second, "an empty NB", func() bool {
		var lsps []nbdb.LogicalSwitchPort
		_ = nb.List(ctx, &lsps)
		return len(lsps) == 0 && len(dhcpRowsOf(nb)) == 0
	})
}

// dnsRecordsOf are the records of the network's DNS row (nil when it has none) and whether its
// switch points at the row.
func dnsRecordsOf(nb *ovn.Client, netID string) (map[string]string, bool) {
	ctx := context.Background()
	var rows []nbdb.DNS
	_ = nb.List(ctx, &rows)
	for _, r := range rows {
		if r.ExternalIDs["ls_name"] == "neutron-"+netID {
			var ls []nbdb.LogicalSwitch
			_ = nb.List(ctx, &ls)
			for _, s := range ls {
				if s.Name == "neutron-"+netID {
					return r.Records, len(s.DNSRecords) == 1 && s.DNSRecords[0] == r.UUID
				}
			}
			return r.Records, false
		}
	}
	return nil, false
}

// TestDNSRecords: ports with a dns_name and a device_id get records in their network's DNS row
// (hostname and FQDN to the addresses, reverse names to the FQDN); renaming a port replaces its
// records, deleting it removes them (and leaves the others), the row goes with the network.
func TestDNSRecords(t *testing.T) {
	nbRemote, sbRemote, nb, _ := memOVN(t)
	srv := testutil.StartServer(t, testutil.Options{Set: ovnConfig(nbRemote, sbRemote)})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	nid := net["id"].(string)
	sub := testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": nid,
		"cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201).Obj("subnet")
	mk := func(name, ip string, deviceID string) string {
		return testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": nid, "dns_name": name,
			"device_id": deviceID, "fixed_ips": []any{map[string]any{"subnet_id": sub["id"], "ip_address": ip}}})).Expect(t, 201).Obj("port")["id"].(string)
	}
	p1 := mk("web", "10.0.0.10", "vm-1")
	p2 := mk("db", "10.0.0.11", "vm-2")
	p3 := mk("nodevice", "10.0.0.12", "")
	expect := func(what string, want map[string]string) {
		t.Helper()
		waitFor(t, 5*time.Second, what, func() bool {
			got, linked := dnsRecordsOf(nb, nid)
			return linked && maps.Equal(got, want)
		})
	}
	expect("the records of web and db", map[string]string{
		"web": "10.0.0.10", "web.example.org": "10.0.0.10", "10.0.0.10.in-addr.arpa": "web.example.org",
		"db": "10.0.0.11", "db.example.org": "10.0.0.11", "11.0.0.10.in-addr.arpa": "db.example.org"})
	// records deleted behind neutrino's back: ovn-db-sync finds and restores them
	syncFinds(t, srv, -1, "")
	dns, _ := dnsRecordsOf(nb, nid)
	var rows []nbdb.DNS
	_ = nb.List(context.Background(), &rows)
	row := &nbdb.DNS{UUID: rows[0].UUID, Records: map[string]string{"db": dns["db"]}}
	if _, err := nb.Txn().Update(row, &row.Records).Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	syncFinds(t, srv, 2, "DNS records missing or different")
	expect("the records restored", dns)
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+p1, body("port", map[string]any{"dns_name": "www"})).Expect(t, 200)
	expect("web renamed www", map[string]string{
		"www": "10.0.0.10", "www.example.org": "10.0.0.10", "10.0.0.10.in-addr.arpa": "www.example.org",
		"db": "10.0.0.11", "db.example.org": "10.0.0.11", "11.0.0.10.in-addr.arpa": "db.example.org"})
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/ports/"+p1, nil).Expect(t, 204)
	expect("www gone", map[string]string{"db": "10.0.0.11", "db.example.org": "10.0.0.11", "11.0.0.10.in-addr.arpa": "db.example.org"})
	for _, p := range []string{p2, p3} {
		testutil.Do(t, "DELETE", srv.URL+"/v2.0/ports/"+p, nil).Expect(t, 204)
	}
	testutil.Do(t, "DELETE", srv.URL+"/v2.0/networks/"+nid, nil).Expect(t, 204)
	waitFor(t, 5*time.Second, "the DNS row gone", func() bool {
		var rows []nbdb.DNS
		_ = nb.List(context.Background(), &rows)
		return len(rows) == 0
	})
}

// TestGoldenNBRouterIPv6: a router interface on a SLAAC subnet carries ipv6_ra_configs (address
// mode, MTU, periodic RAs) as Neutron wrote them (nb/17-r1-interfaces.json); IPv4 ports have none.
func TestGoldenNBRouterIPv6(t *testing.T) {
	got := goldenL3(t, "r1-interfaces", goldenSkip, nil)
	want := goldenRows(t, "17-r1-interfaces.json")
	for _, lrp := range []string{"lrp-{{rif-r1-sub1v6}}", "lrp-{{rif-r1-sub1}}", "lrp-{{rgw-r1}}"} {
		g, w := got["Logical_Router_Port"][lrp], want["Logical_Router_Port"][lrp]
		if g == nil || w == nil || !equalJSON(g["ipv6_ra_configs"], w["ipv6_ra_configs"]) {
			t.Errorf("%s ipv6_ra_configs: neutrino %v, Neutron %v", lrp, g["ipv6_ra_configs"], w["ipv6_ra_configs"])
		}
	}
	compareRow(t, "Logical_Router_Port", "lrp-{{rif-r1-sub1v6}}", got["Logical_Router_Port"]["lrp-{{rif-r1-sub1v6}}"],
		want["Logical_Router_Port"]["lrp-{{rif-r1-sub1v6}}"], "external_ids.neutron:revision_number")
}

// TestDHCPv6AndDNSServers: DHCPv6 subnets get their DHCP_Options (server_id, dns_server,
// dhcpv6_stateless), a port on a stateful and a stateless subnet points at the stateful one's, an
// IPv6 extra option gives the port a v6 row of its own; DNS servers are the subnet's, else
// [ovn] dns_servers of the subnet's IP version, and none when one is the any address; global
// options do not override what Neutron sets itself.
func TestDHCPv6AndDNSServers(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.dns_servers": "192.0.2.53,2001:db8::53", "ovn.ovn_dhcp4_global_options": "ntp_server:10.0.0.9,mtu:9000"})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	mk := func(attrs map[string]any) string {
		attrs["network_id"] = net["id"]
		return testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", attrs)).Expect(t, 201).Obj("subnet")["id"].(string)
	}
	v4 := mk(map[string]any{"cidr": "10.0.0.0/24", "ip_version": 4})
	v4any := mk(map[string]any{"cidr": "10.0.1.0/24", "ip_version": 4, "dns_nameservers": []any{"0.0.0.0", "10.0.1.53"}})
	stateful := mk(map[string]any{"cidr": "fd00:1::/64", "ip_version": 6, "ipv6_address_mode": "dhcpv6-stateful", "ipv6_ra_mode": "dhcpv6-stateful"})
	stateless := mk(map[string]any{"cidr": "fd00:2::/64", "ip_version": 6, "ipv6_address_mode": "dhcpv6-stateless",
		"ipv6_ra_mode": "dhcpv6-stateless", "dns_nameservers": []any{"fd00:2::53"}})
	var rows map[string]nbdb.DHCPOptions
	waitFor(t, 5*time.Second, "four DHCP rows", func() bool { rows = dhcpRowsOf(nb); return len(rows) == 4 })
	if o := rows[v4].Options; o["dns_server"] != "{192.0.2.53}" || o["ntp_server"] != "10.0.0.9" || o["mtu"] != "1442" {
		t.Errorf("v4 options %v", o)
	}
	if o := rows[v4any].Options; o["dns_server"] != "" {
		t.Errorf("v4 with 0.0.0.0: dns_server %q", o["dns_server"])
	}
	if o := rows[stateful].Options; o["dns_server"] != "{2001:db8::53}" || o["server_id"] == "" || o["dhcpv6_stateless"] != "" {
		t.Errorf("stateful options %v", o)
	}
	if o := rows[stateless].Options; o["dns_server"] != "{fd00:2::53}" || o["dhcpv6_stateless"] != "true" {
		t.Errorf("stateless options %v", o)
	}
	port := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"],
		"fixed_ips": []any{map[string]any{"subnet_id": stateless}, map[string]any{"subnet_id": stateful}}})).Expect(t, 201).Obj("port")
	pid := port["id"].(string)
	lsp := &nbdb.LogicalSwitchPort{Name: pid}
	waitFor(t, 5*time.Second, "the port on the stateful subnet's row", func() bool {
		return nb.Get(context.Background(), lsp) == nil && lsp.Dhcpv6Options != nil && *lsp.Dhcpv6Options == rows[stateful].UUID
	})
	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+pid, body("port", map[string]any{"extra_dhcp_opts": []any{
		map[string]any{"opt_name": "domain-search", "opt_value": "example.org", "ip_version": 6}}})).Expect(t, 200)
	waitFor(t, 5*time.Second, "the port's own v6 row", func() bool {
		own := dhcpRowsOf(nb)[stateful+" "+pid]
		return own.Options["domain_search"] == "example.org" && own.Options["server_id"] == rows[stateful].Options["server_id"] &&
			nb.Get(context.Background(), lsp) == nil && lsp.Dhcpv6Options != nil && *lsp.Dhcpv6Options == own.UUID
	})
}

// syncFinds runs ovn-db-sync in repair mode and checks it found n differences, saying why (n -1:
// any number, a run that only settles what the API path leaves to the maintenance task).
func syncFinds(t *testing.T, srv *testutil.Server, n int, why string) {
	t.Helper()
	var out strings.Builder
	got, err := driverOf(t, srv).DBSync(context.Background(), true, &out)
	if n < 0 && err == nil {
		return
	}
	if err != nil || got != n || strings.Count(out.String(), why+" (repaired)") != n {
		t.Fatalf("ovn-db-sync: %d differences (want %d %q), %v:\n%s", got, n, why, err, out.String())
	}
}

// TestGoldenNBSwitchRows compares, after the router and floating IP steps (nb/20-fip2-portforwarding.json),
// every DHCP_Options and DNS row and the metadata ports (the external network's included) with Neutron's.
func TestGoldenNBSwitchRows(t *testing.T) {
	got := goldenL3(t, "fip2-portforwarding", goldenSkip, map[string]string{"ovn.ovn_metadata_enabled": "true"})
	want := goldenRows(t, "20-fip2-portforwarding.json")
	for _, table := range []string{"DHCP_Options", "DNS"} {
		if len(got[table]) != len(want[table]) {
			t.Errorf("%s: %d rows, Neutron %d", table, len(got[table]), len(want[table]))
		}
		for key := range want[table] {
			compareRow(t, table, key, got[table][key], want[table][key])
		}
	}
	for _, net := range []string{"net1", "net2", "vlannet", "extnet"} {
		key := "{{meta-" + net + "}}"
		compareRow(t, "Logical_Switch_Port", key, got["Logical_Switch_Port"][key], want["Logical_Switch_Port"][key],
			"up", "external_ids.neutron:revision_number")
	}
}

// TestRouterIPv6RA: a router port on a DHCPv6-stateful subnet advertises that mode periodically
// with its network's MTU; the gateway port on an external network's SLAAC subnet does not send
// periodic RAs (they would leak to the provider network).
func TestRouterIPv6RA(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"DEFAULT.service_plugins": "router,segments"})
	post := poster(t, srv.URL)
	ext := post("network", "networks", map[string]any{"name": "ext", "router:external": true,
		"provider:network_type": "flat", "provider:physical_network": "provider"})
	post("subnet", "subnets", map[string]any{"network_id": ext["id"], "cidr": "2001:db8::/64", "ip_version": 6,
		"ipv6_address_mode": "slaac", "ipv6_ra_mode": "slaac"})
	net := post("network", "networks", map[string]any{"name": "n"})
	sub := post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "fd00:5::/64", "ip_version": 6,
		"ipv6_address_mode": "dhcpv6-stateful", "ipv6_ra_mode": "dhcpv6-stateful"})
	r := post("router", "routers", map[string]any{"name": "r", "external_gateway_info": map[string]any{"network_id": ext["id"]}})
	itf := testutil.Do(t, "PUT", srv.URL+"/v2.0/routers/"+r["id"].(string)+"/add_router_interface",
		map[string]any{"subnet_id": sub["id"]}).Expect(t, 200).Body
	want := map[string]map[string]string{
		"lrp-" + itf["port_id"].(string): {"address_mode": "dhcpv6_stateful", "mtu": "1442", "send_periodic": "true"},
	}
	waitFor(t, 5*time.Second, "the router ports' ipv6_ra_configs", func() bool {
		var lrps []nbdb.LogicalRouterPort
		_ = nb.List(context.Background(), &lrps)
		gw := 0
		for _, p := range lrps {
			if w, ok := want[p.Name]; ok && !maps.Equal(p.Ipv6RaConfigs, w) {
				return false
			}
			if len(p.GatewayChassis) > 0 && maps.Equal(p.Ipv6RaConfigs, map[string]string{"address_mode": "slaac", "mtu": "1500", "send_periodic": "false"}) {
				gw++
			}
		}
		return len(lrps) == 2 && gw == 1
	})
}

// TestBaremetalDHCP: with [ovn] disable_ovn_dhcp_for_baremetal_ports a baremetal port gets no OVN
// DHCP, a normal port still does.
func TestBaremetalDHCP(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.disable_ovn_dhcp_for_baremetal_ports": "true"})
	net := testutil.Do(t, "POST", srv.URL+"/v2.0/networks", body("network", map[string]any{"name": "n"})).Expect(t, 201).Obj("network")
	testutil.Do(t, "POST", srv.URL+"/v2.0/subnets", body("subnet", map[string]any{"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4})).Expect(t, 201)
	lsps := map[string]*nbdb.LogicalSwitchPort{}
	for _, vnic := range []string{"baremetal", "normal"} {
		p := testutil.Do(t, "POST", srv.URL+"/v2.0/ports", body("port", map[string]any{"network_id": net["id"], "binding:vnic_type": vnic})).Expect(t, 201).Obj("port")
		lsps[vnic] = &nbdb.LogicalSwitchPort{Name: p["id"].(string)}
	}
	waitFor(t, 5*time.Second, "both LSPs", func() bool {
		return nb.Get(context.Background(), lsps["baremetal"]) == nil && nb.Get(context.Background(), lsps["normal"]) == nil
	})
	if lsps["baremetal"].Dhcpv4Options != nil || lsps["normal"].Dhcpv4Options == nil {
		t.Fatalf("DHCP options: baremetal %v, normal %v", lsps["baremetal"].Dhcpv4Options, lsps["normal"].Dhcpv4Options)
	}
}

// TestDNSDomainChange: a network's dns_domain change leaves its DNS row as it is, as Zed's
// update_network does (its TODO for bug 1777978); ovn-db-sync's repair then writes the ports'
// records in the new domain and drops those in the old one, as Zed's sync_port_dns_records.
func TestDNSDomainChange(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.background_tasks": "false"})
	post := poster(t, srv.URL)
	net := post("network", "networks", map[string]any{"name": "n", "dns_domain": "a.example."})
	nid := net["id"].(string)
	sub := post("subnet", "subnets", map[string]any{"network_id": nid, "cidr": "10.0.0.0/24", "ip_version": 4})
	post("port", "ports", map[string]any{"network_id": nid, "dns_name": "web", "device_id": "vm-1",
		"fixed_ips": []any{map[string]any{"subnet_id": sub["id"], "ip_address": "10.0.0.10"}}})
	in := func(dom string) map[string]string {
		return map[string]string{"web": "10.0.0.10", "web.example.org": "10.0.0.10", "web." + dom: "10.0.0.10",
			"10.0.0.10.in-addr.arpa": "web.example.org"}
	}
	waitFor(t, 5*time.Second, "the records in a.example", func() bool {
		got, linked := dnsRecordsOf(nb, nid)
		return linked && maps.Equal(got, in("a.example"))
	})
	syncFinds(t, srv, -1, "")
	testutil.Do(t, "PUT", srv.URL+"/v2.0/networks/"+nid, body("network", map[string]any{"dns_domain": "b.example."})).Expect(t, 200)
	time.Sleep(300 * time.Millisecond)
	if got, _ := dnsRecordsOf(nb, nid); !maps.Equal(got, in("a.example")) {
		t.Errorf("records after the dns_domain change %v, want them unchanged", got)
	}
	syncFinds(t, srv, 1, "DNS records missing or different")
	if got, _ := dnsRecordsOf(nb, nid); !maps.Equal(got, in("b.example")) {
		t.Errorf("records after ovn-db-sync %v, want %v", got, in("b.example"))
	}
}
