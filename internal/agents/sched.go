package agents

import (
	"context"
	"fmt"
	"net/http"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/events"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/reqctx"
)

// scheduling is one agent scheduler extension (dhcp_agent_scheduler,
// l3_agent_scheduler): the bindings of one agent type to one resource,
// served as /agents/{id}/<sub>s and /<coll>/{id}/<agents>.
type scheduling struct {
	k         *Keeper
	agentType string
	table     string // the bindings table
	objCol    string // its resource column (network_id, router_id)
	agentCol  string // its agent column
	coll      string // the hosted resource's collection (networks, routers)
	sub       string // the policy name of one binding (dhcp-network, l3-router)
	agentsPol string // the policy of the hosted resource's agents list
	event     string // the bindings' AFTER events
	invalid   func(agentID string) error
	hosted    func(objID, agentID string) error
	// notHosted answers the removal of a missing binding; nil: none is
	// refused (the L3 scheduler removes nothing silently).
	notHosted func(objID, agentID string) error
	// canHost refuses an agent by its configuration (the L3 agent modes).
	canHost func(a *Agent) error
}

func dhcpScheduling(k *Keeper) *scheduling {
	return &scheduling{k: k, agentType: TypeDHCP, table: "networkdhcpagentbindings", objCol: "network_id", agentCol: "dhcp_agent_id",
		coll: "networks", sub: "dhcp-network", agentsPol: "get_dhcp-agents", event: events.DHCPAgentNetwork,
		invalid: func(id string) error {
			return nerr.NotFound("InvalidDHCPAgent", "Agent %s is not a valid DHCP Agent or has been disabled.", id)
		},
		hosted: func(n, a string) error {
			return nerr.Conflict("NetworkHostedByDHCPAgent", "The network %s has been already hosted by the DHCP Agent %s.", n, a)
		},
		notHosted: func(n, a string) error {
			return nerr.Conflict("NetworkNotHostedByDhcpAgent", "The network %s is not hosted by the DHCP Agent %s.", n, a)
		}}
}

func l3Scheduling(k *Keeper) *scheduling {
	return &scheduling{k: k, agentType: TypeL3, table: "routerl3agentbindings", objCol: "router_id", agentCol: "l3_agent_id",
		coll: "routers", sub: "l3-router", agentsPol: "get_l3-agents", event: events.L3AgentRouter,
		invalid: func(id string) error {
			return nerr.NotFound("InvalidL3Agent", "Agent %s is not a L3 Agent or has been disabled", id)
		},
		hosted: func(r, a string) error {
			return nerr.Conflict("RouterHostedByL3Agent", "The router %s has been already hosted by the L3 Agent %s.", r, a)
		},
		canHost: func(a *Agent) error {
			if isDVR(a) {
				return nerr.Conflict("DVRL3CannotAssignToDvrAgent", "Not allowed to manually assign a router to an agent in 'dvr' mode.")
			}
			return nil
		}}
}

// setupScheduling serves the agent scheduler extensions once every plugin
// has declared its resources (the routers' only with a router plugin):
// after the other finishers, which may add resources. Without dhcp (the
// core plugin does not offer dhcp_agent_scheduler: ML2/OVN), only the L3
// one.
func setupScheduling(env *plugin.Env, k *Keeper, agentsRes *api.Resource, dhcp bool) {
	env.OnFinish(func() error {
		env.OnFinish(func() error { return finishScheduling(env, k, agentsRes, dhcp) })
		return nil
	})
}

func finishScheduling(env *plugin.Env, k *Keeper, agentsRes *api.Resource, dhcp bool) error {
	{
		agentsRes.MemberSpecials = map[string]api.Special{}
		for _, s := range []*scheduling{dhcpScheduling(k), l3Scheduling(k)} {
			res := env.Resource(s.coll)
			if res == nil || s.agentType == TypeDHCP && !dhcp || s.agentType == TypeL3 && !agentRouters(env) {
				continue
			}
			agentsRes.MemberSpecials[s.sub+"s"] = agentSide{s}
			if res.MemberSpecials == nil {
				res.MemberSpecials = map[string]api.Special{}
			}
			res.MemberSpecials[map[string]string{TypeDHCP: "dhcp-agents", TypeL3: "l3-agents"}[s.agentType]] = objSide{s}
			env.AddExtensions(map[string]string{TypeDHCP: "dhcp_agent_scheduler", TypeL3: "l3_agent_scheduler"}[s.agentType])
		}
		return nil
	}
}

// agentRouters tells whether the router plugin has L3 agents host its routers (not the OVN
// L3 plugin).
func agentRouters(env *plugin.Env) bool {
	r, ok := env.Plugin("router").(interface{ AgentScheduled() bool })
	return !ok || r.AgentScheduled()
}

func authorize(ctx context.Context, rc *reqctx.Context, authz api.Authorizer, action string) error {
	if authz == nil {
		return nil
	}
	return authz.Authorize(ctx, rc, nil, action, api.Object{}, nil)
}

// agentSide serves /agents/{id}/<sub>s[/{obj_id}].
type agentSide struct{ s *scheduling }

func (h agentSide) Serve(ctx context.Context, rc *reqctx.Context, method string, rest []string, body func() (any, error), authz api.Authorizer) (int, any, error) {
	s, agentID := h.s, rest[0]
	switch {
	case len(rest) == 1 && method == http.MethodGet:
		if err := authorize(ctx, rc, authz, "get_"+s.sub+"s"); err != nil {
			return 0, nil, err
		}
		objs, err := s.hostedBy(ctx, agentID)
		return http.StatusOK, map[string]any{s.coll: objs}, err
	case len(rest) == 1 && method == http.MethodPost:
		if err := authorize(ctx, rc, authz, "create_"+s.sub); err != nil {
			return 0, nil, err
		}
		b, err := body()
		if err != nil {
			return 0, nil, err
		}
		m, _ := b.(map[string]any)
		objID, ok := m[s.objCol].(string)
		if !ok {
			return 0, nil, nerr.HTTPBadRequest("Invalid input: %s is required, as a string.", s.objCol)
		}
		return http.StatusCreated, api.NullBody{}, s.add(ctx, agentID, objID)
	case len(rest) == 2 && method == http.MethodDelete:
		if err := authorize(ctx, rc, authz, "delete_"+s.sub); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, s.remove(ctx, agentID, rest[1])
	case len(rest) > 2:
		return 0, nil, nerr.HTTPNotFound()
	}
	return 0, nil, nerr.HTTPMethodNotAllowed()
}

// objSide serves /<coll>/{id}/<agents>.
type objSide struct{ s *scheduling }

func (h objSide) Serve(ctx context.Context, rc *reqctx.Context, method string, rest []string, _ func() (any, error), authz api.Authorizer) (int, any, error) {
	if len(rest) != 1 {
		return 0, nil, nerr.HTTPNotFound()
	}
	if method != http.MethodGet {
		return 0, nil, nerr.HTTPMethodNotAllowed()
	}
	s := h.s
	// Neutron's front end finds the parent first (RouterNotFound)
	if _, err := s.k.env.Resource(s.coll).Backend.Get(ctx, rest[0], []string{"id"}); err != nil {
		return 0, nil, err
	}
	if err := authorize(ctx, rc, authz, s.agentsPol); err != nil {
		return 0, nil, err
	}
	ids, err := db.Strings(ctx, s.k.env.DB, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", s.agentCol, s.table, s.objCol), rest[0])
	if err != nil {
		return 0, nil, err
	}
	objs, err := listByIDs(ctx, s.k.env.Resource("agents"), ids)
	return http.StatusOK, map[string]any{"agents": objs}, err
}

// hostedBy lists the resources an agent hosts (404 for an unknown agent
// hosting none, as Neutron looks the agent up only then).
func (s *scheduling) hostedBy(ctx context.Context, agentID string) ([]api.Object, error) {
	ids, err := db.Strings(ctx, s.k.env.DB, fmt.Sprintf("SELECT %s FROM %s WHERE %s = ?", s.objCol, s.table, s.agentCol), agentID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		if as, err := s.k.Find(ctx, nil, "id = ?", agentID); err != nil || len(as) == 0 {
			return nil, orNotFound(err, agentID)
		}
	}
	return listByIDs(ctx, s.k.env.Resource(s.coll), ids)
}

func orNotFound(err error, id string) error {
	if err != nil {
		return err
	}
	return notFound(id)
}

// listByIDs lists a resource's objects by id, as the API shows them.
func listByIDs(ctx context.Context, res *api.Resource, ids []string) ([]api.Object, error) {
	out := []api.Object{}
	if len(ids) == 0 {
		return out, nil
	}
	vals := make([]any, len(ids))
	for i, id := range ids {
		vals[i] = id
	}
	objs, err := res.Backend.List(ctx, &api.Query{Filters: []api.Filter{{Attr: "id", Values: vals}}})
	for _, o := range objs {
		out = append(out, res.View(o))
	}
	return out, err
}

// isDVR: an L3 agent in a distributed mode (dvr, dvr_no_external), which
// hosts routers only as their ports need.
func isDVR(a *Agent) bool {
	mode, _ := a.Configurations["agent_mode"].(string)
	return mode == "dvr" || mode == "dvr_no_external"
}
