package rpc

import (
	"context"
	"reflect"
	"slices"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupPortNotify) }

// portUpdateKeys are the port changes for which ML2's update_port casts
// port_update (a status written alone, by the agents' device reports, is
// not one).
var portUpdateKeys = []string{"mac_address", "port_security_enabled", "qos_policy_id", "allowed_address_pairs", "security_groups",
	"extra_dhcp_opts", "fixed_ips", "admin_state_up", "binding:host_id", "binding:vnic_type", "binding:profile", "binding:vif_type"}

// setupPortNotify: the q-agent-notifier casts of port changes that Zed's
// server sends though no Zed agent consumes them (the Open vSwitch agent
// follows the Port pushes): port_update with the port's bound segment, and
// security_groups_member_updated (SecurityGroupServerNotifierRpcMixin).
func setupPortNotify(s *Service) error {
	for _, ev := range []events.Event{events.AfterCreate, events.AfterUpdate, events.AfterDelete} {
		s.Env.Bus.Subscribe(events.Port, ev, "rpc-port", events.PriorityNotifier, func(_ string, ev events.Event, p *events.Payload) error {
			ctx := context.Background()
			if p.Ctx != nil {
				ctx = context.WithoutCancel(p.Ctx)
			}
			switch {
			case ev == events.AfterCreate:
				s.sgMembersUpdated(p.New)
			case ev == events.AfterDelete:
				s.sgMembersUpdated(p.Old)
			case p.Old != nil && p.New != nil:
				if !sameSet(p.Old["security_groups"], p.New["security_groups"]) {
					s.sgMembersUpdated(p.Old, p.New)
				} else if !reflect.DeepEqual(p.Old["fixed_ips"], p.New["fixed_ips"]) {
					s.sgMembersUpdated(p.New)
				}
				return s.portUpdate(ctx, p.Old, p.New)
			}
			return nil
		})
	}
	return nil
}

// portUpdate casts port_update on the port-update fanout for a relevant
// change of a bound port.
func (s *Service) portUpdate(ctx context.Context, old, cur api.Object) error {
	if !slices.ContainsFunc(portUpdateKeys, func(k string) bool { return !reflect.DeepEqual(old[k], cur[k]) }) {
		return nil
	}
	seg, err := s.boundSegment(ctx, cur)
	if err != nil || seg == nil {
		return err
	}
	s.Cast(oslo.Target{Topic: TopicPortUpdate, Fanout: true, Version: "1.0"}, "port_update", map[string]any{"port": cur,
		"network_type": seg["network_type"], "segmentation_id": seg["segmentation_id"], "physical_network": seg["physical_network"]})
	return nil
}

// sgMembersUpdated casts security_groups_member_updated with the groups of
// the ports (but DHCP ports'), when there are any.
func (s *Service) sgMembersUpdated(ports ...api.Object) {
	sgs := []any{}
	for _, p := range ports {
		if p == nil || p["device_owner"] == "network:dhcp" {
			continue
		}
		for _, g := range list(p["security_groups"]) {
			if !slices.Contains(sgs, g) {
				sgs = append(sgs, g)
			}
		}
	}
	if len(sgs) > 0 {
		s.Cast(oslo.Target{Topic: TopicSecurityGroup, Fanout: true, Version: "1.1"}, "security_groups_member_updated", map[string]any{"security_groups": sgs})
	}
}

// sameSet: two lists hold the same elements (helpers.compare_elements).
func sameSet(a, b any) bool {
	x, y := list(a), list(b)
	return len(x) == len(y) && !slices.ContainsFunc(x, func(v any) bool { return !slices.Contains(y, v) })
}
