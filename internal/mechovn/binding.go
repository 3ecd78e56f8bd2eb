package mechovn

import (
	"context"
	"path"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// supportedVNICs are the VNIC types ML2/OVN binds (OVN_SUPPORTED_VNIC_TYPES); of them, external
// ports (extport.go) are refused as well.
var supportedVNICs = []string{"normal", "direct", "direct-physical", "macvtap", "vdpa", "remote-managed", "baremetal"}

// BindPort binds a port of a VNIC type OVN plugs on a host that is an OVN chassis (by hostname or
// chassis name; for remote-managed ports the SmartNIC DPU chassis whose ovn-cms-options has the
// profile's card-serial-number) to the first segment it can reach: a Geneve segment, or a flat/VLAN
// one whose physical network is in the chassis' bridge mappings. VIF type and details are ML2/OVN's.
func (d *Driver) BindPort(c *ml2.PortContext) {
	vnic := c.VNICType
	if vnic == "" {
		vnic = "normal"
	}
	if !slices.Contains(supportedVNICs, vnic) || isExternal(vnic, c.Profile) {
		return
	}
	host := c.Host
	if vnic == "remote-managed" {
		host = d.dpuHost(c.Profile)
	}
	ch := d.chassis(host)
	if ch == nil {
		return
	}
	mappings := chassisMappings(ch)
	for _, s := range c.SegmentsToBind {
		// other types than flat and vlan are bound anywhere (Zed: "upgrade allowing bind port with
		// unsupported network type")
		if (s.NetworkType == "flat" || s.NetworkType == "vlan") && !mappings[s.PhysicalNetwork] {
			continue
		}
		vifType, details := d.vif(ch, str(c.Current["id"]))
		c.SetBinding(s.ID, vifType, details)
		return
	}
}

// vif is the VIF type and details of a port bound on a chassis: vhostuser, with the port's socket
// in [ovn] vhost_sock_dir, on a netdev (DPDK) chassis offering dpdkvhostuser interfaces; else ovs.
func (d *Driver) vif(ch *sbdb.Chassis, portID string) (string, map[string]any) {
	if chassisOption(*ch, "datapath-type") == "netdev" && slices.Contains(strings.Split(chassisOption(*ch, "iface-types"), ","), "dpdkvhostuser") {
		return "vhostuser", map[string]any{"port_filter": false, "vhostuser_mode": "server", "vhostuser_ovs_plug": true,
			"connectivity": "l2", "vhostuser_socket": path.Join(d.s.vhostSockDir, vhostUserName(portID))}
	}
	return "ovs", map[string]any{"port_filter": true, "connectivity": "l2"}
}

// vhostUserName is a port's vhost-user socket (and interface) name: "vhu" and the port id, cut to
// 14 characters (an interface name has at most 15).
func vhostUserName(portID string) string {
	n := "vhu" + portID
	return n[:min(len(n), 14)]
}

// dpuHost is the hostname of the chassis whose ovn-cms-options has card-serial-number=<the
// profile's card_serial_number> ("" without one).
func (d *Driver) dpuHost(profile map[string]any) string {
	serial := str(profile["card_serial_number"])
	if serial == "" {
		return ""
	}
	waitFirst(d.sb)
	for _, ch := range d.allChassis() {
		if slices.Contains(cmsOptions(ch), "card-serial-number="+serial) {
			return ch.Hostname
		}
	}
	return ""
}

// chassis is the SB chassis of a host, or nil.
func (d *Driver) chassis(host string) *sbdb.Chassis {
	if host == "" {
		return nil
	}
	waitFirst(d.sb) // just started: give the first connection a moment rather than fail the binding
	if !d.sb.Connected() {
		return nil
	}
	var out []sbdb.Chassis
	err := d.sb.OVSDB().WhereCache(func(c *sbdb.Chassis) bool { return c.Hostname == host || c.Name == host }).List(context.Background(), &out)
	if err != nil || len(out) == 0 {
		return nil
	}
	return &out[0]
}

// chassisMappings are the physical networks of a chassis' ovn-bridge-mappings: OVN 23.03 writes them
// to other_config, older OVNs to external_ids (read second, as later Neutron releases do).
func chassisMappings(c *sbdb.Chassis) map[string]bool {
	v, ok := c.OtherConfig["ovn-bridge-mappings"]
	if !ok {
		v = c.ExternalIDs["ovn-bridge-mappings"]
	}
	out := map[string]bool{}
	for _, m := range strings.Split(v, ",") {
		if phys, _, ok := strings.Cut(strings.TrimSpace(m), ":"); ok {
			out[phys] = true
		}
	}
	return out
}

// allChassis are the SB chassis (none while the SB is away).
func (d *Driver) allChassis() []sbdb.Chassis {
	var out []sbdb.Chassis
	if d.sb.Connected() {
		_ = d.sb.OVSDB().List(context.Background(), &out)
	}
	return out
}
