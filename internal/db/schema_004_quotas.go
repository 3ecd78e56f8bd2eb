package db

func init() {
	Register(Migration{Version: 4, Name: "quotas", Stmts: []string{
		`CREATE TABLE quotas (
			project_id {str:255} NOT NULL,
			resource {str:255} NOT NULL,
			hard_limit {bigint} NOT NULL,
			PRIMARY KEY (project_id, resource)
		){table}`,
		// One row per (project, resource) that creates lock while they
		// count, so concurrent creates (also from other processes) see
		// each other's rows.
		`CREATE TABLE quota_usages (
			project_id {str:255} NOT NULL,
			resource {str:255} NOT NULL,
			PRIMARY KEY (project_id, resource)
		){table}`,
	}})
}
