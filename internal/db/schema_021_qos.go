package db

func init() {
	Register(migration21)
}

// migration21 holds QoS (the qos service plugin): policies, one table per
// rule type (unique keys decide what Neutron's QoSRulesConflict checks:
// one rule per direction, one DSCP rule per policy), the per-project
// default policy (the project is the key, so two defaults cannot race in)
// and the ports' policy bindings (a network's binding is its
// qos_policy_id column).
var migration21 = Migration{Version: 21, Name: "qos policies, rules, bindings", Stmts: []string{
	`CREATE TABLE qos_policies (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0
		){table}`,
	`CREATE INDEX ix_qos_policies_project_id ON qos_policies (project_id)`,
	`CREATE TABLE qos_policies_default (
			project_id {str:255} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL
		){table}`,
	`CREATE INDEX ix_qos_policies_default_policy ON qos_policies_default (qos_policy_id)`,
	`CREATE TABLE qos_bandwidth_limit_rules (
			id {id} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL,
			max_kbps {int},
			max_burst_kbps {int},
			direction {str:16} NOT NULL DEFAULT 'egress',
			UNIQUE (qos_policy_id, direction)
		){table}`,
	`CREATE TABLE qos_dscp_marking_rules (
			id {id} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL,
			dscp_mark {int},
			UNIQUE (qos_policy_id)
		){table}`,
	`CREATE TABLE qos_minimum_bandwidth_rules (
			id {id} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL,
			min_kbps {int},
			direction {str:16} NOT NULL DEFAULT 'egress',
			UNIQUE (qos_policy_id, direction)
		){table}`,
	`CREATE TABLE qos_minimum_packet_rate_rules (
			id {id} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL,
			min_kpps {int},
			direction {str:16} NOT NULL DEFAULT 'egress',
			UNIQUE (qos_policy_id, direction)
		){table}`,
	`CREATE TABLE qos_packet_rate_limit_rules (
			id {id} NOT NULL PRIMARY KEY,
			qos_policy_id {id} NOT NULL,
			max_kpps {int},
			max_burst_kpps {int},
			direction {str:16} NOT NULL DEFAULT 'egress',
			UNIQUE (qos_policy_id, direction)
		){table}`,
	`CREATE TABLE qos_port_policy_bindings (
			port_id {id} NOT NULL PRIMARY KEY,
			policy_id {id} NOT NULL,
			FOREIGN KEY (port_id) REFERENCES ports (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_qos_port_policy_bindings_policy ON qos_port_policy_bindings (policy_id)`,
	`CREATE INDEX ix_networks_qos_policy_id ON networks (qos_policy_id)`,
}}
