package ml2

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/store"
)

// install adds the mechanism drivers' calls to the network, subnet and
// port tables, after every other hook (components included), so that
// Current is the resource as the request leaves it.
func (m *mechanismManager) install() error {
	p := m.p
	p.networks.AddHooks(store.Hooks{
		AfterCreate: func(op *store.Op) error { return m.network(op, "create_network") },
		AfterUpdate: func(op *store.Op) error { return m.network(op, "update_network") },
		// before the row and its segments go: drivers see them
		BeforeDelete: func(op *store.Op) error { return m.network(op, "delete_network") },
	})
	p.subnets.AddHooks(store.Hooks{
		AfterCreate:  func(op *store.Op) error { return m.subnet(op, "create_subnet") },
		AfterUpdate:  func(op *store.Op) error { return m.subnet(op, "update_subnet") },
		BeforeDelete: func(op *store.Op) error { return m.subnet(op, "delete_subnet") },
	})
	p.ports.AddHooks(store.Hooks{
		AfterCreate:  func(op *store.Op) error { return m.port(op, "create_port") },
		AfterUpdate:  func(op *store.Op) error { return m.port(op, "update_port") },
		BeforeDelete: func(op *store.Op) error { return m.port(op, "delete_port") },
	})
	return nil
}

// current is the resource as stored after a create or update, or as it
// was before a delete; original is the state before an update.
func current(op *store.Op) (cur, orig api.Object, err error) {
	if op.New == nil { // delete
		return op.Old, nil, nil
	}
	cur, err = op.Result()
	return cur, op.Old, err
}

func (m *mechanismManager) networkContext(op *store.Op, cur, orig api.Object) (*NetworkContext, error) {
	id := cur["id"].(string)
	segs, err := segmentsOf(op.Ctx, op.Tx, []string{id})
	if err != nil {
		return nil, err
	}
	return &NetworkContext{callContext: callContext{Ctx: op.Ctx, Tx: op.Tx, Current: cur, Original: orig}, Segments: segs[id]}, nil
}

func (m *mechanismManager) network(op *store.Op, call string) error {
	cur, orig, err := current(op)
	if err != nil {
		return err
	}
	nc, err := m.networkContext(op, cur, orig)
	if err != nil {
		return err
	}
	pre, post := networkCalls(call)
	if err := m.precommit(call+"_precommit", func(d MechanismDriver) error { return pre(d, nc) }); err != nil {
		return err
	}
	after := *nc
	after.Tx = nil
	m.postcommit(op.Ctx, op.Tx, call+"_postcommit", func(d MechanismDriver) error { return post(d, &after) })
	return nil
}

func networkCalls(call string) (pre, post func(MechanismDriver, *NetworkContext) error) {
	switch call {
	case "create_network":
		return MechanismDriver.CreateNetworkPrecommit, MechanismDriver.CreateNetworkPostcommit
	case "update_network":
		return MechanismDriver.UpdateNetworkPrecommit, MechanismDriver.UpdateNetworkPostcommit
	}
	return MechanismDriver.DeleteNetworkPrecommit, MechanismDriver.DeleteNetworkPostcommit
}

func (m *mechanismManager) subnet(op *store.Op, call string) error {
	cur, orig, err := current(op)
	if err != nil {
		return err
	}
	net, err := m.p.networks.GetTx(elevated(op.Ctx), op.Tx, cur["network_id"].(string), false)
	if err != nil {
		return err
	}
	nc, err := m.networkContext(op, net, nil)
	if err != nil {
		return err
	}
	sc := &SubnetContext{callContext: callContext{Ctx: op.Ctx, Tx: op.Tx, Current: cur, Original: orig}, Network: nc}
	pre, post := MechanismDriver.DeleteSubnetPrecommit, MechanismDriver.DeleteSubnetPostcommit
	switch call {
	case "create_subnet":
		pre, post = MechanismDriver.CreateSubnetPrecommit, MechanismDriver.CreateSubnetPostcommit
	case "update_subnet":
		pre, post = MechanismDriver.UpdateSubnetPrecommit, MechanismDriver.UpdateSubnetPostcommit
	}
	if err := m.precommit(call+"_precommit", func(d MechanismDriver) error { return pre(d, sc) }); err != nil {
		return err
	}
	after := *sc
	after.Tx = nil
	m.postcommit(op.Ctx, op.Tx, call+"_postcommit", func(d MechanismDriver) error { return post(d, &after) })
	return nil
}

func (m *mechanismManager) port(op *store.Op, call string) error {
	cur, orig, err := current(op)
	if err != nil {
		return err
	}
	pc, err := m.portContext(op, cur, orig)
	if err != nil {
		return err
	}
	pre, post := MechanismDriver.DeletePortPrecommit, MechanismDriver.DeletePortPostcommit
	switch call {
	case "create_port":
		pre, post = MechanismDriver.CreatePortPrecommit, MechanismDriver.CreatePortPostcommit
	case "update_port":
		pre, post = MechanismDriver.UpdatePortPrecommit, MechanismDriver.UpdatePortPostcommit
	}
	if err := m.precommit(call+"_precommit", func(d MechanismDriver) error { return pre(d, pc) }); err != nil {
		return err
	}
	after := *pc
	after.Tx = nil
	m.postcommit(op.Ctx, op.Tx, call+"_postcommit", func(d MechanismDriver) error { return post(d, &after) })
	return nil
}

func (m *mechanismManager) portContext(op *store.Op, cur, orig api.Object) (*PortContext, error) {
	netID, _ := cur["network_id"].(string)
	net, err := m.p.networks.GetTx(elevated(op.Ctx), op.Tx, netID, false)
	if err != nil {
		return nil, err
	}
	nc, err := m.networkContext(op, net, nil)
	if err != nil {
		return nil, err
	}
	levels, err := BindingLevels(op.Ctx, op.Tx, []string{op.ID})
	if err != nil {
		return nil, err
	}
	pc := &PortContext{callContext: callContext{Ctx: op.Ctx, Tx: op.Tx, Current: cur, Original: orig},
		Network: nc, SegmentsToBind: nc.Segments, BindingLevels: levels[op.ID]}
	pc.Host, _ = cur["binding:host_id"].(string)
	pc.VNICType, _ = cur["binding:vnic_type"].(string)
	pc.Profile, _ = cur["binding:profile"].(map[string]any)
	return pc, nil
}

// elevated is ctx with an admin caller, for the plugin's own reads.
func elevated(ctx context.Context) context.Context {
	if rc := reqctx.From(ctx); rc != nil {
		return reqctx.With(ctx, rc.Elevated())
	}
	return reqctx.With(ctx, &reqctx.Context{IsAdmin: true})
}
