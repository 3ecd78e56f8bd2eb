package mechovn_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/testutil"
)

// lspGroups are the names of the port groups that hold the LSP, sorted.
func lspGroups(nb *ovn.Client, lsp *nbdb.LogicalSwitchPort) []string {
	var pgs []nbdb.PortGroup
	_ = nb.List(context.Background(), &pgs)
	var out []string
	for _, pg := range pgs {
		if slices.Contains(pg.Ports, lsp.UUID) {
			out = append(out, pg.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestVTEPPort: a port whose binding:profile has vtep-physical-switch and vtep-logical-switch is,
// as Zed's _get_port_options writes it, a Logical_Switch_Port of type vtep with those options and
// its requested chassis (no mcast_flood_reports), address unknown, no port security and no cidrs,
// in its security groups' port groups but not the drop group; without them it is an ordinary port
// again. ovn-db-sync finds and repairs a VTEP port written as an ordinary one. Before, VTEP ports
// were ordinary ports.
func TestVTEPPort(t *testing.T) {
	srv, nb := memServer(t, map[string]string{"ovn.background_tasks": "false"})
	post := poster(t, srv.URL)
	ctx := context.Background()
	net := post("network", "networks", map[string]any{"name": "n"})
	post("subnet", "subnets", map[string]any{"network_id": net["id"], "cidr": "10.6.0.0/24", "ip_version": 4})
	vtep := map[string]any{"vtep-physical-switch": "psw1", "vtep-logical-switch": "lsw1"}
	p := post("port", "ports", map[string]any{"network_id": net["id"], "binding:host_id": "chassis1", "binding:profile": vtep})
	sgGroup := "pg_" + strings.ReplaceAll(p["security_groups"].([]any)[0].(string), "-", "_")
	lsp := &nbdb.LogicalSwitchPort{Name: p["id"].(string)}
	waitFor(t, 5*time.Second, "the VTEP port's LSP", func() bool { return nb.Get(ctx, lsp) == nil })
	wantOpts := map[string]string{"requested-chassis": "chassis1", "vtep-physical-switch": "psw1", "vtep-logical-switch": "lsw1"}
	if lsp.Type != "vtep" || !equalJSON(lsp.Options, wantOpts) || !slices.Equal(lsp.Addresses, []string{"unknown"}) ||
		len(lsp.PortSecurity) != 0 || lsp.ExternalIDs["neutron:cidrs"] != "" || lsp.ParentName != nil || lsp.Tag != nil {
		t.Errorf("VTEP port's LSP: type %q, options %v, addresses %q, port_security %q, external_ids %v",
			lsp.Type, lsp.Options, lsp.Addresses, lsp.PortSecurity, lsp.ExternalIDs)
	}
	if g := lspGroups(nb, lsp); !slices.Equal(g, []string{sgGroup}) {
		t.Errorf("VTEP port in port groups %q, want only %s", g, sgGroup)
	}

	// ovn-db-sync: the port written as an ordinary one
	plain := &nbdb.LogicalSwitchPort{UUID: lsp.UUID, Options: map[string]string{"requested-chassis": "chassis1"}}
	if _, err := nb.Txn().Update(plain, &plain.Type, &plain.Options).Commit(ctx); err != nil {
		t.Fatal(err)
	}
	d := driverOf(t, srv)
	var out strings.Builder
	// (the network's switch is a revision behind its subnet without the maintenance task)
	if _, err := d.DBSync(ctx, true, &out); err != nil || !strings.Contains(out.String(), "port "+lsp.Name+": type or VTEP options differ") {
		t.Fatalf("repair: %v:\n%s", err, out.String())
	}
	waitFor(t, 5*time.Second, "the VTEP LSP repaired", func() bool {
		return nb.Get(ctx, lsp) == nil && lsp.Type == "vtep" && equalJSON(lsp.Options, wantOpts)
	})
	out.Reset()
	if n, _ := d.DBSync(ctx, false, &out); n != 0 {
		t.Errorf("after the repair: %d differences:\n%s", n, out.String())
	}

	testutil.Do(t, "PUT", srv.URL+"/v2.0/ports/"+lsp.Name, body("port", map[string]any{"binding:profile": map[string]any{}})).Expect(t, 200)
	waitFor(t, 5*time.Second, "an ordinary LSP again", func() bool { return nb.Get(ctx, lsp) == nil && lsp.Type == "" })
	if len(lsp.PortSecurity) != 1 || lsp.Options["vtep-physical-switch"] != "" || lsp.Options["mcast_flood_reports"] != "true" ||
		lsp.ExternalIDs["neutron:cidrs"] == "" {
		t.Errorf("ordinary port's LSP: options %v, port_security %q, external_ids %v", lsp.Options, lsp.PortSecurity, lsp.ExternalIDs)
	}
	if g := lspGroups(nb, lsp); !slices.Equal(g, []string{"neutron_pg_drop", sgGroup}) {
		t.Errorf("ordinary port in port groups %q, want neutron_pg_drop and %s", g, sgGroup)
	}
}
