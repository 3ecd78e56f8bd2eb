package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
	"github.com/neutrino-os/neutrino/internal/trunk"
)

func init() { parts = append(parts, setupTrunk) }

// Trunk statuses the server sets while binding sub-ports (neutron_lib's trunk constants).
const (
	trunkBuild    = "BUILD"
	trunkDegraded = "DEGRADED"
	trunkError    = "ERROR"
)

// setupTrunk is the trunk plugin's ServerSideRpcBackend, set up when an agent-based trunk driver
// (the Open vSwitch one) is registered: TrunkSkeleton 1.0 on topic trunk, namespace trunk
// (update_trunk_status, update_subport_bindings; get_trunk_details is a pull of Trunk by parent
// port, pull.go), and TrunkStub's pushes of Trunk and SubPort objects on trunk and sub-port
// create and delete ("created", "deleted").
func setupTrunk(s *Service) error {
	tp, ok := s.Env.Plugin("trunk").(*trunk.Plugin)
	if !ok || !tp.RPCEnabled() {
		return nil
	}
	s.Add(TopicTrunk, oslo.Endpoint{Namespace: "trunk", Version: "1.0", Methods: map[string]oslo.Handler{
		"update_trunk_status": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				TrunkID string `json:"trunk_id"`
				Status  string `json:"status"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return nil, tp.SetStatus(ctx, a.TrunkID, a.Status)
		},
		"update_subport_bindings": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				Subports []any `json:"subports"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.updateSubportBindings(ctx, tp, a.Subports)
		},
	}})
	push := func(res string, ev events.Event, f func(p *events.Payload) (string, []ovo)) {
		s.Env.Bus.Subscribe(res, ev, "rpc-trunk", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
			eventType := "created"
			if ev == events.AfterDelete {
				eventType = "deleted"
			}
			if objType, prims := f(p); len(prims) > 0 {
				s.Push(objType, eventType, prims)
			}
			return nil
		})
	}
	trunkOf := func(t api.Object) (string, []ovo) {
		if t == nil {
			return "", nil
		}
		return "Trunk", []ovo{trunkOVO(t)}
	}
	subports := func(p *events.Payload) (string, []ovo) {
		var out []ovo
		for _, sp := range list(p.Meta["subports"]) {
			m, _ := sp.(map[string]any)
			out = append(out, subportOVO(p.ID, m))
		}
		return "SubPort", out
	}
	push(trunk.Trunks, events.AfterCreate, func(p *events.Payload) (string, []ovo) { return trunkOf(p.New) })
	push(trunk.Trunks, events.AfterDelete, func(p *events.Payload) (string, []ovo) { return trunkOf(p.Old) })
	push(trunk.Subports, events.AfterCreate, subports)
	push(trunk.Subports, events.AfterDelete, subports)
	return nil
}

// updateSubportBindings is TrunkSkeleton.update_subport_bindings: the sub-ports of each trunk
// named are bound to its parent's host; the answer maps each trunk found onto the ports updated.
func (s *Service) updateSubportBindings(ctx context.Context, tp *trunk.Plugin, subports []any) (map[string][]api.Object, error) {
	ctx = admin(ctx)
	var order []string
	byTrunk := map[string][]string{}
	for _, sp := range subports {
		d := ovoData(sp)
		t := str(d["trunk_id"])
		if _, ok := byTrunk[t]; !ok {
			order = append(order, t)
		}
		byTrunk[t] = append(byTrunk[t], str(d["port_id"]))
	}
	trunks, err := s.table("trunks")
	if err != nil {
		return nil, err
	}
	out := map[string][]api.Object{}
	for _, id := range order {
		t, err := trunks.Get(ctx, id, nil)
		if gone(err) {
			s.Log.Debug("Trunk not found", "id", id)
			continue
		}
		if err != nil {
			return nil, err
		}
		ports, err := s.bindSubports(ctx, tp, t, byTrunk[id])
		if err != nil {
			return nil, err
		}
		out[id] = append(out[id], ports...)
	}
	return out, nil
}

// bindSubports is _process_trunk_subport_bindings: the trunk goes BUILD, each sub-port is bound
// to the parent's host (or the host it migrates to) as a trunk:subport; a binding that fails
// sets the trunk ERROR (and nothing is answered), a port not updated sets it DEGRADED.
func (s *Service) bindSubports(ctx context.Context, tp *trunk.Plugin, t api.Object, ids []string) ([]api.Object, error) {
	ports, err := s.table("ports")
	if err != nil {
		return nil, err
	}
	parent, err := ports.Get(ctx, str(t["port_id"]), nil)
	if err != nil {
		return nil, err
	}
	host := str(parent["binding:host_id"])
	if prof, ok := parent["binding:profile"].(map[string]any); ok {
		if to := str(prof["migrating_to"]); to != "" {
			host = to
		}
	}
	id := str(t["id"])
	if err := tp.SetStatus(ctx, id, trunkBuild); err != nil {
		return nil, err
	}
	out := []api.Object{}
	for _, pid := range ids {
		p, err := ports.Update(ctx, pid, api.Object{"binding:host_id": host, "device_owner": "trunk:subport"}, nil)
		if err != nil {
			s.Log.Error("Failed to bind subport port on trunk", "port", pid, "trunk", id, "error", err)
			continue
		}
		if p["binding:vif_type"] == ml2.VIFBindingFailed {
			s.Log.Error("Failed to bind subport", "port", pid, "trunk", id)
			return []api.Object{}, tp.SetStatus(ctx, id, trunkError)
		}
		out = append(out, p)
	}
	if len(out) != len(ids) {
		return out, tp.SetStatus(ctx, id, trunkDegraded)
	}
	return out, nil
}
