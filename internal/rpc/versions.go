package rpc

import (
	"context"
	"slices"
	"sort"
	"sync"

	"github.com/neutrino-os/neutrino/internal/agents"
)

// Versions tracks the object versions the agents consume (Neutron's
// version_manager): from their state reports' resource_versions, the
// report_agent_resource_versions casts of every server's agents, and, at
// start, the agents table. Pushes go out once per version consumed.
type Versions struct {
	s  *Service
	mu sync.Mutex
	// by consumer ("<agent type>@<host>") → object type → version
	by map[string]map[string]string
}

func newVersions(s *Service) *Versions {
	return &Versions{s: s, by: map[string]map[string]string{}}
}

// Set records a consumer's versions.
func (v *Versions) Set(agentType, host string, versions map[string]any) {
	m := map[string]string{}
	for k, x := range versions {
		if s, ok := x.(string); ok {
			m[k] = s
		}
	}
	v.mu.Lock()
	v.by[agentType+"@"+host] = m
	v.mu.Unlock()
}

// Of lists the versions of an object type some agent consumes, sorted.
func (v *Versions) Of(objType string) []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []string
	for _, m := range v.by {
		if x := m[objType]; x != "" && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

// load reads the versions of the agents in the table.
func (v *Versions) load(ctx context.Context) error {
	k := agents.From(v.s.Env)
	if k == nil {
		return nil
	}
	as, err := k.Find(ctx, nil, "resource_versions IS NOT NULL AND admin_state_up = ?", true)
	if err != nil {
		return err
	}
	for _, a := range as {
		v.Set(a.AgentType, a.Host, a.ResourceVersions)
	}
	return nil
}
