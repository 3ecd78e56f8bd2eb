// Package openvswitch is the ML2 mechanism driver "openvswitch" (Neutron's
// OpenvswitchMechanismDriver): it binds ports with VNIC type normal (and
// direct, for hardware offload) on hosts whose Open vSwitch agent is
// alive, to the first segment the agent can reach (a tunnel type it
// reports in tunnel_types, a flat or VLAN physical network of its
// bridge_mappings, or local), with vif_type ovs (vhostuser on a netdev
// datapath with DPDK vhost-user interfaces) and the vif_details the agent's
// configuration implies: bridge_name (its integration_bridge; a trunk
// parent's trunk bridge), datapath_type, ovs_hybrid_plug, port_filter,
// connectivity l2. It is also the Open vSwitch trunk driver. The agents
// themselves are kept by internal/agents; their RPC by internal/rpc.
package openvswitch

import (
	"slices"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/plugin"
)

func init() {
	ml2.RegisterMechanismDriver("openvswitch", func() ml2.MechanismDriver { return &Driver{} })
	config.Implemented("ml2", "mechanism_drivers", "openvswitch")
}

// Driver is the openvswitch mechanism driver of one server.
type Driver struct {
	ml2.BaseMechanismDriver
	env *plugin.Env
	// trunks: the trunk plugin is loaded (the Open vSwitch trunk driver registered).
	trunks bool
}

// Initialize keeps the server's environment.
func (d *Driver) Initialize(env *plugin.Env, _ *ml2.Plugin) error {
	d.env = env
	env.OnFinish(d.registerTrunkDriver)
	return nil
}

var vnicTypes = []string{"normal", "direct", "smart-nic"}

// BindPort binds to the first segment a live OVS agent on the host reaches.
func (d *Driver) BindPort(c *ml2.PortContext) {
	vnic := c.VNICType
	if vnic == "" {
		vnic = "normal"
	}
	k := agents.From(d.env)
	if k == nil || !slices.Contains(vnicTypes, vnic) {
		return
	}
	agent, err := k.ByTypeHost(c.Ctx, c.Tx, agents.TypeOVS, c.Host)
	if err != nil || agent == nil {
		return
	}
	if !agent.Alive {
		d.env.Log.Warn("Refusing to bind port to dead agent", "port", c.Current["id"], "host", c.Host, "agent", agent.ID)
		return
	}
	for _, s := range c.SegmentsToBind {
		if reachable(agent, s) {
			details := d.vifDetails(agent)
			if br := d.trunkBridge(c.Ctx, c.Tx, c.Current); br != "" {
				details["bridge_name"] = br
			}
			c.SetBinding(s.ID, vifType(agent, vnic), details)
			return
		}
	}
}

// reachable is check_segment_for_agent.
func reachable(a *agents.Agent, s *ml2.Segment) bool {
	conf := a.Configurations
	switch s.NetworkType {
	case "local":
		return true
	case "flat", "vlan":
		m, _ := conf["bridge_mappings"].(map[string]any)
		_, ok := m[s.PhysicalNetwork]
		return ok
	}
	types, _ := conf["tunnel_types"].([]any)
	return slices.Contains(types, any(s.NetworkType))
}

func vifType(a *agents.Agent, vnic string) string {
	if vnic == "direct" {
		return "ovs"
	}
	caps, _ := a.Configurations["ovs_capabilities"].(map[string]any)
	ifaces, _ := caps["iface_types"].([]any)
	if a.Configurations["datapath_type"] == "netdev" &&
		(slices.Contains(ifaces, any("dpdkvhostuser")) || slices.Contains(ifaces, any("dpdkvhostuserclient"))) {
		return "vhostuser"
	}
	return "ovs"
}

// vifDetails are the binding's details from the agent's configuration.
func (d *Driver) vifDetails(a *agents.Agent) map[string]any {
	conf := a.Configurations
	hybrid, _ := conf["ovs_hybrid_plug"].(bool)
	dp, _ := conf["datapath_type"].(string)
	if dp == "" {
		dp = "system"
	}
	out := map[string]any{"connectivity": "l2", "port_filter": true, "ovs_hybrid_plug": hybrid, "datapath_type": dp}
	if br, ok := conf["integration_bridge"].(string); ok && br != "" {
		out["bridge_name"] = br
	}
	return out
}
