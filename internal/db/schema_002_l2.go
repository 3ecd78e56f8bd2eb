package db

func init() {
	Register(migration2)
}

// migration2 holds the core L2 tables: subnets (with their pools, DNS
// servers, host routes and service types), ports (with bindings; their
// fixed IPs, address pairs and extra DHCP options are kept as JSON in the
// row, so that reading ports needs no child query) and IP allocations (the
// source of truth for addresses: unique per subnet).
var migration2 = Migration{Version: 2, Name: "subnets, ports, ip allocations", Stmts: []string{
	`CREATE TABLE subnets (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			network_id {id} NOT NULL,
			segment_id {id},
			subnetpool_id {str:36},
			ip_version {int} NOT NULL,
			cidr {str:64} NOT NULL,
			gateway_ip {str:64},
			enable_dhcp {bool} NOT NULL,
			ipv6_ra_mode {str:16},
			ipv6_address_mode {str:16},
			FOREIGN KEY (network_id) REFERENCES networks (id)
		){table}`,
	`CREATE INDEX ix_subnets_network_id ON subnets (network_id)`,
	`CREATE INDEX ix_subnets_project_id ON subnets (project_id)`,
	`CREATE INDEX ix_subnets_subnetpool_id ON subnets (subnetpool_id)`,
	`CREATE TABLE ipallocationpools (
			subnet_id {id} NOT NULL,
			first_ip {str:64} NOT NULL,
			last_ip {str:64} NOT NULL,
			ord {int} NOT NULL DEFAULT 0,
			PRIMARY KEY (subnet_id, first_ip),
			FOREIGN KEY (subnet_id) REFERENCES subnets (id) ON DELETE CASCADE
		){table}`,
	`CREATE TABLE dnsnameservers (
			subnet_id {id} NOT NULL,
			address {str:128} NOT NULL,
			ord {int} NOT NULL,
			PRIMARY KEY (subnet_id, address),
			FOREIGN KEY (subnet_id) REFERENCES subnets (id) ON DELETE CASCADE
		){table}`,
	`CREATE TABLE subnetroutes (
			subnet_id {id} NOT NULL,
			destination {str:64} NOT NULL,
			nexthop {str:64} NOT NULL,
			PRIMARY KEY (subnet_id, destination, nexthop),
			FOREIGN KEY (subnet_id) REFERENCES subnets (id) ON DELETE CASCADE
		){table}`,
	`CREATE TABLE subnet_service_types (
			subnet_id {id} NOT NULL,
			service_type {str:255} NOT NULL,
			PRIMARY KEY (subnet_id, service_type),
			FOREIGN KEY (subnet_id) REFERENCES subnets (id) ON DELETE CASCADE
		){table}`,
	`CREATE TABLE ports (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			network_id {id} NOT NULL,
			mac_address {str:32} NOT NULL,
			admin_state_up {bool} NOT NULL,
			status {str:16} NOT NULL,
			device_id {str:255} NOT NULL DEFAULT '',
			device_owner {str:255} NOT NULL DEFAULT '',
			ip_allocation {str:16},
			port_security_enabled {bool},
			dns_name {str:255} NOT NULL DEFAULT '',
			binding_host_id {str:255} NOT NULL DEFAULT '',
			binding_vnic_type {str:64} NOT NULL DEFAULT 'normal',
			binding_profile {text},
			binding_vif_type {str:64} NOT NULL DEFAULT 'unbound',
			binding_vif_details {text},
			numa_affinity_policy {str:16},
			device_profile {str:255},
			fixed_ips {text},
			allowed_address_pairs {text},
			extra_dhcp_opts {text},
			FOREIGN KEY (network_id) REFERENCES networks (id)
		){table}`,
	`CREATE INDEX ix_ports_network_id ON ports (network_id, id)`,
	// port_macs decides MAC races: one row per (network, normalized MAC)
	`CREATE TABLE port_macs (
			network_id {id} NOT NULL,
			mac_address {str:32} NOT NULL,
			port_id {id} NOT NULL,
			PRIMARY KEY (network_id, mac_address)
		){table}`,
	`CREATE INDEX ix_ports_project_id ON ports (project_id)`,
	`CREATE INDEX ix_ports_device_id ON ports (device_id)`,
	`CREATE INDEX ix_ports_network_id_device_owner ON ports (network_id, device_owner)`,
	`CREATE TABLE ipallocations (
			port_id {id} NOT NULL,
			ip_address {str:64} NOT NULL,
			subnet_id {id} NOT NULL,
			network_id {id} NOT NULL,
			ip_offset {bigint},
			PRIMARY KEY (subnet_id, ip_address),
			FOREIGN KEY (subnet_id) REFERENCES subnets (id)
		){table}`,
	`CREATE INDEX ix_ipallocations_port_id ON ipallocations (port_id)`,
	`CREATE INDEX ix_ipallocations_subnet_offset ON ipallocations (subnet_id, ip_offset)`,
	`CREATE INDEX ix_ipallocations_ip_address ON ipallocations (ip_address)`,
}}
