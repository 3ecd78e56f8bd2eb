package db

func init() {
	Register(migration23)
}

// migration23 serves the segments service plugin: a segment's description
// as its standard attribute (NULL for the segments ML2 makes, which Neutron
// shows as null; network_segments.description stays ”), and the hosts
// each segment reaches (Neutron's segmenthostmappings, filled from agents'
// bridge mappings).
var migration23 = Migration{Version: 23, Name: "segments: standard description, host mappings", Stmts: []string{
	`ALTER TABLE network_segments ADD COLUMN std_description {str:255}`,
	`CREATE TABLE segmenthostmappings (
			segment_id {id} NOT NULL,
			host {str:255} NOT NULL,
			PRIMARY KEY (segment_id, host),
			FOREIGN KEY (segment_id) REFERENCES network_segments (id) ON DELETE CASCADE
		){table}`,
}}
