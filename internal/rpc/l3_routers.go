package rpc

import (
	"context"
	"slices"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/l3"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

// routerPlugin is the router service plugin, or nil.
func (s *Service) routerPlugin() *l3.Plugin {
	p, _ := s.Env.Plugin("router").(*l3.Plugin)
	return p
}

func (s *Service) getRouterIDs(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		Host string `json:"host"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	if s.routerPlugin() == nil {
		return []any{}, nil
	}
	return s.hostRouters(ctx, a.Host)
}

// syncRouters is sync_routers: the asked routers of the agent on host
// (all of them when none is asked) as the L3 agent applies them; their
// gateway and interface ports are bound to the host (the Open vSwitch
// agent there wires them).
func (s *Service) syncRouters(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		Host      string   `json:"host"`
		RouterIDs []string `json:"router_ids"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	p := s.routerPlugin()
	if p == nil {
		return []any{}, nil
	}
	mine, err := s.hostRouters(ctx, a.Host)
	if err != nil {
		return nil, err
	}
	ids := mine
	if len(a.RouterIDs) > 0 {
		ids = slices.DeleteFunc(slices.Clone(a.RouterIDs), func(id string) bool { return !slices.Contains(mine, id) })
	}
	if len(ids) == 0 {
		return []any{}, nil
	}
	routers, err := p.SyncRouters(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, r := range routers {
		if _, ok := r["enable_snat"]; !ok {
			gw, _ := r["external_gateway_info"].(map[string]any)
			r["enable_snat"] = gw != nil && gw["enable_snat"] != false
		}
		if _, ok := r["gw_port_host"]; !ok {
			r["gw_port_host"] = nil // DVR only
		}
		ports := []any{r["gw_port"]}
		for _, i := range list(r["_interfaces"]) {
			ports = append(ports, i)
		}
		for _, x := range ports {
			port, _ := x.(map[string]any)
			if port == nil || str(port["binding:host_id"]) == a.Host {
				continue
			}
			if err := s.bindToHost(ctx, str(port["id"]), a.Host); err != nil {
				return nil, err
			}
			port["binding:host_id"] = a.Host
		}
	}
	return routers, nil
}

// bindToHost sets a router port's binding:host_id (_ensure_host_set_on_ports).
func (s *Service) bindToHost(ctx context.Context, portID, host string) error {
	t, err := s.table("ports")
	if err != nil {
		return err
	}
	_, err = t.Update(admin(ctx), portID, api.Object{"binding:host_id": host}, nil)
	if gone(err) {
		return nil
	}
	return err
}

// updateFIPStatuses is update_floatingip_statuses: the statuses the agent
// applied (ACTIVE, DOWN, ERROR) written to the floating IPs.
func (s *Service) updateFIPStatuses(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		RouterID    string            `json:"router_id"`
		FIPStatuses map[string]string `json:"fip_statuses"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	p := s.routerPlugin()
	if p == nil {
		return nil, nil
	}
	for id, st := range a.FIPStatuses {
		fip, err := p.FloatingIPs().Get(admin(ctx), id, nil)
		if gone(err) || (err == nil && fip["status"] == st) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// the association as it is (an update without one disassociates)
		ch := api.Object{"status": st, "port_id": fip["port_id"], "fixed_ip_address": fip["fixed_ip_address"]}
		_, err = p.FloatingIPs().Update(admin(ctx), id, ch, nil)
		if err != nil && !gone(err) {
			return nil, err
		}
	}
	return nil, nil
}

// setupL3Notify: L3AgentNotifyAPI after every router, interface, gateway
// and floating IP change: routers_updated to the L3 agents hosting the
// router (scheduling it first), router_deleted on the fanout.
func setupL3Notify(s *Service) {
	for _, res := range []string{events.Router, events.RouterInterface, events.RouterGateway, events.FloatingIP} {
		for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
			if res == events.Router && ev == events.AfterDelete {
				continue
			}
			s.Env.Bus.Subscribe(res, ev, "rpc-l3", events.PriorityNotifier, func(res string, _ events.Event, p *events.Payload) error {
				ctx := context.Background()
				if p.Ctx != nil {
					ctx = context.WithoutCancel(p.Ctx)
				}
				for _, id := range changedRouters(res, p) {
					if err := s.routersUpdated(ctx, id); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}
	// the agent scheduler API's bindings: router_added_to_agent (a call,
	// as Neutron makes sure the agent has it) and router_removed_from_agent
	s.Env.Bus.Subscribe(events.L3AgentRouter, events.AfterCreate, "rpc-l3", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
		s.routerAdded(p.Meta["agent"].(*agents.Agent).Host, p.ID)
		return nil
	})
	s.Env.Bus.Subscribe(events.L3AgentRouter, events.AfterDelete, "rpc-l3", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
		s.routerRemoved(p.Meta["agent"].(*agents.Agent).Host, p.ID)
		return nil
	})
	// an external network gone: the L3 agents drop its floating IP
	// namespaces (delete_fip_namespaces_for_ext_net; legacy agents have none)
	s.Env.Bus.Subscribe(events.Network, events.AfterDelete, "rpc-l3", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
		if p.Old["router:external"] == true && s.routerPlugin() != nil {
			s.Cast(oslo.Target{Topic: TopicL3Agent, Fanout: true, Version: "1.0"}, "fipnamespace_delete_on_ext_net", map[string]any{"ext_net_id": p.ID})
		}
		return nil
	})
	s.Env.Bus.Subscribe(events.Router, events.AfterDelete, "rpc-l3", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
		s.Cast(oslo.Target{Topic: TopicL3Agent, Fanout: true, Version: "1.0"}, "router_deleted", map[string]any{"router_id": p.ID})
		return nil
	})
}

// routerAdded tells the L3 agent on host it hosts a router: the call
// router_added_to_agent, as Neutron makes sure the agent has it.
func (s *Service) routerAdded(host, routerID string) {
	s.CallAsync(oslo.Target{Topic: TopicL3Agent, Server: host, Version: "1.0"}, "router_added_to_agent", map[string]any{"payload": []any{routerID}})
}

// routerRemoved tells the L3 agent on host it no longer hosts a router.
func (s *Service) routerRemoved(host, routerID string) {
	s.Cast(oslo.Target{Topic: TopicL3Agent, Server: host, Version: "1.0"}, "router_removed_from_agent", map[string]any{"payload": map[string]any{"router_id": routerID}})
}

// changedRouters are the routers an event changes: the router itself, or
// a floating IP's routers before and after.
func changedRouters(res string, p *events.Payload) []string {
	if res != events.FloatingIP {
		return []string{p.ID}
	}
	var ids []string
	for _, o := range []api.Object{p.Old, p.New} {
		if r := str(o["router_id"]); r != "" && !slices.Contains(ids, r) {
			ids = append(ids, r)
		}
	}
	return ids
}

// routersUpdated schedules a router when it has no agent and casts
// routers_updated to the agents hosting it.
func (s *Service) routersUpdated(ctx context.Context, routerID string) error {
	if _, err := s.scheduleRouter(ctx, routerID, nil); err != nil {
		return err
	}
	hosting, err := s.l3AgentsOf(ctx, nil, routerID)
	if err != nil {
		return err
	}
	for _, a := range hosting {
		s.Cast(oslo.Target{Topic: TopicL3Agent, Server: a.Host, Version: "1.1"}, "routers_updated", map[string]any{"routers": []any{routerID}})
	}
	return nil
}
