package trunk

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Event resources of sub-port changes (neutron_lib's SUBPORTS); the
// payload's Meta["subports"] lists the sub-ports added or removed.
const (
	Trunks   = "trunk"
	Subports = "subports"
)

// setupPorts adds trunk_details to ports and the ports' trunk rules.
func (p *Plugin) setupPorts(env *plugin.Env) {
	p.ports.Res.AddAttrs(&api.Attribute{Name: "trunk_details", Default: api.NotSpecified, Visible: true,
		EnforcePolicy: true, RequiredByPolicy: true})
	p.ports.AddHooks(store.Hooks{Load: loadTrunkDetails})
	env.Bus.Subscribe(events.Port, events.BeforeDelete, "trunk.port_in_use", events.PriorityDefault,
		func(_ string, _ events.Event, pl *events.Payload) error { return portInUse(pl.Ctx, pl.Tx, pl.ID) })
	env.Bus.Subscribe(events.Port, events.AfterUpdate, "trunk.status", events.PriorityDefault, p.parentUnbound)
}

// portInUse is enforce_port_deletion_rules: a sub-port or a parent port
// cannot be deleted.
func portInUse(ctx context.Context, tx *db.Tx, port string) error {
	trunk, err := first(ctx, tx, "SELECT trunk_id FROM subports WHERE port_id = ?", port)
	if err != nil {
		return err
	}
	if trunk != "" {
		return nerr.Conflict("PortInUseAsSubPort", "Port %s is currently a subport for trunk %s.", port, trunk)
	}
	if trunk, err = first(ctx, tx, "SELECT id FROM trunks WHERE port_id = ?", port); err != nil {
		return err
	}
	if trunk != "" {
		return nerr.Conflict("PortInUseAsTrunkParent", "Port %s is currently a parent port for trunk %s.", port, trunk)
	}
	return nil
}

// parentUnbound is _trigger_trunk_status_change: a parent port whose
// binding goes to unbound sets its trunk DOWN (a new revision).
func (p *Plugin) parentUnbound(_ string, _ events.Event, pl *events.Payload) error {
	if pl.Old == nil || pl.New == nil {
		return nil
	}
	if pl.Old["binding:vif_type"] == pl.New["binding:vif_type"] || pl.New["binding:vif_type"] != "unbound" {
		return nil
	}
	return p.env.DB.Write(pl.Ctx, func(tx *db.Tx) error {
		_, err := tx.Exec(pl.Ctx, "UPDATE trunks SET status = 'DOWN', revision_number = revision_number + 1, updated_at = ? WHERE port_id = ?",
			store.Now(), pl.ID)
		return err
	})
}

// publishSubports publishes SUBPORTS PRECOMMIT and AFTER events of an
// add (create) or remove (delete) of sub-ports.
func (p *Plugin) publishSubports(ctx context.Context, tx *db.Tx, trunk string, subs []any, add bool) {
	if len(subs) == 0 {
		return
	}
	pre, after := events.PrecommitCreate, events.AfterCreate
	if !add {
		pre, after = events.PrecommitDelete, events.AfterDelete
	}
	pl := func() *events.Payload {
		return &events.Payload{Ctx: ctx, Tx: tx, ID: trunk, Meta: map[string]any{"subports": subs}}
	}
	p.env.Bus.Publish(Subports, pre, pl())
	p.env.Bus.PublishAfterCommit(tx, Subports, after, pl())
}

// loadTrunkDetails fills trunk_details of parent ports: the trunk and its
// sub-ports, with their MAC addresses in a show (Neutron's list extender
// leaves them out).
func loadTrunkDetails(ctx context.Context, q db.Querier, objs []api.Object) error {
	byPort := store.IndexByID(objs)
	list := store.IsList(ctx)
	details := map[string]map[string]any{}
	err := store.ForChunks(store.IDs(objs), func(ph string, args []any) error {
		rows, err := q.Query(ctx, `SELECT t.port_id, t.id, s.port_id, s.segmentation_type, s.segmentation_id, p.mac_address
			FROM trunks t LEFT JOIN subports s ON s.trunk_id = t.id LEFT JOIN ports p ON p.id = s.port_id
			WHERE t.port_id IN (`+ph+`) ORDER BY t.port_id, s.port_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var parent, trunk string
			var sub, typ, mac *string
			var seg *int64
			if err := rows.Scan(&parent, &trunk, &sub, &typ, &seg, &mac); err != nil {
				return err
			}
			d := details[parent]
			if d == nil {
				d = map[string]any{"trunk_id": trunk, "sub_ports": []any{}}
				details[parent] = d
			}
			if sub == nil {
				continue
			}
			sp := map[string]any{"port_id": *sub, "segmentation_type": *typ, "segmentation_id": *seg}
			if !list && mac != nil {
				sp["mac_address"] = *mac
			}
			d["sub_ports"] = append(d["sub_ports"].([]any), sp)
		}
		return rows.Err()
	})
	for port, d := range details {
		if o := byPort[port]; o != nil {
			o["trunk_details"] = d
		}
	}
	return err
}

// first returns the first column of the first row ("" without rows).
func first(ctx context.Context, q db.Querier, query string, args ...any) (string, error) {
	ss, err := db.Strings(ctx, q, query, args...)
	if err != nil || len(ss) == 0 {
		return "", err
	}
	return ss[0], nil
}
