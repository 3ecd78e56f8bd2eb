package rpc

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

var tunnelPorts = map[string]int{"vxlan": 4789, "geneve": 6081}

// tunnelSync is tunnel_sync: the agent's endpoint is registered (one per
// address and type; a host moving to a new address replaces its old one,
// which the other agents drop on a tunnel_delete fanout), the answer
// lists every endpoint of the type, and the other agents learn it from a
// tunnel_update fanout.
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
	var stale string // the host's former address, which the other agents drop
	err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
		stale = ""
		if a.Host != "" {
			var err error
			if stale, err = replaceEndpoint(ctx, tx, a.TunnelType, a.TunnelIP, a.Host); err != nil {
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
	if stale != "" {
		s.Cast(oslo.Target{Topic: TopicTunnelDelete, Fanout: true, Version: "1.0"}, "tunnel_delete",
			map[string]any{"tunnel_ip": stale, "tunnel_type": a.TunnelType})
	}
	tunnels, err := s.tunnels(ctx, a.TunnelType)
	if err != nil {
		return nil, err
	}
	s.Cast(oslo.Target{Topic: TopicTunnelUpdate, Fanout: true, Version: "1.0"}, "tunnel_update",
		map[string]any{"tunnel_ip": a.TunnelIP, "tunnel_type": a.TunnelType})
	return map[string]any{"tunnels": tunnels}, nil
}

// replaceEndpoint clears what a host's new endpoint replaces, as
// Neutron's tunnel_sync: an address another host used is taken over (that
// host's endpoint goes, untold: the address is not stale), and a host
// whose address changed loses its old endpoint, returned for tunnel_delete.
func replaceEndpoint(ctx context.Context, tx *db.Tx, typ, ip, host string) (string, error) {
	var ipHost, hostIP string
	err := tx.QueryRow(ctx, "SELECT COALESCE(host, '') FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND ip_address = ?", typ, ip).Scan(&ipHost)
	ipFound := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	err = tx.QueryRow(ctx, "SELECT ip_address FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND host = ?", typ, host).Scan(&hostIP)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	switch {
	case ipFound && ipHost != host:
		_, err = tx.Exec(ctx, "DELETE FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND (host = ? OR ip_address = ?)", typ, host, ip)
		return "", err
	case hostIP != "" && hostIP != ip:
		_, err = tx.Exec(ctx, "DELETE FROM ml2_tunnel_endpoints WHERE tunnel_type = ? AND ip_address = ?", typ, hostIP)
		return hostIP, err
	}
	return "", nil
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
