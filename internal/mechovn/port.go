package mechovn

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// fixedIP is one of a port's addresses with its subnet.
type fixedIP struct {
	subnetID string
	addr     netip.Addr
	prefix   int // the subnet's prefix length
}

// portIPs are the port's fixed IPs with their subnets' prefix lengths.
func (d *Driver) portIPs(ctx context.Context, port api.Object) ([]fixedIP, error) {
	var out []fixedIP
	for _, m := range objList(port["fixed_ips"]) {
		a, err := netip.ParseAddr(str(m["ip_address"]))
		if err != nil {
			continue
		}
		sub, err := d.tables.subnets.Get(ctx, str(m["subnet_id"]), []string{"cidr"})
		if err != nil {
			return nil, fmt.Errorf("subnet of port %s: %w", str(port["id"]), err)
		}
		p, err := netip.ParsePrefix(str(sub["cidr"]))
		if err != nil {
			return nil, err
		}
		out = append(out, fixedIP{subnetID: str(m["subnet_id"]), addr: a, prefix: p.Bits()})
	}
	return out, nil
}

// trusted ports (network:* owners) get no port security and no security groups.
func trusted(port api.Object) bool { return strings.HasPrefix(str(port["device_owner"]), "network:") }

func portSecurityOn(port api.Object) bool {
	on, ok := port["port_security_enabled"].(bool)
	return !ok || on
}

// lspRow is the port's Logical_Switch_Port as ML2/OVN writes it, and the port groups it belongs in.
func (d *Driver) lspRow(port api.Object, ips []fixedIP) (*nbdb.LogicalSwitchPort, []string) {
	mac := str(port["mac_address"])
	addr := []string{mac}
	var cidrs []string
	for _, ip := range ips {
		addr = append(addr, ip.addr.String())
		cidrs = append(cidrs, ip.addr.String()+"/"+strconv.Itoa(ip.prefix))
	}
	enabled, _ := port["admin_state_up"].(bool)
	owner := str(port["device_owner"])
	lsp := &nbdb.LogicalSwitchPort{
		Name: str(port["id"]), Enabled: &enabled, Addresses: []string{strings.Join(addr, " ")},
		Options: map[string]string{"requested-chassis": str(port["binding:host_id"])},
		ExternalIDs: map[string]string{
			"neutron:port_name": str(port["name"]), "neutron:device_id": str(port["device_id"]),
			"neutron:device_owner": owner, "neutron:project_id": str(port["project_id"]),
			"neutron:network_name": switchName(str(port["network_id"])), "neutron:cidrs": strings.Join(cidrs, " "),
			"neutron:security_group_ids": strings.Join(strList(port["security_groups"]), " "),
			extRevision:                  strconv.FormatInt(intOf(port["revision_number"]), 10),
		},
	}
	switch {
	case slices.Contains(routerOwners, owner):
		lsp.Type, lsp.Addresses = "router", []string{"router"}
		lsp.Options = map[string]string{"router-port": lrpName(lsp.Name)}
		if owner == "network:router_gateway" {
			lsp.Options["nat-addresses"], lsp.Options["exclude-lb-vips-from-garp"] = "router", "true"
		}
	case vtepPort(port, lsp):
		return lsp, vtepGroups(port)
	case owner == "network:distributed":
		lsp.Type = "localport"
	default:
		lsp.Options["mcast_flood_reports"] = "true"
	}
	lsp.ParentName, lsp.Tag = subportParent(port)
	if lsp.Type != "router" && isExternalPort(port) {
		lsp.Type = "external" // bound to its network's HA_Chassis_Group, not to a requested chassis
		delete(lsp.Options, "requested-chassis")
	}
	var groups []string
	if portSecurityOn(port) && !trusted(port) {
		same, other, macs := pairs(port, mac)
		lsp.PortSecurity = append([]string{strings.Join(append(addr, same...), " ")}, other...)
		lsp.Addresses = append(lsp.Addresses, macs...)
		groups = append(groups, pgDropName)
		for _, sg := range strList(port["security_groups"]) {
			groups = append(groups, pgName(sg))
		}
	} else if !portSecurityOn(port) && lsp.Type == "" {
		lsp.Addresses = append(lsp.Addresses, "unknown")
	}
	return lsp, groups
}

var routerOwners = []string{"network:router_interface", "network:router_gateway", "network:router_interface_distributed", "network:ha_router_replicated_interface"}

// vtepPort makes lsp a VTEP gateway port when the port's binding:profile is ML2/OVN's VTEP key set
// (which applies when the profile has neither parent_name nor tag): Zed's _get_port_options gives it
// type vtep, the profile's vtep-physical-switch and vtep-logical-switch options, the requested
// chassis, address unknown, no port security, parent, tag or cidrs, and it is never external.
func vtepPort(port api.Object, lsp *nbdb.LogicalSwitchPort) bool {
	prof, _ := port["binding:profile"].(map[string]any)
	_, parent := prof["parent_name"]
	_, tag := prof["tag"]
	if parent || tag || str(prof["vtep-physical-switch"]) == "" {
		return false
	}
	lsp.Type, lsp.Addresses, lsp.ExternalIDs["neutron:cidrs"] = "vtep", []string{"unknown"}, ""
	lsp.Options["vtep-physical-switch"] = str(prof["vtep-physical-switch"])
	lsp.Options["vtep-logical-switch"] = str(prof["vtep-logical-switch"])
	return true
}

// vtepGroups are a VTEP port's port groups: without port security it is in its security groups'
// only (none when trusted), as Zed's create_port puts it.
func vtepGroups(port api.Object) []string {
	var groups []string
	if !trusted(port) {
		for _, sg := range strList(port["security_groups"]) {
			groups = append(groups, pgName(sg))
		}
	}
	return groups
}

// pairs are the allowed address pairs as port security entries: an address with the port's MAC
// joins the port's own entry (same), another MAC gets an entry of its own (other, whose MACs also
// become addresses of the port).
func pairs(port api.Object, mac string) (same, other, macs []string) {
	for _, m := range objList(port["allowed_address_pairs"]) {
		pm, ip := str(m["mac_address"]), str(m["ip_address"])
		if pm == "" || pm == mac {
			same = append(same, ip)
			continue
		}
		other = append(other, pm+" "+ip)
		macs = append(macs, pm)
	}
	return same, other, macs
}

// syncPort makes the port's Logical_Switch_Port and its port group memberships what they should be.
// Floating IP ports have none.
func (d *Driver) syncPort(ctx context.Context, port api.Object) error {
	id, owner := str(port["id"]), str(port["device_owner"])
	rev := intOf(port["revision_number"])
	if owner == "network:floatingip" {
		return d.recordRevision(ctx, resPort, id, rev)
	}
	ips, err := d.portIPs(ctx, port)
	if err != nil {
		return err
	}
	want, groups := d.lspRow(port, ips)
	d.remoteManaged(ctx, port, want)
	for _, g := range groups {
		if err := d.ensurePortGroup(ctx, g); err != nil {
			return err
		}
	}
	if want.Type == "external" {
		g, err := d.syncHAGroup(ctx, str(port["network_id"]))
		if err != nil {
			return err
		}
		want.HaChassisGroup = &g
	}
	defer d.locked(resPort, id)()
	cur := d.lspByName(ctx, id)
	if cur != nil && revisionOf(cur.ExternalIDs) > rev {
		return nil
	}
	txn := d.nb.Txn()
	var own4, own6 string
	want.Dhcpv4Options, own4 = d.portDHCP(ctx, txn, port, ips, 4)
	want.Dhcpv6Options, own6 = d.portDHCP(ctx, txn, port, ips, 6)
	d.dropPortDHCP(ctx, txn, id, own4, own6)
	old := lspIPs(cur)
	for _, ip := range ips {
		old = append(old, ip.addr.String())
	}
	d.syncPortDNS(ctx, txn, str(port["network_id"]), old, d.portDNSRecords(ctx, port, ips))
	if cur == nil {
		ls := d.switchByName(ctx, switchName(str(port["network_id"])))
		if ls == nil {
			return fmt.Errorf("port %s: no Logical_Switch for network %s yet", id, str(port["network_id"]))
		}
		want.UUID = ovn.NamedUUID("lsp" + id)
		txn.Create(want)
		m := &nbdb.LogicalSwitch{UUID: ls.UUID}
		txn.Mutate(m, model.Mutation{Field: &m.Ports, Mutator: "insert", Value: []string{want.UUID}})
	} else {
		want.UUID = cur.UUID
		if fip, ok := cur.ExternalIDs["neutron:port_fip"]; ok {
			want.ExternalIDs["neutron:port_fip"] = fip
		}
		if rate, ok := cur.Options[optMinRate]; ok { // syncPortQoS owns it
			want.Options[optMinRate] = rate
		}
		txn.Update(want, &want.Addresses, &want.PortSecurity, &want.Enabled, &want.Type, &want.Options,
			&want.ExternalIDs, &want.Dhcpv4Options, &want.Dhcpv6Options, &want.HaChassisGroup, &want.ParentName, &want.Tag)
	}
	d.membership(txn, want.UUID, cur, groups)
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.recordRevision(ctx, resPort, id, rev)
}

// membership moves the LSP into exactly the port groups named (cur is its row before, nil for a
// new one). The groups it was in follow from that row, as lspRow chose them (a VTEP port is in its
// security groups' without port security; the driver does not monitor the groups' port sets: they
// are big and only written).
func (d *Driver) membership(txn *ovn.Txn, lspUUID string, cur *nbdb.LogicalSwitchPort, groups []string) {
	in := map[string]bool{}
	if cur != nil && len(cur.PortSecurity) > 0 {
		in[pgDropName] = true
	}
	if cur != nil && (len(cur.PortSecurity) > 0 || cur.Type == "vtep") {
		for _, sg := range strings.Fields(cur.ExternalIDs["neutron:security_group_ids"]) {
			in[pgName(sg)] = true
		}
	}
	for g := range in {
		if !slices.Contains(groups, g) {
			pg := &nbdb.PortGroup{Name: g}
			txn.Mutate(pg, model.Mutation{Field: &pg.Ports, Mutator: "delete", Value: []string{lspUUID}})
		}
	}
	for _, g := range groups {
		if !in[g] {
			pg := &nbdb.PortGroup{Name: g}
			txn.Mutate(pg, model.Mutation{Field: &pg.Ports, Mutator: "insert", Value: []string{lspUUID}})
		}
	}
}

// deletePort removes the port's Logical_Switch_Port (port group memberships are weak references).
func (d *Driver) deletePort(ctx context.Context, id, netID string) error {
	defer d.locked(resPort, id)()
	txn := d.nb.Txn()
	if cur := d.lspByName(ctx, id); cur != nil {
		if ls := d.switchByName(ctx, switchName(netID)); ls != nil {
			m := &nbdb.LogicalSwitch{UUID: ls.UUID}
			txn.Mutate(m, model.Mutation{Field: &m.Ports, Mutator: "delete", Value: []string{cur.UUID}})
		}
		txn.Delete(&nbdb.LogicalSwitchPort{UUID: cur.UUID})
		d.syncPortDNS(ctx, txn, netID, lspIPs(cur), nil)
	}
	d.dropPortDHCP(ctx, txn, id, "", "")
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resPort, id)
}
