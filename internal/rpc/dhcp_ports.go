package rpc

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/reqctx"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

type dhcpPortArgs struct {
	PortID string `json:"port_id"`
	Port   struct {
		Port map[string]any `json:"port"`
	} `json:"port"`
	Host string `json:"host"`
}

// gone: the network or subnet of a DHCP port went away meanwhile (the
// agent gets null and resyncs), as Neutron's _port_action answers.
func gone(err error) bool {
	var e *nerr.Error
	return errors.As(err, &e) && e.Status == 404
}

// createDHCPPort is create_dhcp_port: the agent's port on the network,
// owned by network:dhcp and bound to its host, written as an API create.
func (s *Service) createDHCPPort(ctx context.Context, req *oslo.Request) (any, error) {
	var a dhcpPortArgs
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	p := a.Port.Port
	if p == nil {
		return nil, oslo.Exception("neutron_lib.exceptions", "InvalidInput", "Invalid input for operation: port missing.", nil)
	}
	p["device_owner"] = "network:dhcp"
	p["binding:host_id"] = a.Host
	delete(p, "tenant_id")
	if m, _ := p["mac_address"].(string); m == "" {
		delete(p, "mac_address")
	}
	t, err := s.table("ports")
	if err != nil {
		return nil, err
	}
	rc := &reqctx.Context{IsAdmin: true, Roles: []string{"admin"}, ProjectID: str(p["project_id"])}
	items, _, err := t.Res.PrepareBody(rc, map[string]any{"port": p}, true)
	if err != nil {
		return nil, err
	}
	out, err := t.Create(reqctx.With(ctx, rc), items)
	if gone(err) {
		s.Log.Debug("DHCP port not created: its network or subnet is gone", "error", err.Error())
		return nil, nil
	}
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

// updateDHCPPort is update_dhcp_port: the agent's changes to its port
// (fixed IPs, device id), bound to its host.
func (s *Service) updateDHCPPort(ctx context.Context, req *oslo.Request) (any, error) {
	var a dhcpPortArgs
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	p := a.Port.Port
	if p == nil {
		p = map[string]any{}
	}
	old, err := s.port(ctx, a.PortID)
	if err != nil || old == nil {
		return nil, err
	}
	netID := str(p["network_id"])
	if netID == "" {
		netID = str(old["network_id"])
	}
	// only the agent's own port, or a reserved one it takes over, on a
	// network it hosts
	if dev := str(old["device_id"]); dev != reservedDHCPPort && dev != dhcpDeviceID(netID, a.Host) {
		return nil, nil
	}
	if ok, err := s.hostsNetwork(ctx, a.Host, netID); err != nil || !ok {
		if err == nil {
			s.Log.Warn("The DHCP agent does not host the network", "host", a.Host, "network", netID)
			err = oslo.Exception("neutron_lib.exceptions", "NetworkNotFound", "Network "+netID+" could not be found.", nil)
		}
		return nil, err
	}
	p["binding:host_id"] = a.Host
	for _, k := range []string{"id", "network_id", "tenant_id", "project_id", "mac_address", "device_owner"} {
		delete(p, k)
	}
	t, err := s.table("ports")
	if err != nil {
		return nil, err
	}
	rc := &reqctx.Context{IsAdmin: true, Roles: []string{"admin"}}
	items, _, err := t.Res.PrepareBody(rc, map[string]any{"port": p}, false)
	if err != nil {
		return nil, err
	}
	out, err := t.Update(reqctx.With(ctx, rc), a.PortID, items[0], nil)
	if gone(err) {
		return nil, nil
	}
	return out, err
}

// releaseDHCPPort is release_dhcp_port: the agent's ports on the network
// (by device id) are deleted.
func (s *Service) releaseDHCPPort(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		NetworkID string `json:"network_id"`
		DeviceID  string `json:"device_id"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	ports, err := s.list(ctx, "ports", map[string][]any{"network_id": {a.NetworkID}, "device_id": {a.DeviceID}})
	if err != nil {
		return nil, err
	}
	t, err := s.table("ports")
	if err != nil {
		return nil, err
	}
	for _, p := range ports {
		if err := t.Delete(admin(ctx), str(p["id"]), nil); err != nil && !gone(err) {
			return nil, err
		}
	}
	return nil, nil
}

// reservedDHCPPort is the device_id of a DHCP port kept for the next
// DHCP agent given its network (DEVICE_ID_RESERVED_DHCP_PORT).
const reservedDHCPPort = "reserved_dhcp_port"

// dhcpDeviceID is the device_id of the DHCP agent on host's port on a
// network (get_dhcp_agent_device_id: the host name without its domain).
func dhcpDeviceID(netID, host string) string {
	h, _, _ := strings.Cut(host, ".")
	return "dhcp" + uuid.NewSHA1(uuid.NameSpaceDNS, []byte(h)).String() + "-" + netID
}

// reserveDHCPPort keeps the port of the DHCP agent on host on a network
// it no longer hosts: its device_id becomes reserved_dhcp_port, and the
// next agent given the network takes it over (update_dhcp_port), with
// its addresses.
func (s *Service) reserveDHCPPort(ctx context.Context, netID, host string) error {
	ports, err := s.list(ctx, "ports", map[string][]any{"network_id": {netID}, "device_id": {dhcpDeviceID(netID, host)}})
	if err != nil {
		return err
	}
	t, err := s.table("ports")
	if err != nil {
		return err
	}
	for _, p := range ports {
		if _, err := t.Update(admin(ctx), str(p["id"]), api.Object{"device_id": reservedDHCPPort}, nil); err != nil && !gone(err) {
			return err
		}
	}
	return nil
}

// hostsNetwork: the DHCP agent on host hosts the network.
func (s *Service) hostsNetwork(ctx context.Context, host, netID string) (bool, error) {
	var n int
	err := s.Env.DB.QueryRow(ctx, `SELECT COUNT(*) FROM networkdhcpagentbindings b JOIN agents a ON a.id = b.dhcp_agent_id
		WHERE b.network_id = ? AND a.host = ? AND a.agent_type = ?`, netID, host, agents.TypeDHCP).Scan(&n)
	return n > 0, err
}
