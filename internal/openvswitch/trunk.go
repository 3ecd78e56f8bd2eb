package openvswitch

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/trunk"
)

// The Open vSwitch trunk driver (Neutron's services/trunk/drivers/openvswitch): registered with
// the trunk plugin when it is loaded, it accepts ports bound as ovs or vhostuser with VLAN
// sub-ports, trunks on bound parents, for hosts with an Open vSwitch agent. The agent wires the
// trunk itself (a trunk bridge tbr-<trunk id> the VIF plugger makes, patched into br-int) and
// talks to the server over the trunk RPC (internal/rpc/trunk.go); the driver's one server-side
// effect is the trunk bridge's name in a parent port's binding:vif_details bridge_name.
var trunkDriver = trunk.Driver{Name: "openvswitch", Interfaces: []string{"ovs", "vhostuser"},
	SegmentationTypes: []string{"vlan"}, AgentType: agents.TypeOVS, CanTrunkBoundPort: true}

// trunkBridgePrefix and deviceNameMax make a trunk bridge's name (gen_trunk_br_name).
const (
	trunkBridgePrefix = "tbr-"
	deviceNameMax     = 15
)

// registerTrunkDriver runs once every plugin is set up.
func (d *Driver) registerTrunkDriver() error {
	if tp, ok := d.env.Plugin("trunk").(*trunk.Plugin); ok {
		tp.RegisterDriver(trunkDriver)
		d.trunks = true
	}
	return nil
}

// TrunkBridge is the name of a trunk's bridge on the agent's host.
func TrunkBridge(trunkID string) string {
	n := trunkBridgePrefix + trunkID
	return n[:min(len(n), deviceNameMax-1)]
}

// trunkBridge is vif_details_bridge_name_handler: the bridge of the trunk a port is the parent
// of, "" when it is none's.
func (d *Driver) trunkBridge(ctx context.Context, tx *db.Tx, port api.Object) string {
	if !d.trunks {
		return ""
	}
	var q db.Querier = d.env.DB
	if tx != nil {
		q = tx
	}
	var id string
	if err := q.QueryRow(ctx, "SELECT id FROM trunks WHERE port_id = ?", port["id"]).Scan(&id); err != nil {
		return ""
	}
	return TrunkBridge(id)
}
