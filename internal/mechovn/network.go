package mechovn

import (
	"context"
	"strconv"
	"strings"

	"github.com/ovn-kubernetes/libovsdb/model"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/ovn"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
)

// switchRow is a network's Logical_Switch as ML2/OVN writes it (without ports).
func switchRow(net api.Object) *nbdb.LogicalSwitch {
	passthru := "false"
	if b, _ := net["vlan_transparent"].(bool); b {
		passthru = "true"
	}
	return &nbdb.LogicalSwitch{
		Name: switchName(str(net["id"])),
		ExternalIDs: map[string]string{
			"neutron:network_name":            str(net["name"]),
			"neutron:mtu":                     strconv.FormatInt(intOf(net["mtu"]), 10),
			extRevision:                       strconv.FormatInt(intOf(net["revision_number"]), 10),
			"neutron:availability_zone_hints": strings.Join(strList(net["availability_zone_hints"]), ","),
		},
		OtherConfig: map[string]string{"mcast_snoop": "false", "mcast_flood_unregistered": "false", "vlan-passthru": passthru},
	}
}

// localnetRow is the localnet port of a segment with a physical network.
func localnetRow(s *ml2.Segment) *nbdb.LogicalSwitchPort {
	p := &nbdb.LogicalSwitchPort{
		UUID: ovn.NamedUUID("ln" + s.ID), Name: localnetPrefx + s.ID, Type: "localnet", Addresses: []string{"unknown"},
		Options: map[string]string{"network_name": s.PhysicalNetwork, "mcast_flood": "false", "mcast_flood_reports": "true"},
	}
	if s.NetworkType == "vlan" && s.SegmentationID != nil {
		tag := int(*s.SegmentationID)
		p.Tag = &tag
	}
	return p
}

// syncNetwork makes the network's switch and localnet ports what they should be.
func (d *Driver) syncNetwork(ctx context.Context, net api.Object, segs []*ml2.Segment) error {
	defer d.locked(resNetwork, str(net["id"]))()
	want := switchRow(net)
	rev := intOf(net["revision_number"])
	cur := d.switchByName(ctx, want.Name)
	txn := d.nb.Txn()
	if cur != nil && revisionOf(cur.ExternalIDs) > rev {
		return nil // a newer write got there first
	}
	var newPorts []string
	for _, s := range segs {
		if s.PhysicalNetwork == "" {
			continue
		}
		ln := localnetRow(s)
		if cur != nil && d.lspByName(ctx, ln.Name) != nil {
			continue
		}
		txn.Create(ln)
		newPorts = append(newPorts, ln.UUID)
	}
	if cur == nil {
		want.UUID = ovn.NamedUUID("ls" + str(net["id"]))
		want.Ports = newPorts
		txn.Create(want)
	} else {
		want.UUID = cur.UUID
		txn.Update(want, &want.ExternalIDs, &want.OtherConfig)
		if len(newPorts) > 0 {
			m := &nbdb.LogicalSwitch{UUID: cur.UUID}
			txn.Mutate(m, model.Mutation{Field: &m.Ports, Mutator: "insert", Value: newPorts})
		}
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.recordRevision(ctx, resNetwork, str(net["id"]), rev)
}

// deleteNetwork removes the network's switch (its ports go with it), its DNS row, its HA chassis
// group and its subnets' DHCP rows.
func (d *Driver) deleteNetwork(ctx context.Context, id string, subnetIDs []string) error {
	defer d.locked(resNetwork, id)()
	txn := d.nb.Txn()
	if ls := d.switchByName(ctx, switchName(id)); ls != nil {
		txn.Delete(&nbdb.LogicalSwitch{UUID: ls.UUID})
	}
	if dns := d.dnsRow(ctx, switchName(id)); dns != nil {
		txn.Delete(&nbdb.DNS{UUID: dns.UUID})
	}
	d.deleteHAGroup(ctx, txn, id)
	for _, sid := range subnetIDs {
		for _, o := range d.dhcpRows(ctx, sid) {
			txn.Delete(&nbdb.DHCPOptions{UUID: o.UUID})
		}
	}
	if _, err := txn.Commit(ctx); err != nil {
		return err
	}
	return d.forgetRevision(ctx, resNetwork, id)
}

// ---- small conversions of API values ----

func str(v any) string { s, _ := v.(string); return s }

func intOf(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case float64:
		return int64(n)
	case string:
		i, _ := strconv.ParseInt(n, 10, 64)
		return i
	}
	return 0
}

func strList(v any) []string {
	switch l := v.(type) {
	case []string:
		return l
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			out = append(out, str(e))
		}
		return out
	}
	return nil
}

// objList is a list of API objects however it is held.
func objList(v any) []map[string]any {
	switch l := v.(type) {
	case []map[string]any:
		return l
	case []any:
		out := make([]map[string]any, 0, len(l))
		for _, e := range l {
			switch m := e.(type) {
			case map[string]any:
				out = append(out, m)
			case api.Ordered:
				out = append(out, m.M)
			}
		}
		return out
	}
	return nil
}
