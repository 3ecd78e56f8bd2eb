package rpc

import (
	"context"
	"errors"
	"fmt"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

var errNoL3Agent = errors.New("no eligible l3 agent found")

// rescheduleRouters is reschedule_routers_from_down_agents: each router of
// a dead, admin-up L3 agent (unless the agent reported again meanwhile)
// moves to the live L3 agent hosting the fewest routers.
func (s *Service) rescheduleRouters(ctx context.Context) error {
	k := agents.From(s.Env)
	down, err := k.DownBindings(ctx, agents.TypeL3)
	if err != nil {
		return err
	}
	back := map[string]bool{}
	for _, b := range down {
		if back[b.Agent.ID] {
			continue
		}
		as, err := k.Find(ctx, nil, "id = ?", b.Agent.ID)
		if err != nil {
			return err
		}
		if len(as) == 0 || as[0].Alive {
			back[b.Agent.ID] = true // deleted (its bindings with it) or back online
			continue
		}
		s.Log.Warn("Rescheduling router from agent because the agent did not report to the server in the last "+k.DeadLimit().String(),
			"router", b.ObjID, "agent", b.Agent.ID)
		if err := s.rescheduleRouter(ctx, b.ObjID); err != nil {
			s.Log.Error("Failed to reschedule router", "router", b.ObjID, "error", err.Error())
		}
	}
	return nil
}

// rescheduleRouter is reschedule_router: the router leaves the agents
// hosting it for the one the scheduler picks, in one transaction (with no
// live agent to take it, it stays); router_removed_from_agent goes to the
// agents it left, the call router_added_to_agent to the new one.
func (s *Service) rescheduleRouter(ctx context.Context, routerID string) error {
	k := agents.From(s.Env)
	var old []*agents.Agent
	var added *agents.Agent
	err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
		old, added = nil, nil
		if ok, err := store.LockRow(ctx, tx, "routers", routerID, store.Shared); err != nil || !ok {
			return err // a router deleted meanwhile is not rescheduled
		}
		var err error
		if old, err = k.Find(ctx, tx, "id IN (SELECT l3_agent_id FROM routerl3agentbindings WHERE router_id = ?)", routerID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM routerl3agentbindings WHERE router_id = ?", routerID); err != nil {
			return err
		}
		best, err := s.leastRoutersAgent(ctx, tx, nil)
		if err != nil || best == nil {
			return errors.Join(err, errNoL3Agent)
		}
		added = best
		return bindRouter(ctx, tx, routerID, best.ID)
	})
	if errors.Is(err, errNoL3Agent) {
		return fmt.Errorf("failed rescheduling router %s: %w", routerID, err)
	}
	if err != nil || added == nil {
		return err
	}
	for _, a := range old {
		if a.Host != added.Host {
			s.routerRemoved(a.Host, routerID)
		}
	}
	s.routerAdded(added.Host, routerID)
	return nil
}
