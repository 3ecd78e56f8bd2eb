// Package ovn connects neutrino to OVN's Northbound and Southbound databases, the way Neutron's
// ML2/OVN driver does through its [ovn] options (ovn_nb_connection, ovn_sb_connection with tcp:,
// unix: and ssl: remotes, ovsdb_connection_timeout, ovsdb_retry_max_interval, ovsdb_probe_interval).
//
// A Client keeps one database connected (dial, backoff, monitors, probes, reconnection) and keeps
// the rows of the tables the OVN mechanism driver reads in libovsdb's cache; Transact and Txn write.
// The typed models are generated into the nbdb and sbdb packages from the OVN 23.03 schemas.
//
// testdata/ holds what the driver is written against: golden NB rows recorded from the real
// Neutron (Zed) ML2/OVN driver for a fixed scenario of API calls, and a description of them
// (testdata/ML2-OVN-NB.md). scripts/harness/ovn-lab.sh starts the OVN lab the tests use.
package ovn
