package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// segmentRows reads networks' segments as NetworkSegment 1.0 primitives,
// by network id (in segment_index order).
func segmentRows(ctx context.Context, q db.Querier, netIDs []string) (map[string][]ovo, map[string]ovo, error) {
	byNet, byID := map[string][]ovo{}, map[string]ovo{}
	err := store.ForChunks(netIDs, func(ph string, args []any) error {
		rows, err := q.Query(ctx, `SELECT id, network_id, name, created_at, updated_at, revision_number, network_type,
			physical_network, segmentation_id, segment_index, is_dynamic FROM network_segments WHERE network_id IN (`+ph+`) ORDER BY network_id, segment_index`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, netID, typ string
			var name, created, updated, physnet *string
			var rev, index int64
			var segid *int64
			var dynamic bool
			if err := rows.Scan(&id, &netID, &name, &created, &updated, &rev, &typ, &physnet, &segid, &index, &dynamic); err != nil {
				return err
			}
			d := map[string]any{"id": id, "network_id": netID, "hosts": []any{}, "is_dynamic": dynamic,
				"network_type": typ, "revision_number": rev, "segment_index": index}
			for k, v := range map[string]*string{"name": name, "created_at": created, "updated_at": updated, "physical_network": physnet} {
				if v != nil {
					d[k] = *v
				}
			}
			if segid != nil {
				d["segmentation_id"] = *segid
			}
			p := primitive("NetworkSegment", "1.0", d)
			byNet[netID] = append(byNet[netID], p)
			byID[id] = p
		}
		return rows.Err()
	})
	return byNet, byID, err
}

// networkOVO is a Network 1.1 primitive of an API network.
func networkOVO(n api.Object, segments []ovo) ovo {
	if segments == nil {
		segments = []ovo{}
	}
	id := str(n["id"])
	psec, ok := n["port_security_enabled"].(bool)
	if !ok {
		psec = true
	}
	d := map[string]any{"id": id, "project_id": n["project_id"], "name": n["name"], "description": n["description"],
		"admin_state_up": n["admin_state_up"], "status": n["status"], "mtu": n["mtu"], "shared": n["shared"],
		"revision_number": n["revision_number"], "created_at": n["created_at"], "updated_at": n["updated_at"],
		"segments": segments, "dns_domain": nilIfEmpty(n["dns_domain"]), "qos_policy_id": n["qos_policy_id"],
		"security": primitive("NetworkPortSecurity", "1.0", map[string]any{"id": id, "port_security_enabled": psec})}
	setIf(d, "vlan_transparent", n["vlan_transparent"])
	return primitive("Network", "1.1", d)
}

func nilIfEmpty(v any) any {
	if s, ok := v.(string); ok && s == "" {
		return nil
	}
	return v
}

// subnetOVO is a Subnet 1.1 primitive of an API subnet.
func subnetOVO(s api.Object) ovo {
	id := str(s["id"])
	pools := []ovo{}
	for _, p := range list(s["allocation_pools"]) {
		m, _ := p.(map[string]any)
		pools = append(pools, primitive("IPAllocationPool", "1.0", map[string]any{"id": derivedID(id, str(m["start"])),
			"start": m["start"], "end": m["end"], "subnet_id": id}))
	}
	dns := []ovo{}
	for i, a := range list(s["dns_nameservers"]) {
		dns = append(dns, primitive("DNSNameServer", "1.0", map[string]any{"address": a, "order": i, "subnet_id": id}))
	}
	routes := []ovo{}
	for _, r := range list(s["host_routes"]) {
		m, _ := r.(map[string]any)
		routes = append(routes, primitive("Route", "1.0", map[string]any{"destination": m["destination"], "nexthop": m["nexthop"], "subnet_id": id}))
	}
	pub, _ := s["dns_publish_fixed_ip"].(bool)
	d := map[string]any{"id": id, "project_id": s["project_id"], "name": s["name"], "description": s["description"],
		"network_id": s["network_id"], "cidr": s["cidr"], "gateway_ip": s["gateway_ip"], "ip_version": s["ip_version"],
		"enable_dhcp": s["enable_dhcp"], "allocation_pools": pools, "dns_nameservers": dns, "host_routes": routes,
		"service_types": list(s["service_types"]), "shared": s["shared"], "dns_publish_fixed_ip": pub,
		"revision_number": s["revision_number"], "created_at": s["created_at"], "updated_at": s["updated_at"]}
	for _, k := range []string{"segment_id", "subnetpool_id", "ipv6_ra_mode", "ipv6_address_mode"} {
		setIf(d, k, s[k])
	}
	if d["shared"] == nil {
		d["shared"] = false
	}
	return primitive("Subnet", "1.1", d)
}
