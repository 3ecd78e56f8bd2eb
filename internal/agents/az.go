package agents

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/neutrino-os/neutrino/internal/az"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// zoneSource gives the az component the agents' zones
// (_list_availability_zones): DHCP agents' zones serve networks, L3
// agents' routers; a zone is available when one of its agents is
// admin_state_up.
type zoneSource struct{ k *Keeper }

// ovnGatewayAgent is the agent type of an OVN gateway chassis (internal/mechovn).
const ovnGatewayAgent = "OVN Controller Gateway agent"

var zoneResource = map[string]string{TypeDHCP: "network", TypeL3: "router"}

func (s zoneSource) Zones(ctx context.Context, q db.Querier) ([]az.Zone, error) {
	type key struct{ name, res string }
	up := map[key]bool{}
	add := func(agentType, zone string, admin bool) {
		if res := zoneResource[agentType]; res != "" && zone != "" {
			up[key{zone, res}] = up[key{zone, res}] || admin
		}
	}
	as, err := s.k.Find(ctx, q, "availability_zone IS NOT NULL AND agent_type IN (?, ?)", TypeDHCP, TypeL3)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		add(a.AgentType, a.AZ, a.AdminStateUp)
	}
	more, err := s.k.sourceAgents(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range more {
		t, _ := o["agent_type"].(string)
		zone, _ := o["availability_zone"].(string)
		admin, _ := o["admin_state_up"].(bool)
		if t == ovnGatewayAgent { // ML2/OVN: the zones of gateway chassis are router zones
			for _, z := range strings.Split(zone, ",") {
				add(TypeL3, strings.TrimSpace(z), admin)
			}
			continue
		}
		add(t, zone, admin)
	}
	out := make([]az.Zone, 0, len(up))
	for k, v := range up {
		out = append(out, az.Zone{Name: k.name, Resource: k.res, Available: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Resource != out[j].Resource {
			return out[i].Resource < out[j].Resource
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// Hosting: the zones of the DHCP agents hosting networks, of the L3
// agents hosting routers.
func (s zoneSource) Hosting(ctx context.Context, q db.Querier, resource string, ids []string) (map[string][]string, error) {
	query := "SELECT b.network_id, a.availability_zone FROM networkdhcpagentbindings b JOIN agents a ON a.id = b.dhcp_agent_id WHERE a.availability_zone IS NOT NULL AND b.network_id IN ("
	if resource == "router" {
		query = "SELECT b.router_id, a.availability_zone FROM routerl3agentbindings b JOIN agents a ON a.id = b.l3_agent_id WHERE a.availability_zone IS NOT NULL AND b.router_id IN ("
	}
	out := map[string][]string{}
	err := store.ForChunks(ids, func(ph string, args []any) error {
		rows, err := q.Query(ctx, query+ph+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, zone string
			if err := rows.Scan(&id, &zone); err != nil {
				return err
			}
			if !slices.Contains(out[id], zone) {
				out[id] = append(out[id], zone)
			}
		}
		return rows.Err()
	})
	for _, z := range out {
		sort.Strings(z)
	}
	return out, err
}
