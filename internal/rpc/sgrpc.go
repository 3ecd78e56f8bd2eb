package rpc

import (
	"context"
	"slices"
	"strings"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupSG) }

var directionPrefix = map[string]string{"ingress": "source_ip_prefix", "egress": "dest_ip_prefix"}

// setupSG: SecurityGroupServerRpcCallback 1.3 on q-plugin, for the L2
// agents' iptables firewall drivers (the openvswitch firewall of the Zed
// OVS agent uses the pushed objects instead): security_group_info_for_devices
// and security_group_rules_for_devices.
func setupSG(s *Service) error {
	s.Add(TopicPlugin, oslo.Endpoint{Version: "1.3", Methods: map[string]oslo.Handler{
		"security_group_info_for_devices": func(ctx context.Context, req *oslo.Request) (any, error) {
			ports, rules, err := s.sgDevices(ctx, req)
			if err != nil {
				return nil, err
			}
			return s.sgInfo(ctx, ports, rules)
		},
		"security_group_rules_for_devices": func(ctx context.Context, req *oslo.Request) (any, error) {
			ports, rules, err := s.sgDevices(ctx, req)
			if err != nil {
				return nil, err
			}
			for _, p := range ports {
				for _, sg := range list(p["security_groups"]) {
					for _, r := range rules[str(sg)] {
						d := ruleDict(r, false)
						d["security_group_id"] = sg
						p["security_group_rules"] = append(p["security_group_rules"].([]any), d)
					}
				}
			}
			return ports, nil
		},
	}})
	return nil
}

// sgDevices reads the devices' ports (as get_ports_from_devices gives them:
// fixed_ips as addresses, device, empty rule lists) and their groups' rules.
func (s *Service) sgDevices(ctx context.Context, req *oslo.Request) (map[string]map[string]any, map[string][]api.Object, error) {
	var a struct {
		Devices []string `json:"devices"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, nil, err
	}
	ports := map[string]map[string]any{}
	var sgs []any
	for _, d := range a.Devices {
		p, err := s.port(ctx, d)
		if err != nil || p == nil {
			continue
		}
		m := map[string]any{}
		for k, v := range p {
			m[k] = v
		}
		var ips []any
		for _, f := range list(p["fixed_ips"]) {
			ips = append(ips, f.(map[string]any)["ip_address"])
		}
		m["fixed_ips"], m["device"] = ips, d
		m["security_group_rules"], m["security_group_source_groups"] = []any{}, []any{}
		ports[str(p["id"])] = m
		sgs = append(sgs, list(p["security_groups"])...)
	}
	rules := map[string][]api.Object{}
	if len(sgs) > 0 {
		rs, err := s.list(ctx, "security_group_rules", map[string][]any{"security_group_id": sgs})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rs {
			rules[str(r["security_group_id"])] = append(rules[str(r["security_group_id"])], r)
		}
	}
	return ports, rules, nil
}

// ruleDict is a rule as the firewall drivers get it: remote_ip_prefix
// as source_ip_prefix (ingress) or dest_ip_prefix (egress).
func ruleDict(r api.Object, stateful bool) map[string]any {
	d := map[string]any{"direction": r["direction"], "ethertype": r["ethertype"]}
	if stateful {
		d["stateful"] = true
	}
	for _, k := range []string{"protocol", "port_range_min", "port_range_max", "remote_group_id", "remote_address_group_id"} {
		setIf(d, k, r[k])
	}
	if p := normalizedCIDR(r["remote_ip_prefix"]); p != nil {
		d[directionPrefix[str(r["direction"])]] = p
	}
	return d
}

// sgInfo is security_group_info_for_ports: the devices, each group's rules
// and the addresses (with MACs) of the remote groups' member ports.
func (s *Service) sgInfo(ctx context.Context, ports map[string]map[string]any, rules map[string][]api.Object) (any, error) {
	groups := map[string][]any{}
	members := map[string]map[string][]any{}
	for _, p := range ports {
		for _, sg := range list(p["security_groups"]) {
			if _, ok := groups[str(sg)]; !ok {
				groups[str(sg)] = []any{}
			}
			for _, r := range rules[str(sg)] {
				groups[str(sg)] = append(groups[str(sg)], ruleDict(r, true))
				if rg := str(r["remote_group_id"]); rg != "" {
					if !slices.Contains(p["security_group_source_groups"].([]any), any(rg)) {
						p["security_group_source_groups"] = append(p["security_group_source_groups"].([]any), rg)
					}
					if members[rg] == nil {
						members[rg] = map[string][]any{}
					}
					members[rg][str(r["ethertype"])] = []any{}
				}
			}
		}
		p["security_group_rules"] = []any{map[string]any{"direction": "ingress", "ethertype": "IPv4", "protocol": "udp",
			"port_range_min": 68, "port_range_max": 68, "source_port_range_min": 67, "source_port_range_max": 67}}
	}
	for rg, byType := range members {
		ps, err := s.list(ctx, "ports", map[string][]any{"security_groups": {rg}})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			for _, f := range list(p["fixed_ips"]) {
				ip := str(f.(map[string]any)["ip_address"])
				et := "IPv4"
				if strings.Contains(ip, ":") {
					et = "IPv6"
				}
				if l, ok := byType[et]; ok {
					byType[et] = append(l, []any{ip, p["mac_address"]})
				}
			}
		}
	}
	return map[string]any{"devices": ports, "security_groups": groups, "sg_member_ips": members}, nil
}
