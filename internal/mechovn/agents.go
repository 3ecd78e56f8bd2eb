package mechovn

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/neutrino-os/neutrino/internal/agents"
	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/ovn/nbdb"
	"github.com/neutrino-os/neutrino/internal/ovn/sbdb"
)

// agentSource lists the OVN agents of /v2.0/agents from the SB, as ML2/OVN does: per chassis an
// "OVN Controller agent" ("OVN Controller Gateway agent" on a gateway chassis) whose id is the
// chassis name, and an "OVN Metadata agent" when the metadata agent registered itself in
// Chassis_Private.external_ids. An agent is alive while its chassis follows NB_Global.nb_cfg (at
// most one behind) or reported within agent_down_time; listing bumps nb_cfg (at most every half
// agent_down_time), which ovn-controller copies to Chassis_Private.nb_cfg.
type agentSource struct {
	d        *Driver
	mu       sync.Mutex
	lastBump time.Time
}

func (d *Driver) registerAgents() {
	agents.AddSource(d.env, &agentSource{d: d})
}

func (s *agentSource) downTime() time.Duration {
	return time.Duration(s.d.env.Config.Int("DEFAULT", "agent_down_time")) * time.Second
}

// Agents lists the chassis' agents (none while the SB is away).
func (s *agentSource) Agents(ctx context.Context) ([]api.Object, error) {
	if !s.d.sb.Connected() {
		return nil, nil
	}
	nbCfg := s.bumpNBCfg(ctx)
	var privs []sbdb.ChassisPrivate
	_ = s.d.sb.OVSDB().List(ctx, &privs)
	byName := map[string]sbdb.ChassisPrivate{}
	for _, p := range privs {
		byName[p.Name] = p
	}
	var out []api.Object
	for _, ch := range s.d.allChassis() {
		priv := byName[ch.Name]
		out = append(out, s.agent(ch, priv, nbCfg, false))
		if priv.ExternalIDs["neutron:ovn-metadata-id"] != "" {
			out = append(out, s.agent(ch, priv, nbCfg, true))
		}
	}
	return out, nil
}

// bumpNBCfg increments NB_Global.nb_cfg when the last bump is older than half agent_down_time and
// returns the value the chassis are compared with.
func (s *agentSource) bumpNBCfg(ctx context.Context) int {
	waitFirst(s.d.nb) // a just-started server: its chassis are not dead for want of an NB connection
	var globals []nbdb.NBGlobal
	if !s.d.nb.Connected() || s.d.nb.OVSDB().List(ctx, &globals) != nil || len(globals) == 0 {
		return -1
	}
	g := globals[0]
	s.mu.Lock()
	due := time.Since(s.lastBump) > s.downTime()/2
	if due {
		s.lastBump = time.Now()
	}
	s.mu.Unlock()
	if due {
		g.NbCfg++
		g.ExternalIDs = mapWith(g.ExternalIDs, "neutron:liveness_check_at", time.Now().UTC().Format("2006-01-02 15:04:05.000000+00:00"))
		if _, err := s.d.nb.Txn().Update(&g, &g.NbCfg, &g.ExternalIDs).Commit(ctx); err == nil {
			return g.NbCfg - 1 // the chassis have not seen the new value yet
		}
	}
	return g.NbCfg
}

func mapWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func chassisOption(ch sbdb.Chassis, key string) string {
	if v, ok := ch.OtherConfig[key]; ok {
		return v
	}
	return ch.ExternalIDs[key]
}

// agent is one agent of a chassis as an API object.
func (s *agentSource) agent(ch sbdb.Chassis, priv sbdb.ChassisPrivate, nbCfg int, metadata bool) api.Object {
	cms := chassisOption(ch, "ovn-cms-options")
	seen := time.UnixMilli(int64(priv.NbCfgTimestamp)).UTC()
	cfg := priv.NbCfg
	o := api.Object{"id": ch.Name, "agent_type": "OVN Controller agent", "binary": "ovn-controller",
		"description": "", "topic": "n/a", "host": ch.Hostname, "admin_state_up": true, "resources_synced": nil,
		"availability_zone": strings.Join(zones(cms), ", "), "created_at": seen.Format(time.DateTime),
		"started_at": seen.Format(time.DateTime),
		"configurations": map[string]any{"chassis_name": ch.Name, "bridge-mappings": chassisOption(ch, "ovn-bridge-mappings"),
			"datapath-type": chassisOption(ch, "datapath-type"), "iface-types": chassisOption(ch, "iface-types"),
			"ovn-cms-options": cms, "log_agent_heartbeats": false}}
	if strings.Contains(cms, "enable-chassis-as-gw") {
		o["agent_type"] = "OVN Controller Gateway agent"
	}
	if metadata {
		o["id"], o["agent_type"], o["binary"] = priv.ExternalIDs["neutron:ovn-metadata-id"], "OVN Metadata agent", "neutron-ovn-metadata-agent"
		o["configurations"] = map[string]any{"chassis_name": ch.Name, "log_agent_heartbeats": false}
		if c, ok := atoi(priv.ExternalIDs["neutron:ovn-metadata-sb-cfg"]); ok {
			cfg = c
		}
	}
	alive := nbCfg >= 0 && nbCfg-cfg <= 1 || time.Since(seen) <= s.downTime()
	o["alive"], o["heartbeat_timestamp"] = alive, seen.Format(time.DateTime)
	return o
}

// zones are the availability zones of ovn-cms-options (availability-zones=az1:az2).
func zones(cms string) []string {
	for _, opt := range strings.Split(cms, ",") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(opt), "availability-zones="); ok {
			return strings.Split(v, ":")
		}
	}
	return nil
}

func atoi(s string) (int, bool) {
	n := int(intOf(s))
	return n, s != "" && (n != 0 || s == "0")
}

// Update accepts nothing: OVN agents are the chassis' (Neutron refuses updates too, except
// description, which it does not keep either).
func (s *agentSource) Update(ctx context.Context, id string, changes api.Object) (api.Object, bool, error) {
	objs, _ := s.Agents(ctx)
	for _, o := range objs {
		if o["id"] == id {
			return o, true, nil
		}
	}
	return nil, false, nil
}

// Delete removes nothing: a chassis goes when ovn-controller goes.
func (s *agentSource) Delete(ctx context.Context, id string) (bool, error) { return false, nil }
