package db

func init() {
	Register(migration51)
}

// migration51 holds the agents (Neutron's agents table: one row per agent
// type and host, kept by report_state; binary and load are agent_binary
// and agent_load, both reserved words in MySQL) and what the schedulers gave them:
// networks hosted by DHCP agents and routers by L3 agents.
var migration51 = Migration{Version: 51, Name: "agents and their scheduling", Stmts: []string{
	`CREATE TABLE agents (
			id {id} NOT NULL PRIMARY KEY,
			agent_type {str:255} NOT NULL,
			agent_binary {str:255} NOT NULL,
			topic {str:255} NOT NULL,
			host {str:255} NOT NULL,
			availability_zone {str:255},
			admin_state_up {bool} NOT NULL,
			created_at {ts} NOT NULL,
			started_at {ts} NOT NULL,
			heartbeat_timestamp {ts} NOT NULL,
			description {str:255},
			configurations {text} NOT NULL,
			resource_versions {text},
			agent_load {int} NOT NULL DEFAULT 0,
			resources_synced {bool},
			UNIQUE (agent_type, host)
		){table}`,
	`CREATE TABLE networkdhcpagentbindings (
			network_id {id} NOT NULL,
			dhcp_agent_id {id} NOT NULL,
			PRIMARY KEY (network_id, dhcp_agent_id),
			FOREIGN KEY (network_id) REFERENCES networks (id) ON DELETE CASCADE,
			FOREIGN KEY (dhcp_agent_id) REFERENCES agents (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_networkdhcpagentbindings_agent ON networkdhcpagentbindings (dhcp_agent_id)`,
	`CREATE TABLE routerl3agentbindings (
			router_id {id} NOT NULL,
			l3_agent_id {id} NOT NULL,
			binding_index {int} NOT NULL DEFAULT 1,
			PRIMARY KEY (router_id, l3_agent_id),
			FOREIGN KEY (l3_agent_id) REFERENCES agents (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_routerl3agentbindings_agent ON routerl3agentbindings (l3_agent_id)`,
}}
