package agents

import (
	"context"
	"fmt"
	"slices"

	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/store"
)

// servicesAvailable: an agent with this admin state may be given work.
func (k *Keeper) servicesAvailable(adminUp bool) bool {
	return adminUp || k.env.Config.Bool("DEFAULT", "enable_services_on_agents_with_admin_state_down")
}

// add binds the resource objID to the agent (add_network_to_dhcp_agent,
// add_router_to_l3_agent); the binding's AFTER_CREATE event follows the
// commit. A router already on this agent is left as it is (no event).
func (s *scheduling) add(ctx context.Context, agentID, objID string) error {
	var agent *Agent
	err := s.k.env.DB.Write(ctx, func(tx *db.Tx) error {
		agent = nil
		// the resource first, shared (lock order: store/lock.go): one
		// deleted meanwhile gets no binding
		if ok, err := store.LockRow(ctx, tx, s.coll, objID, store.Shared); err != nil || !ok {
			return orErr(err, s.k.env.Resource(s.coll).NotFoundErr(objID))
		}
		as, err := s.k.Find(ctx, tx, "id = ?", agentID)
		if err != nil || len(as) == 0 {
			return orNotFound(err, agentID)
		}
		a := as[0]
		if a.AgentType != s.agentType {
			return s.invalid(agentID)
		}
		if s.canHost != nil {
			if err := s.canHost(a); err != nil {
				return err
			}
		}
		if !s.k.servicesAvailable(a.AdminStateUp) {
			return s.invalid(agentID)
		}
		hosts, err := db.Strings(ctx, tx, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ? ORDER BY %s", s.agentCol, s.table, s.objCol, s.agentCol), objID)
		if err != nil {
			return err
		}
		switch {
		case slices.Contains(hosts, agentID) && s.agentType == TypeL3:
			return nil // check_agent_router_scheduling_needed: nothing to do
		case slices.Contains(hosts, agentID):
			return s.hosted(objID, agentID)
		case len(hosts) > 0 && s.agentType == TypeL3: // a legacy router has one agent
			return s.hosted(objID, hosts[0])
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s, %s) VALUES (?, ?)", s.table, s.objCol, s.agentCol), objID, agentID); err != nil {
			if db.IsUniqueViolation(err) {
				return db.ErrRetry
			}
			return err
		}
		agent = a
		return nil
	})
	if err != nil || agent == nil {
		return err
	}
	s.k.env.Bus.Notify(s.event, events.AfterCreate, &events.Payload{Ctx: ctx, ID: objID, Meta: map[string]any{"agent": agent}})
	return nil
}

func orErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// remove unbinds objID from the agent (remove_network_from_dhcp_agent,
// remove_router_from_l3_agent); the binding's AFTER_DELETE event follows.
func (s *scheduling) remove(ctx context.Context, agentID, objID string) error {
	as, err := s.k.Find(ctx, nil, "id = ?", agentID)
	if err != nil || len(as) == 0 {
		return orNotFound(err, agentID)
	}
	a := as[0]
	if s.agentType == TypeL3 && isDVR(a) {
		return nerr.Conflict("DVRL3CannotRemoveFromDvrAgent", "Not allowed to manually remove a router from an agent in 'dvr' mode.")
	}
	var n int64
	err = s.k.env.DB.Write(ctx, func(tx *db.Tx) error {
		r, err := tx.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s = ? AND %s = ?", s.table, s.objCol, s.agentCol), objID, agentID)
		if err == nil {
			n, err = r.RowsAffected()
		}
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 && s.notHosted != nil {
		return s.notHosted(objID, agentID)
	}
	if s.agentType == TypeL3 { // Neutron reads the router after unbinding it
		var c int
		if err := s.k.env.DB.QueryRow(ctx, "SELECT COUNT(*) FROM routers WHERE id = ?", objID).Scan(&c); err != nil || c == 0 {
			return orErr(err, s.k.env.Resource(s.coll).NotFoundErr(objID))
		}
	}
	s.k.env.Bus.Notify(s.event, events.AfterDelete, &events.Payload{Ctx: ctx, ID: objID, Meta: map[string]any{"agent": a}})
	return nil
}
