package db

func init() {
	Register(migration24)
}

// migration24 holds address groups (Neutron's address-group extension):
// the groups and their addresses, stored as networks (the key decides
// that an address is in a group once).
var migration24 = Migration{Version: 24, Name: "address groups", Stmts: []string{
	`CREATE TABLE address_groups (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:1024} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0
		){table}`,
	`CREATE INDEX ix_address_groups_project_id ON address_groups (project_id)`,
	`CREATE TABLE address_associations (
			address {str:64} NOT NULL,
			address_group_id {id} NOT NULL,
			PRIMARY KEY (address, address_group_id),
			FOREIGN KEY (address_group_id) REFERENCES address_groups (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_address_associations_group ON address_associations (address_group_id)`,
}}
