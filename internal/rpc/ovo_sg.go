package rpc

import (
	"net/netip"

	"github.com/neutrino-os/neutrino/internal/api"
)

// ruleOVO is a SecurityGroupRule 1.2 primitive of an API rule.
func ruleOVO(r api.Object) ovo {
	d := map[string]any{"id": r["id"], "project_id": r["project_id"], "security_group_id": r["security_group_id"],
		"direction": r["direction"], "ethertype": r["ethertype"], "revision_number": r["revision_number"],
		"created_at": r["created_at"], "updated_at": r["updated_at"], "normalized_cidr": normalizedCIDR(r["remote_ip_prefix"])}
	for _, k := range []string{"description", "protocol", "port_range_min", "port_range_max", "remote_ip_prefix",
		"remote_group_id", "remote_address_group_id"} {
		setIf(d, k, r[k])
	}
	return primitive("SecurityGroupRule", "1.2", d)
}

func normalizedCIDR(v any) any {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, err := netip.ParseAddr(s); err == nil {
			return netip.PrefixFrom(a, a.BitLen()).String()
		}
		return s
	}
	return p.Masked().String()
}

// groupOVO is a SecurityGroup 1.5 primitive of an API group with its rules.
func groupOVO(g api.Object, rules []api.Object) ovo {
	rs := []ovo{}
	for _, r := range rules {
		rs = append(rs, ruleOVO(r))
	}
	stateful, ok := g["stateful"].(bool)
	if !ok {
		stateful = true
	}
	d := map[string]any{"id": g["id"], "project_id": g["project_id"], "name": g["name"], "description": g["description"],
		"is_default": g["name"] == "default", "shared": g["shared"], "stateful": stateful, "rules": rs,
		"revision_number": g["revision_number"], "created_at": g["created_at"], "updated_at": g["updated_at"]}
	if d["shared"] == nil {
		d["shared"] = false
	}
	return primitive("SecurityGroup", "1.5", d)
}

// addressGroupOVO is an AddressGroup 1.2 primitive of an API address group.
func addressGroupOVO(g api.Object) ovo {
	addrs := []ovo{}
	for _, a := range list(g["addresses"]) {
		addrs = append(addrs, primitive("AddressAssociation", "1.0", map[string]any{"address": a, "address_group_id": g["id"]}))
	}
	d := map[string]any{"id": g["id"], "project_id": g["project_id"], "name": g["name"], "description": g["description"],
		"addresses": addrs, "shared": false, "revision_number": g["revision_number"], "created_at": g["created_at"], "updated_at": g["updated_at"]}
	return primitive("AddressGroup", "1.2", d)
}
