package agents

import (
	"context"
	"fmt"
	"time"

	"github.com/neutrino-os/neutrino/internal/db"
)

// DeadLimit is how long an agent must have been silent before its
// networks and routers are rescheduled (Neutron's
// agent_dead_limit_seconds): twice agent_down_time.
func (k *Keeper) DeadLimit() time.Duration { return 2 * k.downTime() }

// DeadCutoff is the heartbeat (as stored) before which an agent is dead.
func (k *Keeper) DeadCutoff() string { return stamp(k.now().Add(-k.DeadLimit())) }

// Binding is one agent hosting one network (DHCP) or router (L3).
type Binding struct {
	ObjID string
	Agent *Agent
}

// DownBindings lists the bindings of the agents of agentType silent for
// longer than DeadLimit: for L3 agents the admin-up ones
// (get_down_router_bindings), for DHCP agents all but those still
// starting up (_filter_bindings).
func (k *Keeper) DownBindings(ctx context.Context, agentType string) ([]Binding, error) {
	table, objCol, agentCol, where := "networkdhcpagentbindings", "network_id", "dhcp_agent_id", ""
	if agentType == TypeL3 {
		table, objCol, agentCol, where = "routerl3agentbindings", "router_id", "l3_agent_id", " AND admin_state_up = ?"
	}
	args := []any{agentType, k.DeadCutoff()}
	if where != "" {
		args = append(args, true)
	}
	down, err := k.Find(ctx, nil, "agent_type = ? AND heartbeat_timestamp < ?"+where, args...)
	if err != nil {
		return nil, err
	}
	var out []Binding
	for _, a := range down {
		if agentType == TypeDHCP {
			if up, err := k.StartingUp(ctx, a); err != nil || up {
				if err != nil {
					return nil, err
				}
				continue
			}
		}
		ids, err := db.Strings(ctx, k.env.DB, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? ORDER BY %s", objCol, table, agentCol, objCol), a.ID)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out = append(out, Binding{ObjID: id, Agent: a})
		}
	}
	return out, nil
}

// StartingUp is agent_starting_up for a DHCP agent: started less than
// DeadLimit ago plus 2 seconds per network it hosts (its first reports
// may be late while it sets the networks up).
func (k *Keeper) StartingUp(ctx context.Context, a *Agent) (bool, error) {
	var n int
	if err := k.env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM networkdhcpagentbindings WHERE dhcp_agent_id = ?", a.ID).Scan(&n); err != nil {
		return false, err
	}
	return a.StartedAt.Add(k.DeadLimit() + time.Duration(n)*2*time.Second).After(k.now()), nil
}
