// Package mechovn is the `ovn` ML2 mechanism driver: it binds ports for OVN chassis and writes
// networks, subnets, ports and security groups into the OVN Northbound database as Neutron's
// ML2/OVN driver does (the rows are described in internal/ovn/testdata/ML2-OVN-NB.md and compared
// with the reference's goldens in the tests).
//
// Every write happens after the SQL commit (the *_postcommit calls and AFTER events) and is one
// idempotent "make the NB rows of this resource what they should be" step (sync*), so the same code
// serves the API path, the maintenance task that repairs lost or failed writes (maintenance.go,
// driven by the ovn_revision_numbers table as in Neutron) and `neutrino ovn-db-sync` (dbsync.go).
// A port's status follows its Logical_Switch_Port's `up` column (status.go). Among several neutrino
// processes, one holds the maintenance lease (a database row): it alone runs the maintenance task
// and writes port statuses, so nothing is written twice.
package mechovn
