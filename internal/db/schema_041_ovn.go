package db

func init() {
	Register(Migration{Version: 41, Name: "ovn revision numbers and maintenance lease", Stmts: []string{
		// ovn_revision_numbers: the revision of each resource last written to the OVN Northbound
		// database (Neutron's table of the same name): -1 until the first write succeeds. The
		// maintenance task repairs resources whose row lags behind their revision_number, and
		// deletes from the NB the resources whose row outlived them. updated_at is Unix seconds.
		`CREATE TABLE ovn_revision_numbers (
			resource_uuid {id} NOT NULL,
			resource_type {str:36} NOT NULL,
			revision_number {bigint} NOT NULL DEFAULT -1,
			updated_at {bigint} NOT NULL,
			PRIMARY KEY (resource_uuid, resource_type)
		){table}`,
		// ovn_leases: a lease one neutrino process holds at a time (the maintenance task and port
		// status writes), until expires_at (Unix seconds) unless renewed.
		`CREATE TABLE ovn_leases (
			name {str:64} NOT NULL,
			holder {str:64} NOT NULL,
			expires_at {bigint} NOT NULL,
			PRIMARY KEY (name)
		){table}`,
	}})
}
