package agents

import "github.com/neutrino-os/neutrino/internal/config"

func init() {
	config.Register(
		&config.Option{Name: "agent_down_time", Type: config.Int, Default: "75",
			Help: "Seconds after the last state report when an agent is considered down (alive false); at least twice the agents' report_interval."},
		&config.Option{Name: "enable_new_agents", Type: config.Bool, Default: "true",
			Help: "Agents registered by their first state report start with admin_state_up = this; false keeps new agents out of scheduling until an admin enables them."},
		&config.Option{Name: "enable_services_on_agents_with_admin_state_down", Type: config.Bool, Default: "false",
			Help: "Agents with admin_state_up false may still be given networks and routers by the agent scheduler APIs."},
	)
}
