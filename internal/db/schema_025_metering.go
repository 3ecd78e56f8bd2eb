package db

func init() {
	Register(migration25)
}

// migration25 holds metering labels and their rules (the metering service
// plugin); a label's rules go with it.
var migration25 = Migration{Version: 25, Name: "metering labels and rules", Stmts: []string{
	`CREATE TABLE meteringlabels (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:1024} NOT NULL DEFAULT '',
			shared {bool} NOT NULL
		){table}`,
	`CREATE INDEX ix_meteringlabels_project_id ON meteringlabels (project_id)`,
	`CREATE TABLE meteringlabelrules (
			id {id} NOT NULL PRIMARY KEY,
			metering_label_id {id} NOT NULL,
			direction {str:16} NOT NULL,
			remote_ip_prefix {str:64},
			source_ip_prefix {str:64},
			destination_ip_prefix {str:64},
			excluded {bool} NOT NULL,
			FOREIGN KEY (metering_label_id) REFERENCES meteringlabels (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_meteringlabelrules_label ON meteringlabelrules (metering_label_id)`,
}}
