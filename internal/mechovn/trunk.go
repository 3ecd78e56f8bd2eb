package mechovn

import (
	"context"
	"encoding/json"
	"errors"
	"maps"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/store"
	"github.com/neutrino-os/neutrino/internal/trunk"
)

// The OVN trunk driver (Neutron's services/trunk/drivers/ovn): a sub-port is a Logical_Switch_Port
// whose parent_name is the trunk's parent port and whose tag is the sub-port's VLAN, so OVN
// delivers the parent's traffic tagged with it to the sub-port. As in Neutron, the driver writes
// them into the sub-port's binding:profile (parent_name, tag; VIF type ovs, device_owner
// trunk:subport, the parent's status) as a new revision of the port, and lspRow turns the profile
// into the LSP's columns: the API path, the maintenance task and ovn-db-sync write the same row.
const subportOwner = "trunk:subport"

// trunkDriver is what the OVN driver accepts: ports bound as ovs or vhostuser, VLAN sub-ports,
// trunks on bound parents.
var trunkDriver = trunk.Driver{Name: "ovn", Interfaces: []string{"ovs", "vhostuser"},
	SegmentationTypes: []string{"vlan"}, CanTrunkBoundPort: true}

// subscribeTrunks registers the driver with the trunk plugin, when it is loaded, and follows its
// trunk and sub-port events.
func (d *Driver) subscribeTrunks() {
	tp, ok := d.env.Plugin("trunk").(*trunk.Plugin)
	if !ok {
		return
	}
	tp.RegisterDriver(trunkDriver)
	on := func(res string, ev events.Event, f func(ctx context.Context, p *events.Payload) error) {
		d.env.Bus.Subscribe(res, ev, "mechovn", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
			return f(admin(p.Ctx), p)
		})
	}
	on(trunk.Trunks, events.AfterCreate, func(ctx context.Context, p *events.Payload) error {
		return d.trunkChanged(ctx, tp, p.ID, str(p.New["port_id"]), objList(p.New["sub_ports"]), nil)
	})
	on(trunk.Trunks, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		return d.unsetSubports(ctx, objList(p.Old["sub_ports"]))
	})
	on(trunk.Subports, events.AfterCreate, func(ctx context.Context, p *events.Payload) error {
		return d.trunkChanged(ctx, tp, p.ID, tp.ParentOf(ctx, p.ID), subportList(p.Meta["subports"]), nil)
	})
	on(trunk.Subports, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		return d.trunkChanged(ctx, tp, p.ID, tp.ParentOf(ctx, p.ID), nil, subportList(p.Meta["subports"]))
	})
}

func subportList(v any) []map[string]any {
	l, _ := v.([]any)
	return objList(l)
}

// trunkChanged sets the sub-ports added, unsets those removed, and turns the trunk ACTIVE
// (trunk_created, subports_added, subports_deleted).
func (d *Driver) trunkChanged(ctx context.Context, tp *trunk.Plugin, id, parent string, add, remove []map[string]any) error {
	if parent == "" {
		return nil // the trunk is gone
	}
	if len(add) > 0 {
		var status string
		err := d.env.DB.QueryRow(ctx, "SELECT status FROM ports WHERE id = ?", parent).Scan(&status)
		if err != nil {
			return err
		}
		for _, s := range add {
			if err := d.setSubport(ctx, str(s["port_id"]), parent, intOf(s["segmentation_id"]), status); err != nil {
				return err
			}
		}
	}
	if err := d.unsetSubports(ctx, remove); err != nil {
		return err
	}
	return tp.SetStatus(ctx, id, "ACTIVE")
}

// setSubport is _set_binding_profile: the sub-port's profile gets parent_name and tag, its VIF type
// ovs, its owner trunk:subport and its status the parent's; then its LSP is rewritten.
func (d *Driver) setSubport(ctx context.Context, id, parent string, tag int64, status string) error {
	return d.rewriteSubport(ctx, id, func(prof map[string]any) (owner, vif, st string) {
		prof["parent_name"], prof["tag"] = parent, tag
		return subportOwner, "ovs", status
	})
}

// unsetSubports is _unset_binding_profile for each: parent_name and tag leave the profile, the port
// is unbound and owned by nobody, its binding levels go.
func (d *Driver) unsetSubports(ctx context.Context, subs []map[string]any) error {
	for _, s := range subs {
		err := d.rewriteSubport(ctx, str(s["port_id"]), func(prof map[string]any) (owner, vif, st string) {
			delete(prof, "parent_name")
			delete(prof, "tag")
			return "", "unbound", ""
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// rewriteSubport changes a sub-port's binding as edit says (an empty status keeps it) as one new
// revision of the port, then writes its LSP (left to the maintenance task while the NB is away).
// A port gone meanwhile is skipped.
func (d *Driver) rewriteSubport(ctx context.Context, id string, edit func(prof map[string]any) (owner, vif, status string)) error {
	var port api.Object
	err := d.env.DB.Write(ctx, func(tx *db.Tx) error {
		if ok, err := store.LockRow(ctx, tx, "ports", id, store.Exclusive); err != nil || !ok {
			return err
		}
		cur, err := d.tables.ports.GetTx(ctx, tx, id, false)
		if err != nil {
			return err
		}
		prof := map[string]any{}
		if m, ok := cur["binding:profile"].(map[string]any); ok {
			prof = maps.Clone(m)
		}
		owner, vif, status := edit(prof)
		if status == "" {
			status = str(cur["status"])
		}
		var enc any
		if len(prof) > 0 {
			b, err := json.Marshal(prof)
			if err != nil {
				return err
			}
			enc = string(b)
		}
		if _, err := tx.Exec(ctx, `UPDATE ports SET device_owner = ?, status = ?, binding_profile = ?, binding_vif_type = ?,
			revision_number = revision_number + 1, updated_at = ? WHERE id = ?`, owner, status, enc, vif, store.Now(), id); err != nil {
			return err
		}
		if vif == "unbound" {
			if _, err := tx.Exec(ctx, "DELETE FROM ml2_port_binding_levels WHERE port_id = ?", id); err != nil {
				return err
			}
		}
		port, err = d.tables.ports.GetTx(ctx, tx, id, false)
		return err
	})
	if gone(err) || err == nil && port == nil {
		return nil
	}
	if err != nil {
		return err
	}
	err = d.write(ctx, func(ctx context.Context) error { return d.syncPort(ctx, port) })
	if errors.Is(err, errNBDown) {
		return nil // the maintenance task writes the LSP from the port as stored
	}
	return err
}

// subportParent is the parent_name and tag of a port's LSP, from its binding:profile as ML2/OVN
// reads them (nil when it has none).
func subportParent(port api.Object) (*string, *int) {
	prof, _ := port["binding:profile"].(map[string]any)
	var parent *string
	if p := str(prof["parent_name"]); p != "" {
		parent = &p
	}
	var tag *int
	if _, ok := prof["tag"]; ok {
		if t := int(intOf(prof["tag"])); t >= 1 && t <= 4095 {
			tag = &t
		}
	}
	return parent, tag
}

// subportDrift says whether the LSP's parent_name and tag are not the port's (ovn-db-sync).
func subportDrift(port api.Object, lsp *nbdb.LogicalSwitchPort) string {
	parent, tag := subportParent(port)
	if !samePtr(parent, lsp.ParentName) || !samePtr(tag, lsp.Tag) {
		return "parent_name or tag differ from the port's binding:profile"
	}
	return ""
}

func samePtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}
