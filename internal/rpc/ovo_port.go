package rpc

import (
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ml2"
)

// portOVO is a Port 1.7 primitive of an API port, its binding levels and
// the segments they name.
func portOVO(p api.Object, levels []ml2.BindingLevel, segs map[string]ovo) ovo {
	id := str(p["id"])
	netID := p["network_id"]
	fixed := []ovo{}
	for _, f := range list(p["fixed_ips"]) {
		m, _ := f.(map[string]any)
		fixed = append(fixed, primitive("IPAllocation", "1.0", map[string]any{"ip_address": m["ip_address"],
			"subnet_id": m["subnet_id"], "network_id": netID, "port_id": id}))
	}
	pairs := []ovo{}
	for _, a := range list(p["allowed_address_pairs"]) {
		m, _ := a.(map[string]any)
		pairs = append(pairs, primitive("AllowedAddressPair", "1.0", map[string]any{"ip_address": m["ip_address"],
			"mac_address": m["mac_address"], "port_id": id}))
	}
	opts := []ovo{}
	for _, o := range list(p["extra_dhcp_opts"]) {
		m, _ := o.(map[string]any)
		opts = append(opts, primitive("ExtraDhcpOpt", "1.1", map[string]any{"id": derivedID(id, str(m["opt_name"]), str(m["ip_version"])),
			"port_id": id, "opt_name": m["opt_name"], "opt_value": m["opt_value"], "ip_version": m["ip_version"]}))
	}
	psec, ok := p["port_security_enabled"].(bool)
	if !ok {
		psec = true
	}
	sgs := list(p["security_groups"])
	d := map[string]any{"id": id, "project_id": p["project_id"], "name": p["name"], "description": p["description"],
		"network_id": netID, "mac_address": p["mac_address"], "admin_state_up": p["admin_state_up"], "status": p["status"],
		"device_id": p["device_id"], "device_owner": p["device_owner"], "fixed_ips": fixed, "allowed_address_pairs": pairs,
		"dhcp_options": opts, "security_group_ids": sgs, "distributed_bindings": []any{}, "dns": nil, "data_plane_status": nil,
		"qos_policy_id": p["qos_policy_id"], "qos_network_policy_id": p["qos_network_policy_id"],
		"revision_number": p["revision_number"], "created_at": p["created_at"], "updated_at": p["updated_at"],
		"security":       primitive("PortSecurity", "1.0", map[string]any{"id": id, "port_security_enabled": psec}),
		"bindings":       []ovo{bindingOVO(p)},
		"binding_levels": levelsOVO(id, levels, segs)}
	setIf(d, "propagate_uplink_status", p["propagate_uplink_status"])
	setIf(d, "numa_affinity_policy", p["numa_affinity_policy"])
	setIf(d, "device_profile", p["device_profile"])
	return primitive("Port", "1.7", d)
}

// bindingOVO is the port's active PortBinding 1.0.
func bindingOVO(p api.Object) ovo {
	vnic := p["binding:vnic_type"]
	if vnic == nil {
		vnic = "normal"
	}
	vif := p["binding:vif_type"]
	if vif == nil {
		vif = ml2.VIFUnbound
	}
	details := p["binding:vif_details"]
	if m, ok := details.(map[string]any); ok && len(m) == 0 {
		details = nil
	}
	profile := p["binding:profile"]
	if profile == nil {
		profile = map[string]any{}
	}
	host, _ := p["binding:host_id"].(string)
	return primitive("PortBinding", "1.0", map[string]any{"host": host, "port_id": p["id"], "profile": jsonText(profile),
		"status": "ACTIVE", "vif_details": jsonText(details), "vif_type": vif, "vnic_type": vnic})
}

func levelsOVO(portID string, levels []ml2.BindingLevel, segs map[string]ovo) []ovo {
	out := []ovo{}
	for _, l := range levels {
		d := map[string]any{"port_id": portID, "host": l.Host, "level": l.Level, "driver": l.Driver}
		if l.SegmentID != "" {
			d["segment_id"] = l.SegmentID
			if s, ok := segs[l.SegmentID]; ok {
				d["segment"] = s
			}
		}
		out = append(out, primitive("PortBindingLevel", "1.1", d))
	}
	return out
}
