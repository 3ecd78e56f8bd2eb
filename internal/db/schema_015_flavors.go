package db

func init() {
	Register(migration15)
}

// migration15 holds flavors, service profiles and their bindings (the
// flavors service plugin, Neutron's flavors, serviceprofiles and
// flavorserviceprofilebindings tables); a binding goes with its flavor
// or profile. providerresourceassociations maps a router to its L3
// provider (Neutron's service type manager keeps it the same way).
var migration15 = Migration{Version: 15, Name: "flavors and service profiles", Stmts: []string{
	`CREATE TABLE flavors (
			id {id} NOT NULL PRIMARY KEY,
			name {str:255},
			description {str:1024},
			enabled {bool} NOT NULL,
			service_type {str:36}
		){table}`,
	`CREATE TABLE serviceprofiles (
			id {id} NOT NULL PRIMARY KEY,
			description {str:1024},
			driver {str:1024} NOT NULL,
			enabled {bool} NOT NULL,
			metainfo {str:4096}
		){table}`,
	`CREATE TABLE flavorserviceprofilebindings (
			service_profile_id {id} NOT NULL,
			flavor_id {id} NOT NULL,
			PRIMARY KEY (service_profile_id, flavor_id),
			FOREIGN KEY (service_profile_id) REFERENCES serviceprofiles (id) ON DELETE CASCADE,
			FOREIGN KEY (flavor_id) REFERENCES flavors (id) ON DELETE CASCADE
		){table}`,
	`CREATE INDEX ix_flavorserviceprofilebindings_flavor ON flavorserviceprofilebindings (flavor_id)`,
	`CREATE TABLE providerresourceassociations (
			provider_name {str:255} NOT NULL,
			resource_id {id} NOT NULL PRIMARY KEY
		){table}`,
}}
