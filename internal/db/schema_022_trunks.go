package db

func init() {
	Register(migration22)
}

// migration22 holds trunks (the trunk service plugin): one trunk per
// parent port, one trunk per sub-port (the sub-port's port is the key) and
// one sub-port per segmentation (type, id) on a trunk; these keys decide
// the races Neutron's validators leave open.
var migration22 = Migration{Version: 22, Name: "trunks and sub-ports", Stmts: []string{
	`CREATE TABLE trunks (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			admin_state_up {bool} NOT NULL,
			status {str:16} NOT NULL,
			port_id {id} NOT NULL,
			UNIQUE (port_id),
			FOREIGN KEY (port_id) REFERENCES ports (id)
		){table}`,
	`CREATE INDEX ix_trunks_project_id ON trunks (project_id)`,
	`CREATE TABLE subports (
			port_id {id} NOT NULL PRIMARY KEY,
			trunk_id {id} NOT NULL,
			segmentation_type {str:32} NOT NULL,
			segmentation_id {int} NOT NULL,
			UNIQUE (trunk_id, segmentation_type, segmentation_id),
			FOREIGN KEY (trunk_id) REFERENCES trunks (id) ON DELETE CASCADE,
			FOREIGN KEY (port_id) REFERENCES ports (id)
		){table}`,
}}
