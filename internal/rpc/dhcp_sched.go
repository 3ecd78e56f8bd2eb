package rpc

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	config.Register(
		&config.Option{Name: "dhcp_agents_per_network", Type: config.Int, Min: config.IntPtr(1), Default: "1",
			Help: "Number of DHCP agents scheduled to host a tenant network."},
		&config.Option{Name: "dhcp_load_type", Type: config.String, Default: "networks", Choices: []string{"networks", "subnets", "ports"},
			Help: "The DHCP agents' load the scheduler weighs (the count each agent reports): the least loaded agents get a network first."},
		&config.Option{Name: "network_auto_schedule", Type: config.Bool, Default: "true",
			Help: "Schedule networks with DHCP subnets to DHCP agents automatically (when a DHCP subnet or port appears, and when an agent asks for its networks)."},
	)
}

// dhcpAgentsOf lists the DHCP agents hosting a network; with usable only
// those alive and admin up (the ones that get notifications).
func (s *Service) dhcpAgentsOf(ctx context.Context, q db.Querier, netID string, usable bool) ([]*agents.Agent, error) {
	k := agents.From(s.Env)
	as, err := k.Find(ctx, q, "id IN (SELECT dhcp_agent_id FROM networkdhcpagentbindings WHERE network_id = ?)", netID)
	if err != nil || !usable {
		return as, err
	}
	out := as[:0]
	for _, a := range as {
		if a.Alive && a.AdminStateUp {
			out = append(out, a)
		}
	}
	return out, nil
}

// hasDHCPSubnet: the network has a subnet with DHCP enabled.
func hasDHCPSubnet(ctx context.Context, q db.Querier, netID string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, "SELECT COUNT(*) FROM subnets WHERE network_id = ? AND enable_dhcp = ?", netID, true).Scan(&n)
	return n > 0, err
}

// load is a DHCP agent's load as it reports it (its configurations'
// dhcp_load_type count).
func load(a *agents.Agent, loadType string) float64 {
	n, _ := a.Configurations[loadType].(float64)
	return n
}

// scheduleNetwork is the DHCP scheduler's schedule() (WeightScheduler): a
// network with a DHCP subnet gets the least loaded DHCP agents (alive,
// admin up, in its zones if it has hints; host order between equals) up
// to dhcp_agents_per_network; the agents newly given it are returned.
// only, when set, restricts the candidates to one agent (auto-scheduling
// by the agent's own request).
func (s *Service) scheduleNetwork(ctx context.Context, netID string, only *agents.Agent) ([]*agents.Agent, error) {
	if !s.Env.Config.Bool("DEFAULT", "network_auto_schedule") {
		return nil, nil
	}
	var added []*agents.Agent
	err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
		added = nil
		// the network first, shared, as a port write takes it (lock
		// order: store/lock.go): a network deleted meanwhile gets no agent
		if ok, err := store.LockRow(ctx, tx, "networks", netID, store.Shared); err != nil || !ok {
			return err
		}
		if ok, err := hasDHCPSubnet(ctx, tx, netID); err != nil || !ok {
			return err
		}
		hosting, err := s.dhcpAgentsOf(ctx, tx, netID, false)
		if err != nil {
			return err
		}
		want := s.Env.Config.Int("DEFAULT", "dhcp_agents_per_network") - len(hosting)
		if want <= 0 {
			return nil
		}
		cands, err := agents.From(s.Env).Find(ctx, tx, `agent_type = ? AND admin_state_up = ? AND id NOT IN
			(SELECT dhcp_agent_id FROM networkdhcpagentbindings WHERE network_id = ?)`, agents.TypeDHCP, true, netID)
		if err != nil {
			return err
		}
		zones, err := s.azHints(ctx, tx, netID)
		if err != nil {
			return err
		}
		cands = slices.DeleteFunc(cands, func(a *agents.Agent) bool {
			return !a.Alive || (only != nil && a.ID != only.ID) || (len(zones) > 0 && !slices.Contains(zones, a.AZ))
		})
		loadType := s.Env.Config.String("DEFAULT", "dhcp_load_type")
		slices.SortStableFunc(cands, func(a, b *agents.Agent) int { return cmp.Compare(load(a, loadType), load(b, loadType)) })
		for _, a := range cands {
			if want == 0 {
				break
			}
			if _, err := tx.Exec(ctx, "INSERT INTO networkdhcpagentbindings (network_id, dhcp_agent_id) VALUES (?, ?)", netID, a.ID); err != nil {
				if db.IsUniqueViolation(err) {
					return db.ErrRetry
				}
				return err
			}
			added = append(added, a)
			want--
		}
		return nil
	})
	return added, err
}

// autoSchedule is auto_schedule_networks for the DHCP agent on host:
// every network with a DHCP subnet that lacks agents gets this one.
func (s *Service) autoSchedule(ctx context.Context, host string) error {
	k := agents.From(s.Env)
	a, err := k.ByTypeHost(ctx, nil, agents.TypeDHCP, host)
	if err != nil || a == nil || !a.AdminStateUp || !a.Alive {
		return err
	}
	nets, err := db.Strings(ctx, s.Env.DB, `SELECT DISTINCT network_id FROM subnets WHERE enable_dhcp = ? AND network_id NOT IN
		(SELECT network_id FROM networkdhcpagentbindings WHERE dhcp_agent_id = ?)`, true, a.ID)
	if err != nil {
		return err
	}
	for _, n := range nets {
		if _, err := s.scheduleNetwork(ctx, n, a); err != nil {
			return err
		}
	}
	return nil
}

// azHints are the zones a network's DHCP agents must be in: its
// availability_zone_hints, else [DEFAULT] default_availability_zones
// (none: any zone).
func (s *Service) azHints(ctx context.Context, tx *db.Tx, netID string) ([]string, error) {
	var raw sql.NullString
	if err := tx.QueryRow(ctx, "SELECT availability_zone_hints FROM networks WHERE id = ?", netID).Scan(&raw); err != nil {
		return nil, err
	}
	var zones []string
	if raw.Valid && raw.String != "" {
		if err := json.Unmarshal([]byte(raw.String), &zones); err != nil {
			return nil, err
		}
	}
	if len(zones) == 0 {
		zones = s.Env.Config.List("DEFAULT", "default_availability_zones")
	}
	return zones, nil
}
