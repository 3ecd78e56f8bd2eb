package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
)

func init() {
	config.Register(&config.Option{Name: "router_auto_schedule", Type: config.Bool, Default: "true",
		Help: "Schedule routers without an L3 agent to L3 agents automatically (when they change, and when an agent asks for its routers)."})
}

// l3AgentsOf lists the live, admin-up L3 agents hosting a router.
func (s *Service) l3AgentsOf(ctx context.Context, q db.Querier, routerID string) ([]*agents.Agent, error) {
	as, err := agents.From(s.Env).Find(ctx, q, "id IN (SELECT l3_agent_id FROM routerl3agentbindings WHERE router_id = ?)", routerID)
	out := as[:0]
	for _, a := range as {
		if a.Alive && a.AdminStateUp {
			out = append(out, a)
		}
	}
	return out, err
}

// scheduleRouter is the L3 scheduler (legacy routers, one agent each): a
// router without an agent gets the live, admin-up L3 agent hosting the
// fewest routers (only, when set: that agent). It returns the agent newly
// given the router, or nil.
func (s *Service) scheduleRouter(ctx context.Context, routerID string, only *agents.Agent) (*agents.Agent, error) {
	if !s.Env.Config.Bool("DEFAULT", "router_auto_schedule") {
		return nil, nil
	}
	var added *agents.Agent
	err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
		added = nil
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM routerl3agentbindings WHERE router_id = ?", routerID).Scan(&n); err != nil || n > 0 {
			return err
		}
		best, err := s.leastRoutersAgent(ctx, tx, only)
		if err != nil || best == nil {
			return err
		}
		added = best
		return bindRouter(ctx, tx, routerID, best.ID)
	})
	return added, err
}

// bindRouter binds a router to an L3 agent (a legacy router: binding
// index 1); a concurrent binding retries the transaction.
func bindRouter(ctx context.Context, tx *db.Tx, routerID, agentID string) error {
	_, err := tx.Exec(ctx, "INSERT INTO routerl3agentbindings (router_id, l3_agent_id, binding_index) VALUES (?, ?, 1)", routerID, agentID)
	if db.IsUniqueViolation(err) {
		return db.ErrRetry
	}
	return err
}

// leastRoutersAgent is the L3 scheduler's choice (LeastRoutersScheduler):
// the live, admin-up L3 agent in legacy or dvr_snat mode hosting the
// fewest routers (only, when set: that agent), or nil.
func (s *Service) leastRoutersAgent(ctx context.Context, tx *db.Tx, only *agents.Agent) (*agents.Agent, error) {
	cands, err := agents.From(s.Env).Find(ctx, tx, "agent_type = ? AND admin_state_up = ?", agents.TypeL3, true)
	if err != nil {
		return nil, err
	}
	best, load := (*agents.Agent)(nil), -1
	for _, a := range cands {
		mode, _ := a.Configurations["agent_mode"].(string)
		if !a.Alive || (only != nil && a.ID != only.ID) || (mode != "" && mode != "legacy" && mode != "dvr_snat") {
			continue
		}
		var l int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM routerl3agentbindings WHERE l3_agent_id = ?", a.ID).Scan(&l); err != nil {
			return nil, err
		}
		if best == nil || l < load {
			best, load = a, l
		}
	}
	return best, nil
}

// hostRouters are the routers of the L3 agent on host, unscheduled
// routers given to it first (auto_schedule_routers).
func (s *Service) hostRouters(ctx context.Context, host string) ([]string, error) {
	a, err := agents.From(s.Env).ByTypeHost(ctx, nil, agents.TypeL3, host)
	if err != nil || a == nil || !a.AdminStateUp {
		return []string{}, err
	}
	unbound, err := db.Strings(ctx, s.Env.DB, "SELECT id FROM routers WHERE id NOT IN (SELECT router_id FROM routerl3agentbindings) ORDER BY id")
	if err != nil {
		return nil, err
	}
	for _, r := range unbound {
		if _, err := s.scheduleRouter(ctx, r, a); err != nil {
			return nil, err
		}
	}
	ids, err := db.Strings(ctx, s.Env.DB, "SELECT router_id FROM routerl3agentbindings WHERE l3_agent_id = ? ORDER BY router_id", a.ID)
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}
