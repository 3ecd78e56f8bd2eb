package trunk

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Driver is a trunk driver as Neutron's trunk DriverBase declares one: the backend that wires
// sub-ports into the dataplane. It registers itself with RegisterDriver (a mechanism driver does,
// once every plugin is set up) and follows trunks and sub-ports through the event bus (Trunks and
// Subports AFTER_CREATE / AFTER_DELETE); the plugin only learns what it may accept from it.
type Driver struct {
	Name string
	// Interfaces are the VIF types of the ports it serves.
	Interfaces []string
	// SegmentationTypes it supports; the plugin accepts those every driver supports.
	SegmentationTypes []string
	// AgentType is its agent's type, "" for an agentless driver.
	AgentType string
	// CanTrunkBoundPort allows a trunk on a bound parent port (a trunk made after the VM boots).
	CanTrunkBoundPort bool
}

// RegisterDriver adds a trunk driver (TrunkPlugin.register_driver).
func (p *Plugin) RegisterDriver(d Driver) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drivers = append(p.drivers, d)
}

func (p *Plugin) registered() []Driver {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.drivers)
}

// segmentationTypes are the segmentation types every registered driver supports
// (check_segmentation_compatibility); without drivers, vlan.
func (p *Plugin) segmentationTypes() []string {
	ds := p.registered()
	if len(ds) == 0 {
		return []string{"vlan"}
	}
	out := slices.Clone(ds[0].SegmentationTypes)
	for _, d := range ds[1:] {
		out = slices.DeleteFunc(out, func(t string) bool { return !slices.Contains(d.SegmentationTypes, t) })
	}
	return out
}

// canBeTrunked is TrunkPortValidator.can_be_trunked_or_untrunked: an unbound port always can; a
// bound one when the one driver serving its VIF type (and, for an agent-based driver, with its agent
// on the port's host) can trunk bound ports. Two such drivers are TrunkPluginDriverConflict.
func (p *Plugin) canBeTrunked(ctx context.Context, q db.Querier, port *portRow) (bool, error) {
	if port.host == "" {
		return true, nil
	}
	var match []Driver
	for _, d := range p.registered() {
		if !slices.Contains(d.Interfaces, port.vifType) {
			continue
		}
		if d.AgentType != "" {
			var n int
			err := q.QueryRow(ctx, "SELECT COUNT(*) FROM agents WHERE host = ? AND agent_type = ?", port.host, d.AgentType).Scan(&n)
			if err != nil {
				return false, err
			}
			if n == 0 {
				continue
			}
		}
		match = append(match, d)
	}
	switch len(match) {
	case 0:
		return false, nil
	case 1:
		return match[0].CanTrunkBoundPort, nil
	}
	return false, nerr.Conflict("TrunkPluginDriverConflict",
		"A misconfiguration in the environment prevents the operation from completing, please, contact the admin.")
}

// ParentOf is a trunk's parent port ("" for a trunk gone), for its drivers.
func (p *Plugin) ParentOf(ctx context.Context, trunk string) string {
	port, _ := first(ctx, p.env.DB, "SELECT port_id FROM trunks WHERE id = ?", trunk)
	return port
}

// SetStatus sets a trunk's status as a driver reports it (a new revision when it changes).
func (p *Plugin) SetStatus(ctx context.Context, trunk, status string) error {
	return p.env.DB.Write(ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE trunks SET status = ?, revision_number = revision_number + 1, updated_at = ? WHERE id = ? AND status <> ?",
			status, store.Now(), trunk, status)
		return err
	})
}

// driverUpdates copies into a trunk just written what its agentless drivers changed once it
// committed (its status, as a new revision), as Neutron's drivers update the very object the
// plugin answers with; an agent's later report (the Open vSwitch agent's) is not part of it.
func (p *Plugin) driverUpdates(ctx context.Context, obj map[string]any) {
	if obj == nil || !slices.ContainsFunc(p.registered(), func(d Driver) bool { return d.AgentType == "" }) {
		return
	}
	fresh, err := p.trunks.Get(ctx, str(obj["id"]), nil)
	if err != nil {
		return
	}
	for _, k := range []string{"status", "revision_number", "updated_at"} {
		if v, ok := fresh[k]; ok {
			obj[k] = v
		}
	}
}

// RPCEnabled says whether an agent-based driver is registered: the server then serves the trunk
// RPC and pushes trunks and sub-ports to the agents (DriverBase.register's set_rpc_backend).
func (p *Plugin) RPCEnabled() bool {
	return slices.ContainsFunc(p.registered(), func(d Driver) bool { return d.AgentType != "" })
}
