package rpc

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/config"
	"github.com/neutrino-os/neutrino/internal/db"
)

func init() {
	config.Register(
		&config.Option{Name: "allow_automatic_dhcp_failover", Type: config.Bool, Default: "true",
			Help: "Remove networks from DHCP agents silent for twice agent_down_time, and schedule them to live agents (with network_auto_schedule)."},
		&config.Option{Name: "allow_automatic_l3agent_failover", Type: config.Bool, Default: "false",
			Help: "Reschedule the routers of L3 agents silent for twice agent_down_time to live L3 agents."},
	)
}

// rescheduler is the agent status check worker: every agent_down_time/2
// the process holding the "agents_rescheduling" lease moves the networks
// and routers of dead agents to live ones.
type rescheduler struct {
	s          *Service
	lease      *db.Lease
	dhcp, l3   bool
	stop, done chan struct{}
}

// startRescheduling starts the worker when a failover option is on.
func (s *Service) startRescheduling() {
	c := s.Env.Config
	r := &rescheduler{s: s, dhcp: c.Bool("DEFAULT", "allow_automatic_dhcp_failover"), l3: c.Bool("DEFAULT", "allow_automatic_l3agent_failover"),
		stop: make(chan struct{}), done: make(chan struct{})}
	if agents.From(s.Env) == nil || (!r.dhcp && !r.l3) {
		return
	}
	r.lease = db.NewLease(s.Env.DB, "agents_rescheduling")
	s.resched = r
	go r.run()
}

// stopRescheduling stops the worker and gives the lease up.
func (s *Service) stopRescheduling() {
	if r := s.resched; r != nil {
		s.resched = nil
		close(r.stop)
		<-r.done
		r.lease.Release(context.Background())
	}
}

func (r *rescheduler) run() {
	defer close(r.done)
	interval := max(time.Duration(r.s.Env.Config.Int("DEFAULT", "agent_down_time")/2)*time.Second, time.Second)
	// a random first delay between one and two intervals lets the agents
	// report after a server start, and spreads the servers
	next := time.Now().Add(interval + rand.N(interval))
	tick := time.NewTicker(min(interval, db.LeaseTTL/3))
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		ctx := admin(context.Background())
		if !r.lease.Acquire(ctx) || time.Now().Before(next) {
			continue
		}
		next = time.Now().Add(interval)
		if r.dhcp {
			if err := r.s.rescheduleNetworks(ctx); err != nil {
				r.s.Log.Error("network rescheduling failed", "error", err.Error())
			}
		}
		if r.l3 && r.s.routerPlugin() != nil {
			if err := r.s.rescheduleRouters(ctx); err != nil {
				r.s.Log.Error("router rescheduling failed", "error", err.Error())
			}
		}
	}
}

// rescheduleNetworks is remove_networks_from_down_agents: the networks of
// dead DHCP agents are removed from them (without telling them: a
// restarted agent must not find deletes on its queue), their DHCP ports
// reserved, and scheduled again (network_create_end to the new agents),
// unless no DHCP agent is alive at all.
func (s *Service) rescheduleNetworks(ctx context.Context) error {
	k := agents.From(s.Env)
	down, err := k.DownBindings(ctx, agents.TypeDHCP)
	if err != nil || len(down) == 0 {
		return err
	}
	all, err := k.Find(ctx, nil, "agent_type = ?", agents.TypeDHCP)
	if err != nil {
		return err
	}
	live := false
	for _, a := range all {
		up, err := k.StartingUp(ctx, a)
		if err != nil {
			return err
		}
		live = live || a.Alive || up
	}
	if !live {
		s.Log.Warn("No DHCP agents available, skipping rescheduling")
		return nil
	}
	cutoff := k.DeadCutoff()
	for _, b := range down {
		s.Log.Warn("Removing network from agent because the agent did not report to the server in the last "+k.DeadLimit().String(),
			"network", b.ObjID, "agent", b.Agent.ID)
		var n int64
		err := s.Env.DB.Write(ctx, func(tx *db.Tx) error {
			// still dead: an agent revived meanwhile keeps its network
			r, err := tx.Exec(ctx, `DELETE FROM networkdhcpagentbindings WHERE network_id = ? AND dhcp_agent_id IN
				(SELECT id FROM agents WHERE id = ? AND heartbeat_timestamp < ?)`, b.ObjID, b.Agent.ID, cutoff)
			if err == nil {
				n, err = r.RowsAffected()
			}
			return err
		})
		if err != nil {
			return err
		}
		if n > 0 {
			if err := s.reserveDHCPPort(ctx, b.ObjID, b.Agent.Host); err != nil {
				s.Log.Warn("DHCP port not reserved", "network", b.ObjID, "error", err.Error())
			}
		}
		if err := s.scheduleAndTell(ctx, b.ObjID); err != nil {
			s.Log.Warn("network not rescheduled", "network", b.ObjID, "error", err.Error())
		}
	}
	return nil
}
