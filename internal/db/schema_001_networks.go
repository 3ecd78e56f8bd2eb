package db

import (
	"fmt"

	"github.com/neutrino-os/neutrino/internal/registry"
)

// Register adds a schema migration to the registry (namespace
// registry.Migrations); each feature's tables live in their own
// schema_NNN_*.go file. Versions must be unique (a duplicate panics).
// Version ranges: 1-10 L2 core, 11-20 L3, 21-40 service plugins, 41-50
// OVN, 51-60 RPC and agents; a database may have applied a later range
// before an earlier version exists, so Migrate applies every version it
// has not recorded, in order.
func Register(m Migration) {
	registry.Register(registry.Module{ID: fmt.Sprintf("%s.%04d", registry.Migrations, m.Version), Order: m.Version,
		New: func() Migration { return m }})
}

// Schema is neutrino's schema history, oldest first. Never edit a released
// migration; register a new one.
func Schema() []Migration {
	var out []Migration
	for _, mod := range registry.Modules(registry.Migrations) {
		out = append(out, mod.New.(func() Migration)())
	}
	return out
}

// Head is the newest schema version.
func Head() int {
	s := Schema()
	return s[len(s)-1].Version
}

func init() {
	Register(migration1)
}

var migration1 = Migration{Version: 1, Name: "networks, segments, tags, rbac", Stmts: []string{
	`CREATE TABLE networks (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			name {str:255} NOT NULL DEFAULT '',
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			admin_state_up {bool} NOT NULL,
			status {str:16} NOT NULL,
			mtu {int} NOT NULL,
			port_security_enabled {bool} NOT NULL,
			dns_domain {str:255} NOT NULL DEFAULT '',
			router_external {bool} NOT NULL,
			is_default {bool} NOT NULL,
			availability_zone_hints {text},
			qos_policy_id {id}
		){table}`,
	`CREATE INDEX ix_networks_project_id ON networks (project_id)`,
	`CREATE INDEX ix_networks_name ON networks (name)`,
	`CREATE TABLE network_segments (
			id {id} NOT NULL PRIMARY KEY,
			network_id {id} NOT NULL,
			project_id {str:255},
			name {str:255},
			description {str:255} NOT NULL DEFAULT '',
			created_at {ts}, updated_at {ts},
			revision_number {bigint} NOT NULL DEFAULT 0,
			network_type {str:32} NOT NULL,
			physical_network {str:64},
			segmentation_id {int},
			segment_index {int} NOT NULL DEFAULT 0,
			is_dynamic {bool} NOT NULL,
			FOREIGN KEY (network_id) REFERENCES networks (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_network_segments_network_id ON network_segments (network_id)`,
	`CREATE TABLE segment_allocations (
			network_type {str:32} NOT NULL,
			physical_network {str:64} NOT NULL,
			segmentation_id {int} NOT NULL,
			segment_id {id},
			PRIMARY KEY (network_type, physical_network, segmentation_id)
		){table}`,
	`CREATE TABLE tags (
			resource_id {id} NOT NULL,
			tag {str:255} NOT NULL,
			PRIMARY KEY (resource_id, tag)
		){table}`,
	`CREATE INDEX ix_tags_tag ON tags (tag)`,
	`CREATE TABLE rbac_policies (
			id {id} NOT NULL PRIMARY KEY,
			project_id {str:255},
			object_type {str:32} NOT NULL,
			object_id {id} NOT NULL,
			target_project {str:255} NOT NULL,
			action {str:64} NOT NULL,
			UNIQUE (object_type, object_id, target_project, action)
		){table}`,
	`CREATE INDEX ix_rbac_policies_object_id ON rbac_policies (object_id)`,
	`CREATE INDEX ix_rbac_policies_target ON rbac_policies (target_project)`,
}}
