package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupDHCP) }

// setupDHCP: DhcpRpcCallback 1.10 on q-plugin, and the DHCP agents'
// notifications.
func setupDHCP(s *Service) error {
	s.Add(TopicPlugin, oslo.Endpoint{Version: "1.10", Methods: map[string]oslo.Handler{
		"get_active_networks_info": s.activeNetworksInfo,
		"get_network_info": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				NetworkID string `json:"network_id"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			nets, err := s.networksInfo(ctx, []any{a.NetworkID})
			if err != nil || len(nets) == 0 {
				return nil, err
			}
			return nets[0], nil
		},
		"create_dhcp_port":  s.createDHCPPort,
		"update_dhcp_port":  s.updateDHCPPort,
		"release_dhcp_port": s.releaseDHCPPort,
		"dhcp_ready_on_ports": func(context.Context, *oslo.Request) (any, error) {
			return nil, nil // no DHCP provisioning block (docs/compat.md)
		},
		"get_dhcp_port": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				PortID string `json:"port_id"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.port(ctx, a.PortID)
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
	setupDHCPNotify(s)
	return nil
}

// activeNetworksInfo is get_active_networks_info: the networks of the DHCP
// agent on host (auto-scheduled first), as the agent wants them.
func (s *Service) activeNetworksInfo(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		Host     string `json:"host"`
		Filtered *bool  `json:"enable_dhcp_filter"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	if err := s.autoSchedule(ctx, a.Host); err != nil {
		return nil, err
	}
	ids, err := s.hostedNetworks(ctx, a.Host)
	if err != nil || len(ids) == 0 {
		return []any{}, err
	}
	return s.networksInfo(ctx, ids)
}

// hostedNetworks lists the networks the DHCP agent on host hosts (none
// when it is admin down).
func (s *Service) hostedNetworks(ctx context.Context, host string) ([]any, error) {
	rows, err := s.Env.DB.Query(ctx, `SELECT b.network_id FROM networkdhcpagentbindings b JOIN agents a ON a.id = b.dhcp_agent_id
		WHERE a.host = ? AND a.agent_type = 'DHCP agent' AND a.admin_state_up = ? ORDER BY b.network_id`, host, true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []any
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// networksInfo builds the DHCP agent's network dicts: the network's id,
// admin_state_up, mtu and project, its subnets and ports.
func (s *Service) networksInfo(ctx context.Context, ids []any) ([]map[string]any, error) {
	nets, err := s.list(ctx, "networks", map[string][]any{"id": ids})
	if err != nil {
		return nil, err
	}
	subnets, err := s.list(ctx, "subnets", map[string][]any{"network_id": ids})
	if err != nil {
		return nil, err
	}
	ports, err := s.list(ctx, "ports", map[string][]any{"network_id": ids})
	if err != nil {
		return nil, err
	}
	by := func(objs []api.Object) map[string][]api.Object {
		m := map[string][]api.Object{}
		for _, o := range objs {
			m[str(o["network_id"])] = append(m[str(o["network_id"])], o)
		}
		return m
	}
	sub, prt := by(subnets), by(ports)
	out := make([]map[string]any, 0, len(nets))
	for _, n := range nets {
		id := str(n["id"])
		ss, ps := sub[id], prt[id]
		if ss == nil {
			ss = []api.Object{}
		}
		if ps == nil {
			ps = []api.Object{}
		}
		out = append(out, map[string]any{"id": id, "admin_state_up": n["admin_state_up"], "mtu": n["mtu"],
			"project_id": n["project_id"], "tenant_id": n["project_id"], "subnets": ss, "ports": ps, "non_local_subnets": []any{}})
	}
	return out, nil
}
