package db

func init() {
	Register(migration16)
}

// migration16 holds floating IP port forwardings (the port_forwarding
// service plugin), Neutron's portforwardings table with the standard
// attributes in the row; its unique keys are Neutron's (one forwarding per
// floating IP, protocol and external range; per internal socket and
// range).
var migration16 = Migration{Version: 16, Name: "port forwardings", Stmts: []string{
	`CREATE TABLE portforwardings (
			id {id} NOT NULL PRIMARY KEY,
			floatingip_id {id} NOT NULL,
			internal_neutron_port_id {id} NOT NULL,
			protocol {str:40} NOT NULL,
			internal_ip_address {str:64} NOT NULL,
			internal_port_start {int} NOT NULL,
			internal_port_end {int} NOT NULL,
			external_port_start {int} NOT NULL,
			external_port_end {int} NOT NULL,
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			UNIQUE (floatingip_id, protocol, external_port_start, external_port_end),
			UNIQUE (protocol, internal_neutron_port_id, internal_ip_address, internal_port_start, internal_port_end),
			FOREIGN KEY (floatingip_id) REFERENCES floatingips (id) ON DELETE CASCADE,
			FOREIGN KEY (internal_neutron_port_id) REFERENCES ports (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_portforwardings_port ON portforwardings (internal_neutron_port_id)`,
}}
