package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/db"

	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupL3) }

// setupL3: L3RpcCallback 1.12 on q-l3-plugin (the routers of the router
// service plugin, internal/l3; without it an L3 agent has none) and the L3
// agents' notifications. Routers are legacy (no HA, no DVR): no HA router
// count, no agent gateway ports.
func setupL3(s *Service) error {
	null := func(context.Context, *oslo.Request) (any, error) { return nil, nil }
	s.Add(TopicL3Plugin, oslo.Endpoint{Version: "1.12", Methods: map[string]oslo.Handler{
		"get_host_ha_router_count": s.hostHARouterCount,
		"get_router_ids":           s.getRouterIDs,
		"sync_routers":             s.syncRouters,
		"get_service_plugin_list": func(context.Context, *oslo.Request) (any, error) {
			return s.Env.Config.List("DEFAULT", "service_plugins"), nil
		},
		"update_floatingip_statuses":          s.updateFIPStatuses,
		"update_ha_routers_states":            null,
		"update_all_ha_network_port_statuses": null,
		"delete_agent_gateway_port":           null,
		"process_prefix_update":               null,
		"get_agent_gateway_port":              null,
		"get_ports_by_subnet": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				SubnetID string `json:"subnet_id"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			ids, err := db.Strings(ctx, s.Env.DB, "SELECT DISTINCT port_id FROM ipallocations WHERE subnet_id = ?", a.SubnetID)
			if err != nil || len(ids) == 0 {
				return []any{}, err
			}
			anyIDs := make([]any, len(ids))
			for i, id := range ids {
				anyIDs[i] = id
			}
			return s.list(ctx, "ports", map[string][]any{"id": anyIDs})
		},
		"get_networks": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				Filters map[string][]any `json:"filters"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.list(ctx, "networks", a.Filters)
		},
	}})
	setupL3Notify(s)
	return nil
}

// hostHARouterCount is get_host_ha_router_count: the HA routers the L3
// agent on host hosts.
func (s *Service) hostHARouterCount(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		Host string `json:"host"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	if s.routerPlugin() == nil {
		return 0, nil
	}
	var n int
	err := s.Env.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT b.router_id) FROM routerl3agentbindings b
		JOIN agents a ON a.id = b.l3_agent_id JOIN routers r ON r.id = b.router_id
		WHERE a.host = ? AND a.agent_type = ? AND r.ha = ?`, a.Host, agents.TypeL3, true).Scan(&n)
	return n, err
}
