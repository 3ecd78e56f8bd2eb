package rpc

import (
	"context"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

var tunnelPorts = map[string]int{"vxlan": 4789, "geneve": 6081}

// tunnelSync is tunnel_sync: the agent's endpoint is registered (one per
// address and type; a host moving to a new address replaces its old one),
// the answer lists every endpoint of the type, and the other agents learn
// it from a tunnel_update fanout.
func (s *Service) tunnelSync(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		TunnelIP   string `json:"tunnel_ip"`
		TunnelType string `json:"tunnel_type"`
		Host       string `json:"host"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	if a.TunnelIP == "" || a.TunnelType == "" {
		return nil, oslo.Exception("neutron_lib.exceptions", "InvalidInput", fmt.Sprintf("Invalid input for operation: Tunnel IP value needed by the ML2 plugin (type %s).", a.TunnelType), nil)
	}
	var port any
	if p, ok := tunnelPorts[a.TunnelType]; ok {
		port = p
	}
	err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
		if a.Host != "" {
			if _, err := tx.Exec(ctx, "DELETE FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND host = ? AND ip_address <> ?", a.TunnelType, a.Host, a.TunnelIP); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "DELETE FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND ip_address = ?", a.TunnelType, a.TunnelIP); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO ml2_tunnel_endpoints (tunnel_type, ip_address, host, udp_port) VALUES (?, ?, ?, ?)", a.TunnelType, a.TunnelIP, a.Host, port)
		if db.IsUniqueViolation(err) {
			return db.ErrRetry
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	tunnels, err := s.tunnels(ctx, a.TunnelType)
	if err != nil {
		return nil, err
	}
	s.Cast(oslo.Target{Topic: TopicTunnelUpdate, Fanout: true, Version: "1.0"}, "tunnel_update",
		map[string]any{"tunnel_ip": a.TunnelIP, "tunnel_type": a.TunnelType})
	return map[string]any{"tunnels": tunnels}, nil
}

func (s *Service) tunnels(ctx context.Context, typ string) ([]map[string]any, error) {
	rows, err := s.Env.DB.Query(ctx, "SELECT ip_address, COALESCE(host, ''), udp_port FROM ml2_tunnel_endpoints WHERE tunnel_type = ? ORDER BY ip_address", typ)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []map[string]any{}
	for rows.Next() {
		var ip, host string
		var port *int64
		if err := rows.Scan(&ip, &host, &port); err != nil {
			return nil, err
		}
		t := map[string]any{"host": host, "ip_address": ip}
		if port != nil {
			t["udp_port"] = *port
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
