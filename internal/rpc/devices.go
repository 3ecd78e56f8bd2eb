package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

// deviceUp is update_device_up for one device: the port bound to host
// becomes ACTIVE (the L2 agent wired it). ok is false when the port is
// unknown or bound elsewhere.
func (s *Service) deviceUp(ctx context.Context, device, host string) (bool, error) {
	p, err := s.port(ctx, device)
	if err != nil || p == nil {
		return false, err
	}
	if host != "" && str(p["binding:host_id"]) != host {
		s.Log.Debug("device not bound to the agent host", "device", device, "host", host)
		return false, nil
	}
	if p["status"] == "ACTIVE" || p["admin_state_up"] != true {
		return true, nil
	}
	return true, s.setPortStatus(ctx, str(p["id"]), "ACTIVE")
}

// deviceDown is update_device_down for one device: DOWN; exists says
// whether the port is still there.
func (s *Service) deviceDown(ctx context.Context, device, host string) (bool, error) {
	p, err := s.port(ctx, device)
	if err != nil || p == nil {
		return false, err
	}
	if host != "" && str(p["binding:host_id"]) != host {
		return true, nil
	}
	if p["status"] == "DOWN" {
		return true, nil
	}
	return true, s.setPortStatus(ctx, str(p["id"]), "DOWN")
}

func (s *Service) updateDeviceUp(ctx context.Context, req *oslo.Request) (any, error) {
	var a deviceArgs
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	_, err := s.deviceUp(ctx, a.Device, a.Host)
	return nil, err
}

func (s *Service) updateDeviceDown(ctx context.Context, req *oslo.Request) (any, error) {
	var a deviceArgs
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	exists, err := s.deviceDown(ctx, a.Device, a.Host)
	return map[string]any{"device": a.Device, "exists": exists}, err
}

// updateDeviceList is update_device_list: every device up or down, the
// ones that failed listed apart.
func (s *Service) updateDeviceList(ctx context.Context, req *oslo.Request) (any, error) {
	var a struct {
		Up   []string `json:"devices_up"`
		Down []string `json:"devices_down"`
		Host string   `json:"host"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	res := map[string][]string{"devices_up": {}, "devices_down": {}, "failed_devices_up": {}, "failed_devices_down": {}}
	for _, d := range a.Up {
		if _, err := s.deviceUp(ctx, d, a.Host); err != nil {
			s.Log.Warn("update_device_up failed", "device", d, "error", err.Error())
			res["failed_devices_up"] = append(res["failed_devices_up"], d)
			continue
		}
		res["devices_up"] = append(res["devices_up"], d)
	}
	for _, d := range a.Down {
		if _, err := s.deviceDown(ctx, d, a.Host); err != nil {
			s.Log.Warn("update_device_down failed", "device", d, "error", err.Error())
			res["failed_devices_down"] = append(res["failed_devices_down"], d)
			continue
		}
		res["devices_down"] = append(res["devices_down"], d)
	}
	return res, nil
}
