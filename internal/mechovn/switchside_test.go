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
