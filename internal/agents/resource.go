package agents

import (
	"context"
	"slices"
	"time"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/az"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/ml2"
	"github.com/neutrino-os/neutrino/internal/nerr"
	"github.com/neutrino-os/neutrino/internal/plugin"
	"github.com/neutrino-os/neutrino/internal/store"
)

func init() {
	// before availability_zones (50), which reads the zone source
	ml2.RegisterComponent(ml2.Component{Name: "agents", Order: 45, Setup: setup})
}

// Agent types Neutron's agents report (neutron_lib.constants).
const (
	TypeOVS      = "Open vSwitch agent"
	TypeDHCP     = "DHCP agent"
	TypeL3       = "L3 agent"
	TypeMetadata = "Metadata agent"
)

func notFound(id string) error {
	return nerr.NotFound("AgentNotFound", "Agent %s could not be found.", id)
}

// Resource is the agent resource (agent, availability_zone and
// agent-resources-synced attributes).
func Resource() *api.Resource {
	ro := func(name string, filter bool) *api.Attribute {
		return &api.Attribute{Name: name, Visible: true, IsFilter: filter}
	}
	admin := &api.Attribute{Name: "admin_state_up", AllowPut: true, Convert: api.ToBool, Visible: true, IsFilter: true}
	alive := &api.Attribute{Name: "alive", ConvertFilter: api.ToBool, Visible: true, IsFilter: true}
	descr := &api.Attribute{Name: "description", AllowPut: true, Validate: api.StringOrNone(255), Visible: true, IsFilter: true}
	id := api.IDAttr()
	id.IsSortKey, id.PrimaryKey = false, false // as Neutron's map (no sort keys at all)
	return &api.Resource{ExtensionController: true, Extension: "agent", Name: "agent", Collection: "agents",
		NoCreate: true, NotFound: notFound,
		Attrs: []*api.Attribute{id, ro("agent_type", true), ro("binary", true), ro("topic", true), ro("host", true),
			admin, ro("created_at", false), ro("started_at", false), ro("heartbeat_timestamp", false), alive,
			ro("configurations", false), descr, ro("availability_zone", true), ro("resources_synced", false)}}
}

// table is the agents table behind the resource.
func table(env *plugin.Env, res *api.Resource, k *Keeper) *store.Table {
	t := &store.Table{Name: "agents", Res: res, DB: env.DB, NoScope: true, Event: "agent",
		Cols: []store.Column{{Attr: "id"}, {Attr: "agent_type"}, {Attr: "binary", Name: "agent_binary"}, {Attr: "topic"},
			{Attr: "host"}, {Attr: "admin_state_up", Kind: store.Bool}, {Attr: "created_at"}, {Attr: "started_at"},
			{Attr: "heartbeat_timestamp"}, {Attr: "configurations", Kind: store.JSON, Null: map[string]any{}},
			{Attr: "description"}, {Attr: "availability_zone"}, {Attr: "resources_synced", Kind: store.Bool}},
		Filters: map[string]store.FilterFunc{"alive": k.aliveFilter}}
	t.AddHooks(store.Hooks{Load: func(_ context.Context, _ db.Querier, objs []api.Object) error {
		for _, o := range objs {
			k.present(o)
		}
		return nil
	}})
	return t
}

// aliveFilter is the alive filter: heartbeats within agent_down_time.
func (k *Keeper) aliveFilter(_ context.Context, values []any) (string, []any) {
	cutoff := stamp(k.now().Add(-k.downTime()))
	want := map[bool]bool{}
	for _, v := range values {
		b, _ := v.(bool)
		want[b] = true
	}
	switch {
	case want[true] && want[false]:
		return "1 = 1", nil
	case want[true]:
		return "t.heartbeat_timestamp >= ?", []any{cutoff}
	}
	return "t.heartbeat_timestamp < ?", []any{cutoff}
}

// present turns a row into the API's agent: alive computed, timestamps as
// Neutron prints the agents' datetimes.
func (k *Keeper) present(o api.Object) {
	hb, _ := o["heartbeat_timestamp"].(string)
	o["alive"] = k.aliveAt(hb)
	for _, f := range []string{"created_at", "started_at", "heartbeat_timestamp"} {
		if s, ok := o[f].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				o[f] = t.UTC().Format(time.DateTime)
			}
		}
	}
}

func setup(env *plugin.Env, p *ml2.Plugin) error {
	k := &Keeper{env: env}
	res := Resource()
	if !p.Offers("agent-resources-synced") { // ML2/OVN: no resources_synced attribute
		res.Attrs = slices.DeleteFunc(res.Attrs, func(a *api.Attribute) bool { return a.Name == "resources_synced" })
	}
	k.table = table(env, res, k)
	res.Backend = backend{k}
	env.AddResource(res, k.table)
	env.Set(keeperKey{}, k)
	az.SetSource(env, zoneSource{k})
	env.AddExtensions("agent", "agent-resources-synced")
	setupScheduling(env, k, res, p.Offers("dhcp_agent_scheduler"))
	return nil
}
