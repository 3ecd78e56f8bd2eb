package db

func init() {
	Register(migration17)
}

// migration17 holds the auto-allocated topologies (the auto_allocate
// plugin): one per project (the key that decides two concurrent
// allocations), gone with its network; the router reference is cleared
// when the router goes (Neutron's table).
var migration17 = Migration{Version: 17, Name: "auto-allocated topologies", Stmts: []string{
	`CREATE TABLE auto_allocated_topologies (
			project_id {str:255} NOT NULL PRIMARY KEY,
			network_id {id} NOT NULL,
			router_id {id},
			FOREIGN KEY (network_id) REFERENCES networks (id) ON DELETE CASCADE,
			FOREIGN KEY (router_id) REFERENCES routers (id) ON DELETE SET NULL
		){table}`,
	`CREATE INDEX ix_auto_allocated_topologies_network ON auto_allocated_topologies (network_id)`,
	`CREATE INDEX ix_auto_allocated_topologies_router ON auto_allocated_topologies (router_id)`,
}}
