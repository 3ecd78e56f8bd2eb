package trunk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// validateSubports is neutron-lib's type:subports validator (the API's
// check of sub_ports; the actions run it as InvalidInput).
func validateSubports(v any) string {
	list, ok := v.([]any)
	if !ok {
		return fmt.Sprintf("Invalid data format for subports: '%s' is not a list", api.PyStr(v))
	}
	ids := map[string]bool{}
	segs := map[string]bool{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return fmt.Sprintf("Invalid data format for subport: '%s' is not a dict", api.PyStr(e))
		}
		pid, has := m["port_id"]
		switch {
		case !has:
			return "A valid port UUID must be specified"
		case api.UUID(pid) != "":
			return fmt.Sprintf("Invalid UUID for subport: '%s'", api.PyStr(pid))
		case ids[api.PyStr(pid)]:
			return fmt.Sprintf("Non unique UUID for subport: '%s'", api.PyStr(pid))
		}
		ids[api.PyStr(pid)] = true
		typ := m["segmentation_type"]
		if typ == "inherit" {
			return "" // Neutron stops validating at the first inherit
		}
		seg, hasSeg := m["segmentation_id"]
		if (isFalsy(typ) || !hasSeg || seg == nil) && len(m) > 1 {
			return fmt.Sprintf("Invalid subport details '%s': missing segmentation information. Must specify both segmentation_id and segmentation_type", api.PyStr(m))
		}
		key := api.PyRepr(typ) + "/" + segKey(seg)
		if segs[key] {
			return fmt.Sprintf("Segmentation ID '%s' for '%s' is not unique", api.PyStr(seg), api.PyStr(pid))
		}
		if !isFalsy(seg) {
			segs[key] = true
		}
	}
	return ""
}

// segKey makes equal Python values equal keys (1 and 1.0).
func segKey(v any) string {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		return fmt.Sprint(int64(f))
	}
	return api.PyRepr(v)
}

func isFalsy(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case int64:
		return x == 0
	case float64:
		return x == 0
	}
	return false
}

// portRow is what trunk validation reads of a port.
type portRow struct {
	id, network, deviceID, host, vifType string
}

// port reads a port as the caller may see it (PortNotFound otherwise),
// locked (shared) until the trunk's write commits: it cannot be deleted
// under the trunk (lock order: the parent port, the trunk, the sub-ports).
func (p *Plugin) port(ctx context.Context, tx *db.Tx, id string) (*portRow, error) {
	if _, err := store.LockRow(ctx, tx, "ports", id, store.Shared); err != nil {
		return nil, err
	}
	obj, err := p.ports.GetTx(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	return &portRow{id: id, network: str(obj["network_id"]), deviceID: str(obj["device_id"]), host: str(obj["binding:host_id"]),
		vifType: str(obj["binding:vif_type"])}, nil
}

// inUse is TrunkPortValidator's first checks: the port is already a
// sub-port, or a parent (of a trunk the caller can see: trunks are
// project-scoped objects, sub-ports are not).
func inUse(ctx context.Context, q db.Querier, port string) error {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM subports WHERE port_id = ?", port).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return trunkPortInUse(port)
	}
	query, args := "SELECT COUNT(*) FROM trunks WHERE port_id = ?", []any{port}
	if rc := reqctx.From(ctx); rc != nil && !rc.IsAdmin {
		query, args = query+" AND project_id = ?", append(args, rc.ProjectID)
	}
	if err := q.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return parentInUse(port)
	}
	return nil
}

// validateParent is TrunkPortValidator.validate for a parent: a bound
// port only when its trunk driver can trunk bound ports.
func (p *Plugin) validateParent(ctx context.Context, tx *db.Tx, id string) error {
	if err := inUse(ctx, tx, id); err != nil {
		return err
	}
	port, err := p.port(ctx, tx, id)
	if err != nil {
		return err
	}
	ok, err := p.canBeTrunked(ctx, tx, port)
	if err != nil {
		return err
	}
	if !ok {
		return parentInUse(id)
	}
	return nil
}

// parentTrunkable reports whether a trunk's parent port can be untrunked
// (a port gone can).
func (p *Plugin) parentTrunkable(ctx context.Context, q db.Querier, port string) (bool, error) {
	var host, vif string
	err := q.QueryRow(ctx, "SELECT binding_host_id, binding_vif_type FROM ports WHERE id = ?", port).Scan(&host, &vif)
	if errors.Is(err, sql.ErrNoRows) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return p.canBeTrunked(ctx, q, &portRow{id: port, host: host, vifType: vif})
}

// netInfo is a network's MTU and (single) segment as sub-ports inherit it.
type netInfo struct {
	mtu    int64
	typ    any
	segID  any
	exists bool
}

func network(ctx context.Context, q db.Querier, id string) (netInfo, error) {
	ni := netInfo{typ: nil, segID: nil}
	err := q.QueryRow(ctx, "SELECT mtu FROM networks WHERE id = ?", id).Scan(&ni.mtu)
	if errors.Is(err, sql.ErrNoRows) {
		return ni, nil
	}
	if err != nil {
		return ni, err
	}
	ni.exists = true
	var typ string
	var seg sql.NullInt64
	err = q.QueryRow(ctx, "SELECT network_type, segmentation_id FROM network_segments WHERE network_id = ? ORDER BY segment_index, id LIMIT 1", id).Scan(&typ, &seg)
	if errors.Is(err, sql.ErrNoRows) {
		return ni, nil
	}
	ni.typ = typ
	if seg.Valid {
		ni.segID = seg.Int64
	}
	return ni, err
}

// validateSubports is SubPortsValidator.validate with trunk validation:
// inherited segmentation, MTU against the parent's, segmentation details,
// and the ports' use. It returns the sub-ports as stored.
func (p *Plugin) validateSubports(ctx context.Context, tx *db.Tx, parent string, subs []any) ([]any, error) {
	var parentMTU int64
	if pp, err := p.port(ctx, tx, parent); err == nil {
		ni, err := network(ctx, tx, pp.network)
		if err != nil {
			return nil, err
		}
		parentMTU = ni.mtu
	} else if _, ok := nerr.As(err); !ok {
		return nil, err
	}
	mtus := map[string]int64{}
	out := make([]any, 0, len(subs))
	for _, s := range subs {
		m := s.(map[string]any)
		pid := str(m["port_id"])
		if sp, err := p.port(ctx, tx, pid); err == nil {
			ni, err := network(ctx, tx, sp.network)
			if err != nil {
				return nil, err
			}
			mtus[pid] = ni.mtu
			if m["segmentation_type"] == "inherit" {
				m = map[string]any{"port_id": pid, "segmentation_id": ni.segID, "segmentation_type": ni.typ}
			}
		} else if _, ok := nerr.As(err); !ok {
			return nil, err
		}
		sub, err := p.validateSubport(ctx, tx, parent, parentMTU, mtus[pid], m)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

func (p *Plugin) validateSubport(ctx context.Context, tx *db.Tx, parent string, parentMTU, mtu int64, m map[string]any) (any, error) {
	pid := str(m["port_id"])
	if pid == parent {
		return nil, parentInUse(pid)
	}
	if parentMTU > 0 && mtu > parentMTU {
		return nil, nerr.Conflict("SubPortMtuGreaterThanTrunkPortMtu",
			"MTU %d of subport %s cannot be greater than MTU %d of trunk %s.", mtu, pid, parentMTU, parent)
	}
	typ, hasType := m["segmentation_type"]
	segRaw, hasSeg := m["segmentation_id"]
	if !hasType || !hasSeg {
		return nil, nerr.InvalidInput(fmt.Sprintf("Invalid subport details '%s': missing segmentation information. Must specify both segmentation_id and segmentation_type", api.PyStr(m)))
	}
	seg, ok := api.PyInt(segRaw)
	if _, isBool := segRaw.(bool); !ok || isBool {
		return nil, nerr.InvalidInput(fmt.Sprintf("Invalid subport details: segmentation_id '%s' is not an integer", api.PyStr(segRaw)))
	}
	if t, _ := typ.(string); !slices.Contains(p.segmentationTypes(), t) || t != "vlan" { // vlan: the one validator
		return nil, nerr.InvalidInput(fmt.Sprintf("Unknown segmentation_type '%s'", api.PyStr(typ)))
	}
	if seg < 1 || seg > 4094 {
		return nil, nerr.InvalidInput(fmt.Sprintf("Segmentation ID '%d' is not in range", seg))
	}
	if err := inUse(ctx, tx, pid); err != nil {
		return nil, err
	}
	port, err := p.port(ctx, tx, pid)
	if err != nil {
		return nil, err
	}
	if port.deviceID != "" {
		return nil, nerr.Conflict("PortInUse", "Unable to complete operation on port %s for network %s. Port already has an attached device %s.",
			pid, port.network, port.deviceID)
	}
	return map[string]any{"port_id": pid, "segmentation_type": "vlan", "segmentation_id": seg}, nil
}

// ---- actions ----

// answer is a trunk as the actions return it (the bare dict).
func (p *Plugin) answer(ctx context.Context, tx *db.Tx, id string) (api.Object, error) {
	obj, err := p.trunks.GetTx(ctx, tx, id, false)
	if err != nil {
		return nil, err
	}
	v := p.trunks.Res.View(obj)
	v["tenant_id"] = obj["project_id"]
	return v, nil
}

// touch sets a trunk's status to DOWN as a new revision.
func (p *Plugin) touch(ctx context.Context, tx *db.Tx, id string) error {
	_, err := tx.Exec(ctx, "UPDATE trunks SET status = 'DOWN', revision_number = revision_number + 1, updated_at = ? WHERE id = ?", store.Now(), id)
	return err
}

func basic(body map[string]any) ([]any, error) {
	subs := body["sub_ports"]
	if msg := validateSubports(subs); msg != "" {
		return nil, nerr.InvalidInput(msg)
	}
	return subs.([]any), nil
}

func (p *Plugin) addSubports(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	var out api.Object
	err := p.env.DB.Write(ctx, func(tx *db.Tx) error {
		t, err := p.trunks.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		subs, err := basic(body)
		if err != nil {
			return err
		}
		if subs, err = p.validateSubports(ctx, tx, str(t["port_id"]), subs); err != nil {
			return err
		}
		if up, _ := t["admin_state_up"].(bool); !up {
			return trunkDisabled(id)
		}
		if t["status"] == "ERROR" {
			return nerr.Conflict("TrunkInErrorState", "Trunk %s is in error state.", id)
		}
		if err := p.touch(ctx, tx, id); err != nil {
			return err
		}
		if err := insertSubports(ctx, tx, id, subs); err != nil {
			return err
		}
		p.publishSubports(ctx, tx, id, subs, true)
		out, err = p.answer(ctx, tx, id)
		return err
	})
	if err == nil {
		p.driverUpdates(ctx, out)
	}
	return out, err
}

func (p *Plugin) removeSubports(ctx context.Context, _ *api.Resource, id string, body map[string]any) (any, error) {
	var out api.Object
	err := p.env.DB.Write(ctx, func(tx *db.Tx) error {
		t, err := p.trunks.GetTx(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if up, _ := t["admin_state_up"].(bool); !up {
			return trunkDisabled(id)
		}
		subs, err := basic(body)
		if err != nil {
			return err
		}
		current := map[string]any{}
		for _, s := range t["sub_ports"].([]any) {
			current[str(s.(map[string]any)["port_id"])] = s
		}
		var removed []any
		for _, s := range subs {
			pid := str(s.(map[string]any)["port_id"])
			cur, ok := current[pid]
			if !ok {
				return nerr.NotFound("SubPortNotFound", "SubPort %s on trunk %s could not be found.", pid, id)
			}
			delete(current, pid)
			if _, err := tx.Exec(ctx, "DELETE FROM subports WHERE port_id = ? AND trunk_id = ?", pid, id); err != nil {
				return err
			}
			removed = append(removed, cur)
		}
		if err := p.touch(ctx, tx, id); err != nil {
			return err
		}
		p.publishSubports(ctx, tx, id, removed, false)
		out, err = p.answer(ctx, tx, id)
		return err
	})
	if err == nil {
		p.driverUpdates(ctx, out)
	}
	return out, err
}

func (p *Plugin) getSubports(ctx context.Context, _ *api.Resource, id string, _ map[string]any) (any, error) {
	t, err := p.trunks.Get(ctx, id, nil)
	if err != nil {
		return nil, err
	}
	return map[string]any{"sub_ports": t["sub_ports"]}, nil
}
