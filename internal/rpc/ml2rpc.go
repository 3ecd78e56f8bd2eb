package rpc

import (
	"context"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupML2) }

// setupML2: ML2's RpcCallbacks 1.9 on q-plugin (device details and
// status, network details, tunnel_sync).
func setupML2(s *Service) error {
	s.Add(TopicPlugin, oslo.Endpoint{Version: "1.9", Methods: map[string]oslo.Handler{
		"get_device_details": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a deviceArgs
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.deviceDetails(ctx, a.Device, a.Host)
		},
		"get_devices_details_list": func(ctx context.Context, req *oslo.Request) (any, error) {
			out, _, err := s.devicesDetails(ctx, req)
			return out, err
		},
		"get_devices_details_list_and_failed_devices": func(ctx context.Context, req *oslo.Request) (any, error) {
			out, failed, err := s.devicesDetails(ctx, req)
			return map[string]any{"devices": out, "failed_devices": failed}, err
		},
		"update_device_up":   s.updateDeviceUp,
		"update_device_down": s.updateDeviceDown,
		"update_device_list": s.updateDeviceList,
		"get_network_details": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				Network string `json:"network"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			t, err := s.table("networks")
			if err != nil {
				return nil, err
			}
			return t.Get(admin(ctx), a.Network, nil)
		},
		"get_ports_by_vnic_type_and_host": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				VNICType string `json:"vnic_type"`
				Host     string `json:"host"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.list(ctx, "ports", map[string][]any{"binding:vnic_type": {a.VNICType}, "binding:host_id": {a.Host}})
		},
		"tunnel_sync": s.tunnelSync,
	}})
	return nil
}

type deviceArgs struct {
	Device  string   `json:"device"`
	Devices []string `json:"devices"`
	AgentID string   `json:"agent_id"`
	Host    string   `json:"host"`
}

// port finds the port a device names: its id, or a prefix of it (with an
// interface prefix such as "tap", as Linux bridge agents name devices).
func (s *Service) port(ctx context.Context, device string) (api.Object, error) {
	t, err := s.table("ports")
	if err != nil {
		return nil, err
	}
	if p, err := t.Get(admin(ctx), device, nil); err == nil {
		return p, nil
	}
	id := strings.TrimPrefix(device, "tap")
	if len(id) < 8 || len(id) >= 36 {
		return nil, nil
	}
	var full string
	err = s.Env.DB.QueryRow(ctx, "SELECT id FROM ports WHERE id LIKE ?", id+"%").Scan(&full)
	if err != nil {
		return nil, nil
	}
	p, err := t.Get(admin(ctx), full, nil)
	if err != nil {
		return nil, nil
	}
	return p, nil
}

// deviceDetails is _get_device_details: the port's wiring for the agent
// on host, or {"device": device} when it is unknown or not bound there.
func (s *Service) deviceDetails(ctx context.Context, device, host string) (map[string]any, error) {
	p, err := s.port(ctx, device)
	if err != nil || p == nil {
		return map[string]any{"device": device}, err
	}
	id := str(p["id"])
	if host != "" && str(p["binding:host_id"]) != host {
		return map[string]any{"device": device}, nil
	}
	seg, err := s.boundSegment(ctx, p)
	if err != nil || seg == nil {
		return map[string]any{"device": device}, err
	}
	nets, err := s.list(ctx, "networks", map[string][]any{"id": {p["network_id"]}})
	if err != nil || len(nets) == 0 {
		return map[string]any{"device": device}, err
	}
	if p["admin_state_up"] == true && p["status"] != "ACTIVE" && p["status"] != "BUILD" {
		if err := s.setPortStatus(ctx, id, "BUILD"); err != nil {
			return nil, err
		}
	}
	psec, ok := p["port_security_enabled"].(bool)
	if !ok {
		psec = true
	}
	return map[string]any{"device": device, "network_id": p["network_id"], "port_id": id, "mac_address": p["mac_address"],
		"admin_state_up": p["admin_state_up"], "network_type": seg["network_type"], "segmentation_id": seg["segmentation_id"],
		"physical_network": seg["physical_network"], "mtu": nets[0]["mtu"], "fixed_ips": p["fixed_ips"],
		"device_owner": p["device_owner"], "allowed_address_pairs": p["allowed_address_pairs"], "port_security_enabled": psec,
		"qos_policy_id": p["qos_policy_id"], "network_qos_policy_id": nets[0]["qos_policy_id"], "profile": p["binding:profile"],
		"propagate_uplink_status": p["propagate_uplink_status"] == true, "security_groups": p["security_groups"]}, nil
}

// boundSegment is a port's bottom bound segment (network_type,
// segmentation_id, physical_network), or nil when it is not bound.
func (s *Service) boundSegment(ctx context.Context, p api.Object) (map[string]any, error) {
	id := str(p["id"])
	levels, err := ml2.BindingLevels(ctx, s.Env.DB, []string{id})
	if err != nil {
		return nil, err
	}
	ls := levels[id]
	if len(ls) == 0 {
		return nil, nil
	}
	_, segs, err := segmentRows(ctx, s.Env.DB, []string{str(p["network_id"])})
	if err != nil {
		return nil, err
	}
	seg, _ := segs[ls[len(ls)-1].SegmentID]["versioned_object.data"].(map[string]any)
	if seg == nil {
		seg = map[string]any{}
	}
	return seg, nil
}

func (s *Service) devicesDetails(ctx context.Context, req *oslo.Request) ([]map[string]any, []string, error) {
	var a deviceArgs
	if err := req.Args.Into(&a); err != nil {
		return nil, nil, err
	}
	out := []map[string]any{}
	failed := []string{}
	for _, d := range a.Devices {
		det, err := s.deviceDetails(ctx, d, a.Host)
		if err != nil {
			s.Log.Warn("device details failed", "device", d, "error", err.Error())
			failed = append(failed, d)
			continue
		}
		out = append(out, det)
	}
	return out, failed, nil
}

// setPortStatus writes a port's status through the port table (events,
// revision, pushes follow the commit).
func (s *Service) setPortStatus(ctx context.Context, id, status string) error {
	t, err := s.table("ports")
	if err != nil {
		return err
	}
	_, err = t.Update(admin(ctx), id, api.Object{"status": status}, nil)
	return err
}
