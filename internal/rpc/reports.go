package rpc

import (
	"context"
	"fmt"
	"time"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupReports) }

// setupReports: AgentExtRpcCallback (report_state, has_alive_neutron_server)
// on q-reports-plugin and q-plugin, and ResourcesPushToServerRpcCallback on
// q-server-resource-versions.
func setupReports(s *Service) error {
	start := time.Now().UTC()
	ep := oslo.Endpoint{Version: "1.2", Methods: map[string]oslo.Handler{
		"report_state": func(ctx context.Context, req *oslo.Request) (any, error) {
			return s.reportState(ctx, req, start)
		},
		"has_alive_neutron_server": func(ctx context.Context, req *oslo.Request) (any, error) {
			return s.Env.DB.SQL.PingContext(ctx) == nil, nil
		},
	}}
	s.Add(TopicReports, ep)
	s.Add(TopicPlugin, ep)
	s.Add(TopicResourceVersions, oslo.Endpoint{Version: "1.0", Methods: map[string]oslo.Handler{
		"report_agent_resource_versions": func(_ context.Context, req *oslo.Request) (any, error) {
			var a struct {
				AgentType  string         `json:"agent_type"`
				AgentHost  string         `json:"agent_host"`
				VersionMap map[string]any `json:"version_map"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			s.Versions.Set(a.AgentType, a.AgentHost, a.VersionMap)
			return nil, nil
		},
	}})
	return nil
}

// reportState is report_state: the agent is created or refreshed and the
// answer is new, alive or revived; a report older than the server's start
// (it waited in the queue while the server was down) is skipped with a
// null answer, as Neutron does.
func (s *Service) reportState(ctx context.Context, req *oslo.Request, start time.Time) (any, error) {
	var a struct {
		AgentState struct {
			AgentState map[string]any `json:"agent_state"`
		} `json:"agent_state"`
		Time string `json:"time"`
	}
	if err := req.Args.Into(&a); err != nil {
		return nil, err
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999", a.Time); err == nil && t.Before(start) {
		s.Log.Debug("stale state report skipped", "agent_time", a.Time)
		return nil, nil
	}
	k := agents.From(s.Env)
	if k == nil {
		return nil, fmt.Errorf("no agents component")
	}
	state := a.AgentState.AgentState
	status, agent, err := k.Report(ctx, state)
	if err != nil {
		return nil, err
	}
	if rv, ok := state["resource_versions"].(map[string]any); ok && len(rv) > 0 {
		s.Versions.Set(agent.AgentType, agent.Host, rv)
		s.Cast(oslo.Target{Topic: TopicResourceVersions, Fanout: true, Version: "1.0"}, "report_agent_resource_versions",
			map[string]any{"agent_type": agent.AgentType, "agent_host": agent.Host, "version_map": rv})
	}
	return status, nil
}
