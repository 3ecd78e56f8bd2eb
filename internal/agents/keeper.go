package agents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

// Statuses Report answers (neutron_lib.agent.constants).
const (
	StatusNew     = "new"
	StatusAlive   = "alive"
	StatusRevived = "revived"
)

type keeperKey struct{}

// Keeper keeps one server's agents.
type Keeper struct {
	env     *plugin.Env
	table   *store.Table
	sources []Source
	// Now is the clock (tests move it); nil: time.Now.
	Now func() time.Time
}

// From returns the server's Keeper, or nil without the ML2 plugin.
func From(env *plugin.Env) *Keeper {
	k, _ := env.Value(keeperKey{}).(*Keeper)
	return k
}

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now().UTC()
	}
	return time.Now().UTC()
}

func (k *Keeper) downTime() time.Duration {
	return time.Duration(k.env.Config.Int("DEFAULT", "agent_down_time")) * time.Second
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// aliveAt: a heartbeat (RFC 3339) within agent_down_time.
func (k *Keeper) aliveAt(hb string) bool {
	t, err := time.Parse(time.RFC3339, hb)
	return err == nil && k.now().Sub(t) <= k.downTime()
}

// Agent is one row of the agents table.
type Agent struct {
	ID, AgentType, Binary, Topic, Host, AZ string
	AdminStateUp, Alive                    bool
	Configurations, ResourceVersions       map[string]any
	Heartbeat, StartedAt                   time.Time
}

const agentCols = "id, agent_type, agent_binary, topic, host, COALESCE(availability_zone, ''), admin_state_up, heartbeat_timestamp, configurations, COALESCE(resource_versions, ''), started_at"

func (k *Keeper) scan(rows *sql.Rows) ([]*Agent, error) {
	defer rows.Close()
	var out []*Agent
	for rows.Next() {
		a := &Agent{}
		var hb, conf, rv, started string
		if err := rows.Scan(&a.ID, &a.AgentType, &a.Binary, &a.Topic, &a.Host, &a.AZ, &a.AdminStateUp, &hb, &conf, &rv, &started); err != nil {
			return nil, err
		}
		a.Heartbeat, _ = time.Parse(time.RFC3339, hb)
		a.StartedAt, _ = time.Parse(time.RFC3339, started)
		a.Alive = k.aliveAt(hb)
		_ = json.Unmarshal([]byte(conf), &a.Configurations)
		if rv != "" {
			_ = json.Unmarshal([]byte(rv), &a.ResourceVersions)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Find lists the table's agents matching where (SQL over the agents
// table, "" = all), ordered by host.
func (k *Keeper) Find(ctx context.Context, q db.Querier, where string, args ...any) ([]*Agent, error) {
	if q == nil {
		q = k.env.DB
	}
	query := "SELECT " + agentCols + " FROM agents"
	if where != "" {
		query += " WHERE " + where
	}
	rows, err := q.Query(ctx, query+" ORDER BY host, agent_type", args...)
	if err != nil {
		return nil, err
	}
	return k.scan(rows)
}

// ByTypeHost returns the agent of a type on a host, or nil.
func (k *Keeper) ByTypeHost(ctx context.Context, q db.Querier, agentType, host string) (*Agent, error) {
	as, err := k.Find(ctx, q, "agent_type = ? AND host = ?", agentType, host)
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return as[0], nil
}

// Report is create_or_update_agent: the agent of state's agent_type and
// host is created (status new) or refreshed (alive, or revived when it
// had been down). state is the agent's report (agent_type, binary, host,
// topic, configurations, availability_zone, resource_versions,
// start_flag). The agent's AFTER_CREATE / AFTER_UPDATE event follows the
// commit with the status in its metadata.
func (k *Keeper) Report(ctx context.Context, state map[string]any) (string, *Agent, error) {
	str := func(key string) string { s, _ := state[key].(string); return s }
	agentType, host := str("agent_type"), str("host")
	if agentType == "" || host == "" {
		return "", nil, errors.New("agent state without agent_type or host")
	}
	conf, _ := json.Marshal(orEmpty(state["configurations"]))
	var rv any
	if m, ok := state["resource_versions"].(map[string]any); ok && len(m) > 0 {
		b, _ := json.Marshal(m)
		rv = string(b)
	}
	var az any
	if v, ok := state["availability_zone"]; ok {
		az = v
	}
	now := stamp(k.now())
	var status string
	var agent *Agent
	err := k.env.DB.Write(ctx, func(tx *db.Tx) error {
		old, err := k.ByTypeHost(ctx, tx, agentType, host)
		if err != nil {
			return err
		}
		status, agent = StatusNew, old
		if old == nil {
			agent = &Agent{ID: uuid.NewString(), AdminStateUp: k.env.Config.Bool("DEFAULT", "enable_new_agents")}
			_, err = tx.Exec(ctx, `INSERT INTO agents (id, agent_type, agent_binary, topic, host, availability_zone, admin_state_up,
				created_at, started_at, heartbeat_timestamp, configurations, resource_versions, agent_load) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
				agent.ID, agentType, str("binary"), str("topic"), host, az, agent.AdminStateUp, now, now, now, string(conf), rv)
			if db.IsUniqueViolation(err) {
				return db.ErrRetry // another server registered it first
			}
			return err
		}
		status = StatusAlive
		if !old.Alive {
			status = StatusRevived
		}
		set := "agent_binary = ?, topic = ?, heartbeat_timestamp = ?, configurations = ?"
		args := []any{str("binary"), str("topic"), now, string(conf)}
		if _, ok := state["availability_zone"]; ok {
			set, args = set+", availability_zone = ?", append(args, az)
		}
		if rv != nil {
			set, args = set+", resource_versions = ?", append(args, rv)
		}
		if b, _ := state["start_flag"].(bool); b {
			set, args = set+", started_at = ?", append(args, now)
		}
		_, err = tx.Exec(ctx, "UPDATE agents SET "+set+" WHERE id = ?", append(args, old.ID)...)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	agent.AgentType, agent.Host, agent.Binary, agent.Topic = agentType, host, str("binary"), str("topic")
	agent.Configurations, _ = state["configurations"].(map[string]any)
	agent.Heartbeat, agent.Alive = k.now(), true
	if s, ok := az.(string); ok {
		agent.AZ = s
	}
	ev := events.AfterUpdate
	if status == StatusNew {
		ev = events.AfterCreate
	}
	k.env.Bus.Notify(events.Agent, ev, &events.Payload{Ctx: ctx, ID: agent.ID, New: api.Object(state),
		Meta: map[string]any{"host": host, "status": status, "agent": agent}})
	return status, agent, nil
}

func orEmpty(v any) any {
	if v == nil {
		return map[string]any{}
	}
	return v
}
