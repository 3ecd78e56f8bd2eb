package db

func init() {
	Register(migration11)
	Register(migration12)
	Register(migration13)
	Register(migration14)
}

// migration11 holds routers (the router service plugin, internal/l3): the
// row carries Neutron's router extra attributes (distributed, ha,
// availability zone hints) and the gateway (gw_port_id, enable_snat); the
// gateway port's unique key makes two gateways for one port impossible.
var migration11 = Migration{Version: 11, Name: "routers", Stmts: []string{
	`CREATE TABLE routers (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			admin_state_up {bool} NOT NULL,
			status {str:16} NOT NULL,
			gw_port_id {id},
			enable_snat {bool} NOT NULL,
			flavor_id {id},
			distributed {bool} NOT NULL,
			ha {bool} NOT NULL,
			ha_vr_id {int} NOT NULL DEFAULT 0,
			availability_zone_hints {text},
			UNIQUE (gw_port_id)
		){table}`,
	`CREATE INDEX ix_routers_project_id ON routers (project_id)`,
}}

// migration12 holds the router ports (Neutron's routerports): every port a
// router owns (gateway, interfaces, SNAT), the port is the key so that a
// port belongs to one router at most.
var migration12 = Migration{Version: 12, Name: "router ports", Stmts: []string{
	`CREATE TABLE routerports (
			port_id {id} NOT NULL PRIMARY KEY,
			router_id {id} NOT NULL,
			port_type {str:255} NOT NULL,
			FOREIGN KEY (router_id) REFERENCES routers (id) ON DELETE CASCADE,
			FOREIGN KEY (port_id) REFERENCES ports (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_routerports_router_id ON routerports (router_id, port_type)`,
}}

// migration13 holds the extra routes of routers (extraroute).
var migration13 = Migration{Version: 13, Name: "router extra routes", Stmts: []string{
	`CREATE TABLE routerroutes (
			router_id {id} NOT NULL,
			destination {str:64} NOT NULL,
			nexthop {str:64} NOT NULL,
			PRIMARY KEY (router_id, destination, nexthop),
			FOREIGN KEY (router_id) REFERENCES routers (id) ON DELETE CASCADE
		){table}`,
}}

// migration14 holds floating IPs: one per floating port (its key), and one
// per (external network, fixed port, fixed address), the key that decides
// the race Neutron's FloatingIPPortAlreadyAssociated check leaves open.
var migration14 = Migration{Version: 14, Name: "floating ips", Stmts: []string{
	`CREATE TABLE floatingips (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			floating_ip_address {str:64} NOT NULL,
			floating_network_id {id} NOT NULL,
			floating_port_id {id} NOT NULL,
			fixed_port_id {id},
			fixed_ip_address {str:64},
			router_id {id},
			status {str:16},
			dns_name {str:255} NOT NULL DEFAULT '',
			dns_domain {str:255} NOT NULL DEFAULT '',
			UNIQUE (floating_port_id),
			UNIQUE (floating_network_id, fixed_port_id, fixed_ip_address),
			FOREIGN KEY (floating_port_id) REFERENCES ports (id) ON DELETE CASCADE,
			FOREIGN KEY (router_id) REFERENCES routers (id)
		){table}`,
	`CREATE INDEX ix_floatingips_project_id ON floatingips (project_id)`,
	`CREATE INDEX ix_floatingips_fixed_port_id ON floatingips (fixed_port_id)`,
	`CREATE INDEX ix_floatingips_router_id ON floatingips (router_id)`,
}}
