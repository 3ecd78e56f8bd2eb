package db

func init() {
	Register(Migration{Version: 5, Name: "ml2 port binding levels", Stmts: []string{
		// ml2_port_binding_levels: which driver bound a port to which
		// segment on which host (one row per level).
		`CREATE TABLE ml2_port_binding_levels (
			port_id {id} NOT NULL,
			host {str:255} NOT NULL,
			level {int} NOT NULL,
			driver {str:64},
			segment_id {id},
			PRIMARY KEY (port_id, host, level)
		){table}`,
	}})
}
