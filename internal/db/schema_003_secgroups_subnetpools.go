package db

func init() {
	Register(migration3)
}

// migration3 holds security groups and their rules, the per-project default
// group, port bindings, address scopes and subnet pools.
//
// default_security_group has the project as primary key: it is the lock
// that makes the creation of a project's default group happen once, however
// many requests (or neutrino processes) race for it. subnetpools.
// default_version is the ip_version of a default pool and NULL otherwise,
// so that its unique key allows one default pool per IP version.
var migration3 = Migration{Version: 3, Name: "security groups, address scopes, subnet pools", Stmts: []string{
	`CREATE TABLE securitygroups (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255},
			description {str:255},
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			stateful {bool} NOT NULL
		){table}`,
	`CREATE INDEX ix_securitygroups_project_id ON securitygroups (project_id)`,
	`CREATE TABLE default_security_group (
			project_id {str:255} NOT NULL PRIMARY KEY,
			security_group_id {id} NOT NULL
		){table}`,
	`CREATE TABLE securitygrouprules (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			security_group_id {id} NOT NULL,
			remote_group_id {id},
			remote_address_group_id {id},
			direction {str:16},
			ethertype {str:40},
			protocol {str:40},
			port_range_min {int},
			port_range_max {int},
			remote_ip_prefix {str:255},
			description {str:255},
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			standard_attr_id {bigint},
			FOREIGN KEY (security_group_id) REFERENCES securitygroups (id) ON DELETE CASCADE,
			FOREIGN KEY (remote_group_id) REFERENCES securitygroups (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_securitygrouprules_security_group_id ON securitygrouprules (security_group_id)`,
	`CREATE INDEX ix_securitygrouprules_remote_group_id ON securitygrouprules (remote_group_id)`,
	`CREATE INDEX ix_securitygrouprules_project_id ON securitygrouprules (project_id)`,
	`CREATE TABLE securitygroupportbindings (
			port_id {id} NOT NULL,
			security_group_id {id} NOT NULL,
			PRIMARY KEY (port_id, security_group_id),
			FOREIGN KEY (security_group_id) REFERENCES securitygroups (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_securitygroupportbindings_sg ON securitygroupportbindings (security_group_id)`,
	`CREATE TABLE address_scopes (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			ip_version {int} NOT NULL
		){table}`,
	`CREATE INDEX ix_address_scopes_project_id ON address_scopes (project_id)`,
	`CREATE TABLE subnetpools (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255},
			description {str:255},
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			ip_version {int} NOT NULL,
			default_prefixlen {int} NOT NULL,
			min_prefixlen {int} NOT NULL,
			max_prefixlen {int} NOT NULL,
			default_quota {int},
			is_default {bool} NOT NULL,
			default_version {int},
			address_scope_id {id},
			UNIQUE (default_version),
			FOREIGN KEY (address_scope_id) REFERENCES address_scopes (id)
		){table}`,
	`CREATE INDEX ix_subnetpools_project_id ON subnetpools (project_id)`,
	`CREATE INDEX ix_subnetpools_address_scope_id ON subnetpools (address_scope_id)`,
	`CREATE TABLE subnetpoolprefixes (
			subnetpool_id {id} NOT NULL,
			cidr {str:64} NOT NULL,
			PRIMARY KEY (subnetpool_id, cidr),
			FOREIGN KEY (subnetpool_id) REFERENCES subnetpools (id) ON DELETE CASCADE
		){table}`,
}}
