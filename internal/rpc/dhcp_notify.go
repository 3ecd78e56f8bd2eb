package rpc

import (
	"context"
	"reflect"
	"strings"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

// DHCP notification priorities (DhcpAgentNotifyAPI's).
var dhcpPriority = map[string]int{"network_create_end": 0, "network_update_end": 1, "network_delete_end": 2,
	"subnet_create_end": 3, "subnet_update_end": 3, "subnet_delete_end": 4,
	"port_create_end": 5, "port_update_end": 6, "port_delete_end": 6}

// setupDHCPNotify subscribes DhcpAgentNotifyAPI to the changes: the DHCP
// agents hosting a network hear of it (scheduling it first when a DHCP
// subnet or port appears), a deleted network goes to every DHCP agent.
func setupDHCPNotify(s *Service) {
	sub := func(res string, ev events.Event, fn func(ctx context.Context, p *events.Payload) error) {
		s.Env.Bus.Subscribe(res, ev, "rpc-dhcp", events.PriorityNotifier, func(_ string, _ events.Event, p *events.Payload) error {
			ctx := context.Background()
			if p.Ctx != nil {
				ctx = context.WithoutCancel(p.Ctx)
			}
			return fn(ctx, p)
		})
	}
	sub(events.Subnet, events.AfterCreate, func(ctx context.Context, p *events.Payload) error {
		return s.dhcpNotify(ctx, "subnet_create_end", str(p.New["network_id"]), "subnet", p.New, true)
	})
	sub(events.Subnet, events.AfterUpdate, func(ctx context.Context, p *events.Payload) error {
		return s.dhcpNotify(ctx, "subnet_update_end", str(p.New["network_id"]), "subnet", p.New, true)
	})
	sub(events.Subnet, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		return s.dhcpCast(ctx, "subnet_delete_end", str(p.Old["network_id"]), map[string]any{"subnet_id": p.ID, "network_id": p.Old["network_id"]})
	})
	sub(events.Network, events.AfterUpdate, func(ctx context.Context, p *events.Payload) error {
		return s.dhcpCast(ctx, "network_update_end", p.ID, map[string]any{"network": p.New})
	})
	sub(events.Network, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		s.Cast(oslo.Target{Topic: TopicDHCPAgent, Fanout: true, Version: "1.0"}, "network_delete_end",
			map[string]any{"payload": map[string]any{"network_id": p.ID, "priority": dhcpPriority["network_delete_end"]}})
		return nil
	})
	sub(events.Port, events.AfterCreate, func(ctx context.Context, p *events.Payload) error {
		schedule := str(p.New["device_owner"]) != "network:dhcp"
		return s.dhcpNotify(ctx, "port_create_end", str(p.New["network_id"]), "port", p.New, schedule)
	})
	sub(events.Port, events.AfterUpdate, func(ctx context.Context, p *events.Payload) error {
		if !dhcpRelevant(p.Old, p.New) {
			return nil
		}
		return s.dhcpNotify(ctx, "port_update_end", str(p.New["network_id"]), "port", p.New, false)
	})
	sub(events.Port, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		return s.dhcpCast(ctx, "port_delete_end", str(p.Old["network_id"]),
			map[string]any{"port_id": p.ID, "network_id": p.Old["network_id"], "fixed_ips": p.Old["fixed_ips"]})
	})
	// the agent scheduler API's bindings: network_added_to_agent and
	// network_removed_from_agent
	sub(events.DHCPAgentNetwork, events.AfterCreate, func(ctx context.Context, p *events.Payload) error {
		s.castTo([]*agents.Agent{p.Meta["agent"].(*agents.Agent)}, "network_create_end", map[string]any{"network": map[string]any{"id": p.ID}})
		return nil
	})
	sub(events.DHCPAgentNetwork, events.AfterDelete, func(ctx context.Context, p *events.Payload) error {
		// the agent's DHCP port is reserved, its address kept for a later add
		if err := s.reserveDHCPPort(ctx, p.ID, p.Meta["agent"].(*agents.Agent).Host); err != nil {
			return err
		}
		s.castTo([]*agents.Agent{p.Meta["agent"].(*agents.Agent)}, "network_delete_end", map[string]any{"network_id": p.ID})
		return nil
	})
	sub(events.Agent, events.AfterUpdate, func(ctx context.Context, p *events.Payload) error {
		if p.Old == nil || p.New == nil || p.Old["admin_state_up"] == p.New["admin_state_up"] {
			return nil // a state report, or no admin state change
		}
		topic := map[string]string{agents.TypeDHCP: TopicDHCPAgent, agents.TypeL3: TopicL3Agent}[str(p.New["agent_type"])]
		if topic != "" {
			s.Cast(oslo.Target{Topic: topic, Server: str(p.New["host"]), Version: "1.0"}, "agent_updated",
				map[string]any{"payload": map[string]any{"admin_state_up": p.New["admin_state_up"]}})
		}
		return nil
	})
}

// dhcpRelevant: a port change the DHCP agents care about (not only its
// status, binding or revision).
func dhcpRelevant(old, cur api.Object) bool {
	for _, k := range []string{"fixed_ips", "mac_address", "admin_state_up", "extra_dhcp_opts", "device_owner", "device_id", "dns_name", "name"} {
		if !reflect.DeepEqual(old[k], cur[k]) {
			return true
		}
	}
	return false
}

// dhcpNotify casts method with the object (and, on creates, its network,
// as Neutron's payloads have it) to the DHCP
// agents hosting netID, scheduling the network first when schedule is set
// (the agents newly given it get network_create_end before).
func (s *Service) dhcpNotify(ctx context.Context, method, netID, key string, obj api.Object, schedule bool) error {
	if schedule {
		if err := s.scheduleAndTell(ctx, netID); err != nil {
			return err
		}
	}
	hosting, err := s.dhcpAgentsOf(ctx, nil, netID, true)
	if err != nil || len(hosting) == 0 {
		return err
	}
	body := api.Object{}
	for k, v := range obj {
		body[k] = v
	}
	if t, err := s.table("networks"); err == nil && strings.HasSuffix(method, "_create_end") {
		if n, err := t.Get(admin(ctx), netID, nil); err == nil {
			body["network"] = n
		}
	}
	s.castTo(hosting, method, map[string]any{key: body})
	return nil
}

// scheduleAndTell schedules a network to DHCP agents and casts
// network_create_end to those newly given it (network_added_to_agent).
func (s *Service) scheduleAndTell(ctx context.Context, netID string) error {
	added, err := s.scheduleNetwork(ctx, netID, nil)
	if err != nil {
		return err
	}
	s.castTo(added, "network_create_end", map[string]any{"network": map[string]any{"id": netID}})
	return nil
}

// dhcpCast casts method with payload to the DHCP agents hosting netID.
func (s *Service) dhcpCast(ctx context.Context, method, netID string, payload map[string]any) error {
	hosting, err := s.dhcpAgentsOf(ctx, nil, netID, true)
	if err != nil {
		return err
	}
	s.castTo(hosting, method, payload)
	return nil
}

func (s *Service) castTo(hosting []*agents.Agent, method string, payload map[string]any) {
	payload["priority"] = dhcpPriority[method]
	for _, a := range hosting {
		s.Cast(oslo.Target{Topic: TopicDHCPAgent, Server: a.Host, Version: "1.0"}, method, map[string]any{"payload": payload})
	}
}
