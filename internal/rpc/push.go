package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupPush) }

// pushed maps event resources onto the object types pushed for them.
var pushed = map[string]string{
	events.Network: "Network", events.Subnet: "Subnet", events.Port: "Port",
	events.SecurityGroup: "SecurityGroup", events.SecurityGroupRule: "SecurityGroupRule", "address_group": "AddressGroup",
}

// setupPush: after every committed change of an object the agents cache,
// ResourcesPushRpcApi's push (1.1) of its primitive on
// neutron-vo-<Type>-<version>_fanout for each version an agent consumes,
// then the q-agent-notifier casts Neutron sends for it.
func setupPush(s *Service) error {
	for res, objType := range pushed {
		for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
			s.Env.Bus.Subscribe(res, ev, "rpc-push", events.PriorityNotifier, func(res string, ev events.Event, p *events.Payload) error {
				return s.onChange(objType, ev, p)
			})
		}
	}
	return nil
}

func (s *Service) onChange(objType string, ev events.Event, p *events.Payload) error {
	ctx := context.Background()
	if p.Ctx != nil {
		ctx = context.WithoutCancel(p.Ctx)
	}
	obj, eventType := p.New, "updated"
	if ev == events.AfterDelete {
		obj, eventType = p.Old, "deleted"
	}
	if obj == nil {
		return nil
	}
	prims, err := s.toOVO(ctx, objType, []api.Object{obj})
	if err != nil {
		return err
	}
	if objType == "SecurityGroup" && ev != events.AfterDelete {
		// the rules as stored now
		if prims, err = s.objects(ctx, objType, map[string][]any{"id": {obj["id"]}}); err != nil {
			return err
		}
	}
	if len(prims) > 0 {
		s.Push(objType, eventType, prims)
	}
	s.agentNotifierCasts(objType, ev, p)
	return nil
}

// Push casts primitives of objType to every version agents consume that
// the server builds.
func (s *Service) Push(objType, eventType string, prims []ovo) {
	ours := objectTypes[objType].version
	for _, v := range s.Versions.Of(objType) {
		if v != ours {
			s.Log.Debug("an agent consumes a version the server does not build; not pushed", "type", objType, "version", v)
			continue
		}
		s.Cast(oslo.Target{Topic: ResourceTopic(objType, v), Fanout: true, Version: "1.1"}, "push",
			map[string]any{"resource_list": prims, "event_type": eventType})
	}
}

// agentNotifierCasts are the q-agent-notifier-* fanouts of a change
// (AgentNotifierApi): network_update (the L3 agent consumes it) and, for
// fidelity, the casts Zed still sends that no Zed agent consumes.
func (s *Service) agentNotifierCasts(objType string, ev events.Event, p *events.Payload) {
	fan := func(topic, version, method string, args map[string]any) {
		s.Cast(oslo.Target{Topic: topic, Fanout: true, Version: version}, method, args)
	}
	switch {
	case objType == "Network" && ev == events.AfterUpdate:
		fan(TopicNetworkUpdate, "1.4", "network_update", map[string]any{"network": p.New})
	case objType == "Network" && ev == events.AfterDelete:
		fan(TopicNetworkDelete, "1.0", "network_delete", map[string]any{"network_id": p.ID})
	case objType == "Port" && ev == events.AfterDelete:
		fan(TopicPortDelete, "1.0", "port_delete", map[string]any{"port_id": p.ID})
	case objType == "SecurityGroupRule":
		obj := p.New
		if obj == nil {
			obj = p.Old
		}
		fan(TopicSecurityGroup, "1.1", "security_groups_rule_updated", map[string]any{"security_groups": []any{obj["security_group_id"]}})
	}
}
